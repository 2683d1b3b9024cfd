import { test } from "node:test";
import assert from "node:assert/strict";
import { sameLineRow, wrapLines } from "../../src/tui/wrap-lines.ts";
import { lineArray, type Line } from "../../src/tui/contentviews/index.ts";

const text = (l: Line): string => l.map((s) => s.text).join("");

test("wrapLines keeps a line that fits as the same object, and breaks a long one between words with its styles", () => {
  const short: Line = [{ text: "Host", style: "key" }, { text: ": ", style: "punct" }, { text: "example.com" }];
  const cookie: Line = [{ text: "Cookie", style: "key" }, { text: ": ", style: "punct" }, { text: "session=abcdef; theme=dark; lang=en-GB; tracking=0123456789" }];
  const wrapped = wrapLines([short, cookie], 30);
  const rows = lineArray(wrapped.rows);
  const lineOfRow = wrapped.lineOfRow;
  assert.equal(rows[0], short);
  assert.deepEqual(rows.slice(1).map(text), ["Cookie: session=abcdef;", "        theme=dark;", "        lang=en-GB;", "        tracking=0123456789"]);
  // The key keeps its style on the first row; the value's rows are unstyled text under the value.
  assert.deepEqual(rows[1]![0], { text: "Cookie", style: "key" });
  assert.equal(rows[2]![1]!.style, undefined);
  assert.deepEqual([...lineOfRow!], [0, 1, 1, 1, 1]);
  for (const r of rows) assert.ok(text(r).length <= 30, text(r));
});

test("wrapLines cuts a word longer than a row, indents a JSON line's rows as the line is, and maps rows back to lines", () => {
  const token: Line = [{ text: "x".repeat(25) }];
  const json: Line = [{ text: "    " }, { text: '"note"', style: "key" }, { text: ": " }, { text: '"one two three four five six"', style: "string" }];
  const wrapped = wrapLines([token, json], 20);
  const rows = lineArray(wrapped.rows);
  const lineOfRow = wrapped.lineOfRow;
  assert.deepEqual(rows.map(text), ["x".repeat(20), "xxxxx", '    "note": "one two', '    three four five', "    six\""]);
  assert.equal(rows[3]![1]!.style, "string");
  assert.deepEqual([...lineOfRow!], [0, 0, 1, 1, 1]);
  // The view that began at the JSON line's second row begins at its first when wrapped wider.
  const wide = wrapLines([token, json], 80);
  assert.equal(sameLineRow({ lineOfRow }, wide, 3), 1);
  assert.equal(sameLineRow(wide, { lineOfRow }, 1), 2);
});

test("wrapLines hands lines that all fit back as they are, with no row map, and sameLineRow reads that as one row a line", () => {
  const lines: Line[] = [[{ text: "short" }], [{ text: "also short" }]];
  const w = wrapLines(lines, 40);
  assert.equal(w.rows, lines);
  assert.equal(w.lineOfRow, undefined);
  const narrow = wrapLines(lines, 6);
  assert.deepEqual(lineArray(narrow.rows).map(text), ["short", "also", "short"]);
  assert.equal(sameLineRow(w, narrow, 1), 1);
  assert.equal(sameLineRow(narrow, w, 2), 1);
});
