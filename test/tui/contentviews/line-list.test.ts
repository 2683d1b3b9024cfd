import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { JoinedLines, PackedLines, lineArray, lineText, lineTextAt, lineUnitsAt, renderContent, searchLines, type Line } from "../../../src/tui/contentviews/index.ts";

/** Line n of a test list: some empty, some unstyled, some with several styled segments. */
function lineFor(n: number): Line {
  if (n % 7 === 0) return [];
  if (n % 3 === 0) return [{ text: `plain ${n}` }];
  return [{ text: "  " }, { text: `"k${n}"`, style: "key" }, { text: ": ", style: "punct" }, { text: String(n * 1.5), style: "number" }, { text: "é😀" }];
}

test("PackedLines gives back every line with its segments and styles, across chunk boundaries and in its unpacked tail", () => {
  const packed = new PackedLines();
  const count = 4096 * 2 + 17;
  for (let n = 0; n < count; n++) packed.push(lineFor(n));
  assert.equal(packed.length, count);
  for (const n of [0, 1, 3, 4095, 4096, 4097, 8191, 8192, count - 1]) {
    assert.deepEqual(packed.at(n), lineFor(n), `line ${n}`);
    assert.equal(lineTextAt(packed, n), lineText(lineFor(n)), `text of line ${n}`);
    assert.equal(lineUnitsAt(packed, n), lineText(lineFor(n)).length, `length of line ${n}`);
  }
  assert.equal(packed.at(count), undefined);
  assert.equal(packed.at(-1), undefined);
  assert.deepEqual(lineArray(packed), Array.from({ length: count }, (_, n) => lineFor(n)));
  // A row drawn again is the same object, so the view's memoized rows are not drawn anew.
  assert.equal(packed.at(5000), packed.at(5000));
  assert.equal(searchLines(packed, "K8000", 0), 8000);
});

test("JoinedLines reads its parts end to end without copying them", () => {
  const body = new PackedLines();
  for (let n = 1; n <= 5000; n++) body.push(lineFor(n));
  const head: Line[] = [[{ text: "HTTP/1.1 200 OK", style: "heading" }], []];
  const joined = new JoinedLines([head, [], body, [[{ text: "[cut]", style: "dim" }]]]);
  assert.equal(joined.length, 2 + 5000 + 1);
  assert.equal(joined.at(0), head[0]);
  assert.deepEqual(joined.at(2), lineFor(1));
  assert.deepEqual(joined.at(5001), lineFor(5000));
  assert.equal(lineTextAt(joined, 5002), "[cut]");
  assert.equal(lineTextAt(joined, 5003), "");
  assert.equal(joined.at(5003), undefined);
  assert.equal(lineUnitsAt(joined, 0), "HTTP/1.1 200 OK".length);
});

test("a JSON body shown whole holds a fraction of the memory its lines as objects took", () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const items = Array.from({ length: 65_000 }, (_, i) => ({ id: i, name: `item number ${i}`, tags: ["a", "b"], price: i * 1.5, ok: i % 2 === 0 }));
  const body = Buffer.from(JSON.stringify(items));
  gc();
  const before = process.memoryUsage().heapUsed;
  const r = renderContent(body, "application/json", "auto", { maxLines: Number.MAX_SAFE_INTEGER });
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(r.lines.length, 650_002);
  assert.equal(lineTextAt(r.lines, 650_001), "]");
  // As arrays of segment objects these 650,000 lines took 242 MiB of heap; packed, 8.5 MiB.
  assert.ok(grown < 40 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(0)} MiB`);
});

test("hex rows are made as they are read: a 20 MiB body shown whole costs nothing up front, and reads as the formatted rows would", () => {
  const body = Buffer.alloc(20 * 1024 * 1024 + 5);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  body.write("Hello world\n", 16 * 1000);
  const whole = renderContent(body, "application/octet-stream", "hex", { maxLines: Number.MAX_SAFE_INTEGER });
  assert.equal(whole.lines.length, 1_310_721);
  assert.equal(lineTextAt(whole.lines, 1000), "00003e80  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a d4 db e2 e9  Hello world.....");
  assert.deepEqual(whole.lines.at(1000)?.[0], { text: "00003e80", style: "offset" });
  assert.equal(lineTextAt(whole.lines, 1_310_720), "01400000  00 07 0e 15 1c" + " ".repeat(36) + ".....");
  assert.equal(lineUnitsAt(whole.lines, 1_310_720), 65);
  assert.equal(searchLines(whole.lines, "hello world", 0), 1000);
  // Cut as any view is, the same rows: the formatted first lines, then the notice.
  const cut = renderContent(body.subarray(0, 64 * 16), "application/octet-stream", "hex", { maxLines: 10 });
  assert.equal(cut.truncated, true);
  assert.equal(cut.lines.length, 11);
  assert.equal(lineTextAt(cut.lines, 9), lineTextAt(whole.lines, 9));
  assert.match(lineTextAt(cut.lines, 10), /^Stopped displaying data after 10 lines/);
});
