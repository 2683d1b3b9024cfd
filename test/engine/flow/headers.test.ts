import { test } from "node:test";
import assert from "node:assert/strict";
import { HEADER_NAME_CAP, Headers, HeaderError, internHeaderName, isInternedHeaderName } from "../../../src/engine/flow/headers.ts";

const wire = (): Headers =>
  Headers.fromRaw(["Host", "example.test", "X-Custom", "a", "accept", "*/*", "x-custom", "b", "Set-Cookie", "c=1"]);

test("get is case-insensitive and joins repeated fields", () => {
  const h = wire();
  assert.equal(h.get("host"), "example.test");
  assert.equal(h.get("HOST"), "example.test");
  assert.equal(h.get("X-CUSTOM"), "a, b");
  assert.equal(h.get("missing"), undefined);
  assert.ok(h.has("Accept"));
  assert.ok(!h.has("missing"));
});

test("getAll returns each value of a field in wire order", () => {
  const h = wire();
  assert.deepEqual(h.getAll("x-custom"), ["a", "b"]);
  assert.deepEqual(h.getAll("nope"), []);
});

test("iteration yields fields in wire order with their original case", () => {
  assert.deepEqual([...wire()], [
    ["Host", "example.test"],
    ["X-Custom", "a"],
    ["accept", "*/*"],
    ["x-custom", "b"],
    ["Set-Cookie", "c=1"],
  ]);
});

test("set replaces every field of the name in place of the first, keeping its case", () => {
  const h = wire();
  h.set("X-CUSTOM", "z");
  assert.deepEqual([...h], [
    ["Host", "example.test"],
    ["X-Custom", "z"],
    ["accept", "*/*"],
    ["Set-Cookie", "c=1"],
  ]);
  h.set("New-One", 5);
  assert.deepEqual(h.fields.at(-1), ["New-One", "5"]);
});

test("add appends another field even when the name exists", () => {
  const h = wire();
  h.add("set-cookie", "d=2");
  assert.deepEqual(h.getAll("Set-Cookie"), ["c=1", "d=2"]);
  assert.deepEqual(h.fields.at(-1), ["set-cookie", "d=2"]);
});

test("delete removes every field of the name, whatever the case", () => {
  const h = wire();
  assert.equal(h.delete("X-custom"), true);
  assert.equal(h.delete("X-custom"), false);
  assert.deepEqual(h.keys(), ["Host", "accept", "Set-Cookie"]);
});

test("the seed's headers[\"X-Custom\"] form reads, writes and deletes", () => {
  const h = wire();
  assert.equal(h["x-custom"], "a, b");
  h["X-Custom"] = "v";
  assert.deepEqual(h.getAll("x-custom"), ["v"]);
  h["X-Added"] = "w";
  assert.equal(h.get("x-added"), "w");
  assert.ok("x-added" in h);
  delete h["x-added"];
  assert.equal(h.get("X-Added"), undefined);
  // The class's own members are not shadowed by header names.
  assert.equal(typeof h.get, "function");
});

test("CR, LF and NUL in values, and non-token names, are refused", () => {
  const h = new Headers();
  assert.throws(() => h.set("X-Evil", "a\r\nInjected: 1"), HeaderError);
  assert.throws(() => h.add("X-Evil", "a\nb"), HeaderError);
  assert.throws(() => h.set("X-Evil", "a\0"), HeaderError);
  assert.throws(() => h.set("Bad Name", "v"), /invalid header name/);
  assert.throws(() => {
    h["X-Evil"] = "a\rb";
  }, HeaderError);
  assert.equal(h.size, 0);
});

test("a record builds fields in key order; clone is independent", () => {
  const h = new Headers({ "Content-Type": "text/plain", "X-A": "1" });
  const c = h.clone();
  c.set("X-A", "2");
  assert.equal(h.get("x-a"), "1");
  assert.equal(h.toWire(), "Content-Type: text/plain\r\nX-A: 1\r\n");
});

test("fromRaw keeps case, order and duplicates, and does not keep the caller's array", () => {
  const raw = ["Host", "a", "x-Dup", "1", "X-DUP", "2", "accept", "*/*"];
  const h = Headers.fromRaw(raw);
  raw[1] = "changed";
  assert.deepEqual(h.flat, ["Host", "a", "x-Dup", "1", "X-DUP", "2", "accept", "*/*"]);
  assert.equal(h.size, 4);
  assert.equal(h.nameAt(2), "X-DUP");
  assert.equal(h.valueAt(2), "2");
  assert.throws(() => h.nameAt(4), RangeError);
  assert.throws(() => h.valueAt(-1), RangeError);
  // A dangling name without a value is dropped rather than paired with undefined.
  assert.deepEqual(Headers.fromRaw(["A", "1", "B"]).flat, ["A", "1"]);
});

test("fields is a frozen snapshot of pairs; its setter replaces every field, validated", () => {
  const h = wire();
  const fields = h.fields;
  assert.ok(Object.isFrozen(fields));
  assert.deepEqual(fields[0], ["Host", "example.test"]);
  assert.throws(() => (fields as [string, string][]).unshift(["Host", "x"]), TypeError);
  assert.throws(() => (fields as [string, string][]).push(["X", "y"]), TypeError);
  assert.notEqual(h.fields, fields);
  h.fields = [["A", "1"], ["b", "2"]];
  assert.deepEqual([...h], [["A", "1"], ["b", "2"]]);
  assert.throws(() => {
    h.fields = [["C", "3"], ["X-Evil", "a\r\nb"]];
  }, HeaderError);
  assert.deepEqual([...h], [["A", "1"], ["b", "2"]], "a refused replacement changes nothing");
});

test("insert puts a field at an index; out-of-range indexes are refused", () => {
  const h = new Headers([["Accept", "*/*"]]);
  h.insert(0, "Host", "example.test");
  h.insert(2, "X-Last", "1");
  assert.deepEqual(h.flat, ["Host", "example.test", "Accept", "*/*", "X-Last", "1"]);
  assert.throws(() => h.insert(4, "X", "1"), RangeError);
  assert.throws(() => h.insert(-1, "X", "1"), RangeError);
  assert.throws(() => h.insert(0, "X", "a\nb"), HeaderError);
  assert.equal(h.size, 3);
});

test("version goes up on every kind of change", () => {
  const h = wire();
  const steps: [string, () => void][] = [
    ["set", () => h.set("X-Custom", "z")],
    ["set new", () => h.set("X-New", "1")],
    ["setAll", () => h.setAll("X-Multi", ["1", "2"])],
    ["add", () => h.add("X-Custom", "y")],
    ["delete", () => h.delete("x-multi")],
    ["insert", () => h.insert(0, "X-First", "1")],
    ["fields setter", () => (h.fields = [["Host", "b"], ["X-Custom", "c"]])],
    ["proxy set", () => (h["X-Custom"] = "d")],
    ["proxy set new", () => (h["X-Other"] = "e")],
    ["proxy delete", () => delete h["x-other"]],
  ];
  for (const [what, change] of steps) {
    const before = h.version;
    change();
    assert.ok(h.version > before, `${what} bumps the version`);
  }
  const before = h.version;
  h.get("host");
  h.getAll("host");
  void h.fields;
  void [...h];
  h.toWire();
  h.clone().set("Host", "other");
  assert.equal(h.version, before, "reads and changes to a clone leave it alone");
  assert.throws(() => {
    (h as unknown as { version: number }).version = 0;
  }, TypeError);
});

test("removing fields while iterating still visits every field", () => {
  const h = wire();
  const seen: string[] = [];
  for (const [n] of h) {
    seen.push(n);
    h.delete(n);
  }
  assert.deepEqual(seen, ["Host", "X-Custom", "accept", "x-custom", "Set-Cookie"]);
  assert.equal(h.size, 0);
});

test("header names are interned, up to a cap", () => {
  // Strings built at run time, so they are not the literals the table was filled with.
  const name = ["Content", "Type"].join("-");
  assert.ok(isInternedHeaderName("Content-Type"));
  assert.ok(isInternedHeaderName("content-type"), "HTTP/2's lower-case forms are known too");
  assert.equal(internHeaderName(name), "Content-Type");
  const a = Headers.fromRaw([["Content", "Type"].join("-"), "text/plain"]);
  const b = new Headers([[["Content", "Type"].join("-"), "text/html"]]);
  assert.equal(a.nameAt(0), b.nameAt(0));

  const fresh = `X-Fresh-${process.pid}`;
  assert.ok(!isInternedHeaderName(fresh));
  new Headers({ [fresh]: "1" });
  assert.ok(isInternedHeaderName(fresh), "names seen at run time are remembered");

  for (let i = 0; i < HEADER_NAME_CAP; i++) internHeaderName(`X-Filler-${i}`);
  const late = `X-Late-${process.pid}`;
  assert.equal(internHeaderName(late), late, "past the cap a name is still returned as is");
  assert.ok(!isInternedHeaderName(late), "past the cap new names are not remembered");
  assert.ok(isInternedHeaderName("Host"));
});

test("shareStrings keeps every field and the version; the pool starts over when full", async () => {
  const { StringPool } = await import("../../../src/engine/string-pool.ts");
  const pool = new StringPool(3);
  const h = new Headers([["Content-Type", "text/plain"], ["X-Long", "v".repeat(500)], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]);
  const version = h.version;
  const before = h.fields;
  h.shareStrings(pool);
  assert.deepEqual(h.fields, before);
  assert.equal(h.version, version);
  // Past its size the pool forgets and goes on answering with equal strings.
  for (let i = 0; i < 10; i++) assert.equal(pool.share(`value-${i}`), `value-${i}`);
  assert.equal(pool.share(undefined), undefined);
});

test("Headers as mitmproxy's: set_all puts the values where the name's fields were; items() joins a name's values, items(true) gives every field", () => {
  const h = new Headers([["X-Dup", "1"], ["Accept", "a"], ["x-dup", "2"]]);
  h.set_all("X-Dup", ["p", "q", "r"]);
  assert.deepEqual([...h], [["X-Dup", "p"], ["Accept", "a"], ["x-dup", "q"], ["X-Dup", "r"]]);
  assert.deepEqual(h.items(), [["X-Dup", "p, q, r"], ["Accept", "a"]]);
  assert.deepEqual(h.items(true), [...h]);
  h.set_all("x-dup", ["only"]);
  assert.deepEqual([...h], [["X-Dup", "only"], ["Accept", "a"]]);
});

test("text set through the addon API is kept as its UTF-8 bytes and read back as that text, as mitmproxy's str API", () => {
  const utf8 = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
  const h = new Headers([["X-Pair", "日本"]]);
  h.set("X-Set", "日本語 café 🎉");
  h.add("X-Add", "山田");
  h["X-Idx"] = "名前";
  h.insert(0, "X-First", "ü€");
  h.setAll("X-All", ["一", "二"]);
  h.set("X-Latin1", "café");
  const bytes = new Map(h.byteFields());
  assert.equal(bytes.get("X-Pair"), utf8("日本"));
  assert.equal(bytes.get("X-Set"), utf8("日本語 café 🎉"), "the whole value as UTF-8, é too; not each character's low byte");
  assert.equal(bytes.get("X-Add"), utf8("山田"));
  assert.equal(bytes.get("X-Idx"), utf8("名前"));
  assert.equal(bytes.get("X-First"), utf8("ü€"));
  assert.equal(bytes.get("X-Latin1"), utf8("café"), "text within Latin-1 is UTF-8 too, as mitmproxy sends it, not Latin-1");
  assert.equal(new Headers({ "X-Record": "中" }).byteFields()[0]?.[1], utf8("中"));
  // The text face gives the text back.
  assert.equal(h.get("X-Set"), "日本語 café 🎉");
  assert.equal(h["X-Idx"], "名前");
  assert.deepEqual(h.getAll("X-All"), ["一", "二"]);
  assert.deepEqual(h.get_all("x-all"), ["一", "二"]);
  assert.equal(h.fields.find(([n]) => n === "X-First")?.[1], "ü€");
  assert.deepEqual([...h].find(([n]) => n === "X-Add"), ["X-Add", "山田"]);
  assert.deepEqual(h.items().find(([n]) => n === "X-All"), ["X-All", "一, 二"]);
  assert.equal(h.pop("X-Latin1"), "café");
  // Python's surrogateescape: a byte that is no UTF-8 beside text that is.
  h.set("X-Escaped", "\udce9 日");
  assert.equal(new Map(h.byteFields()).get("X-Escaped"), `\xe9 ${utf8("日")}`);
  assert.equal(h.get("X-Escaped"), "\udce9 日");
});

test("bytes that are no UTF-8 read as U+DC00+byte and set back unchanged; the byte face takes and gives bytes as they are", () => {
  const raw = ["X-Bin", "a\xff\xc3(", "X-Utf8", "Jos\xc3\xa9", "X-Cut", "\xe6\x97"];
  const h = Headers.fromRaw(raw);
  assert.equal(h.get("X-Bin"), "a\udcff\udcc3(");
  assert.equal(h.get("X-Utf8"), "José");
  assert.equal(h.get("X-Cut"), "\udce6\udc97", "a UTF-8 sequence cut short is bytes too");
  for (const [n, v] of [...h]) h.set(n, v);
  h.fields = h.fields;
  assert.deepEqual(h.flat, raw, "every value read and written back is the same bytes");
  assert.equal(h.valueAt(0), "a\xff\xc3(");
  assert.equal(h.toWire(), "X-Bin: a\xff\xc3(\r\nX-Utf8: Jos\xc3\xa9\r\nX-Cut: \xe6\x97\r\n");
  assert.deepEqual(JSON.parse(JSON.stringify(h)), h.byteFields(), "toJSON, for flow files, is bytes");
  const copy = Headers.fromBytes(h.byteFields());
  assert.deepEqual(copy.flat, raw);
  assert.deepEqual(new Headers(h).flat, raw, "a copy through the text face is the same bytes");
});
