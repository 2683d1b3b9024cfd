import { test } from "node:test";
import assert from "node:assert/strict";
import { streamMessageLines } from "../src/dump.ts";

test("a message's text under its dump line: a real ESC and the typed text \\x1b print differently, as mitmdump's do", () => {
  const lines = streamMessageLines(new TextEncoder().encode("real \x1b[31m and typed \\x1b[31m, a path C:\\tmp"));
  assert.deepEqual(lines, ["    real \\x1b[31m and typed \\\\x1b[31m, a path C:\\\\tmp"]);
});
