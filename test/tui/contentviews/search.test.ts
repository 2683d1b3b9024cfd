import { test } from "node:test";
import assert from "node:assert/strict";
import type { Line } from "../../../src/tui/contentviews/index.ts";
import { lineArray, lineText, renderContent, searchLines } from "../../../src/tui/contentviews/index.ts";
import { enc } from "./helpers.ts";

const lines: Line[] = lineArray(renderContent(enc('{"Host":"example.com","token":"abc","other":"EXAMPLE.org"}'), "application/json", "json").lines);
// 0 "{", 1 Host, 2 token, 3 other, 4 "}"

test("lineText joins segments", () => {
  assert.equal(lineText(lines[1]!), '  "Host": "example.com",');
  assert.equal(lineText([]), "");
});

test("searchLines: forward, case-insensitive, across segments, wrapping", () => {
  assert.equal(searchLines(lines, "example", -1), 1);
  assert.equal(searchLines(lines, "example", 1), 3);
  assert.equal(searchLines(lines, "example", 3), 1);
  assert.equal(searchLines(lines, '"host": "ex', 0), 1);
});

test("searchLines: backwards wraps too", () => {
  assert.equal(searchLines(lines, "example", 1, true), 3);
  assert.equal(searchLines(lines, "example", 3, true), 1);
  assert.equal(searchLines(lines, "}", -1, true), 4);
});

test("searchLines: the current line is found last; no match or empty term gives undefined", () => {
  assert.equal(searchLines(lines, "token", 2), 2);
  assert.equal(searchLines(lines, "missing", 0), undefined);
  assert.equal(searchLines(lines, "", 0), undefined);
  assert.equal(searchLines([], "x", 0), undefined);
});
