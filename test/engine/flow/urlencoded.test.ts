import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeUrlencoded, encodeUrlencoded } from "../../../src/urlencoded.ts";
import { Request } from "../../../src/engine/flow/http.ts";
import { textCell, textFromCell } from "../../../src/tui/edit/parts.ts";

const QS = "a=1&bare&bad=%FF%fe&utf=caf%C3%A9&raw=\xc3\xa9&sp=x+y%2Fz&slash=/p/q";

test("a query decodes field by field: + and %XX, UTF-8 as text, other bytes kept as surrogate escapes, bare keys", () => {
  assert.deepEqual(decodeUrlencoded(QS), [
    ["a", "1"],
    ["bare", ""],
    ["bad", "\udcff\udcfe"],
    ["utf", "café"],
    ["raw", "é"],
    ["sp", "x y/z"],
    ["slash", "/p/q"],
  ]);
  assert.deepEqual(decodeUrlencoded("&&x=1&"), [["x", "1"]]);
  assert.deepEqual(decodeUrlencoded("k=%zz%4"), [["k", "%zz%4"]], "a bad escape stays literal");
  assert.deepEqual(decodeUrlencoded("k=%C0%AF%ED%A0%80"), [["k", "\udcc0\udcaf\udced\udca0\udc80"]], "overlong and surrogate UTF-8 are bytes, not text");
});

test("encoding gives the same bytes back, bare keys bare when the query had them, / unescaped, as mitmproxy's url.encode", () => {
  const fields = decodeUrlencoded(QS);
  assert.equal(encodeUrlencoded(fields, QS), "a=1&bare&bad=%FF%FE&utf=caf%C3%A9&raw=%C3%A9&sp=x+y/z&slash=/p/q");
  assert.equal(encodeUrlencoded([["k", ""]]), "k=", "without a model an empty value keeps its =");
  assert.equal(encodeUrlencoded([["emoji", "😀"], ["amp", "a&b=c"]]), "emoji=%F0%9F%98%80&amp=a%26b%3Dc");
});

test("Request.query: an edit of one field keeps the others' bytes (%FF stayed %EF%BF%BD before)", () => {
  const r = Request.make("GET", "http://app.test/s?q=%FF&flag&n=1");
  const fields = [...r.query];
  fields[2] = ["n", "2"];
  r.query = fields;
  assert.equal(r.path, "/s?q=%FF&flag&n=2");
});

test("a query grid cell shows text, escapes non-UTF-8 bytes and controls, and reads back to the same field", () => {
  for (const field of ["café", "\udcff\udc80", "a\\b", "tab\there", "plain"]) assert.equal(textFromCell(textCell(field)), field, JSON.stringify(field));
  assert.equal(textCell("\udcffcafé\\"), "\\xffcafé\\\\");
  assert.equal(textFromCell("\\x41\\xe9"), "A\udce9", "a typed \\xNN above 0x7f is that byte");
});
