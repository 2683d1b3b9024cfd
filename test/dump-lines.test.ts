import { test } from "node:test";
import assert from "node:assert/strict";
import { streamMessageLines } from "../src/dump.ts";

test("a message's text under its dump line: a real ESC and the typed text \\x1b print differently, as mitmdump's do", () => {
  const lines = streamMessageLines(new TextEncoder().encode("real \x1b[31m and typed \\x1b[31m, a path C:\\tmp"));
  assert.deepEqual(lines, ["    real \\x1b[31m and typed \\\\x1b[31m, a path C:\\\\tmp"]);
});

test("a binary message of control bytes that are valid UTF-8 prints as a hex dump, not a row of escapes", () => {
  const lines = streamMessageLines(Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0x41, 0x05]));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^    00000000  01 02 03 04 41 05 +\.\.\.\.A\.$/);
});
