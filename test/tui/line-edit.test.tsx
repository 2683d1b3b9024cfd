import { test } from "node:test";
import assert from "node:assert/strict";
import * as le from "../../src/tui/line-edit.ts";

test("insert, move and delete", () => {
  let s = le.line("set intercept ''", 15);
  s = le.insert(s, "~q");
  assert.deepEqual(s, { value: "set intercept '~q'", cursor: 17 });
  assert.deepEqual(le.deleteBack(s), { value: "set intercept '~'", cursor: 16 });
  assert.deepEqual(le.start(s).cursor, 0);
  assert.deepEqual(le.end(s).cursor, s.value.length);
  assert.deepEqual(le.left(le.start(s)).cursor, 0);
  assert.deepEqual(le.deleteForward(le.line("abc", 1)), { value: "ac", cursor: 1 });
  assert.deepEqual(le.deleteBack(le.line("abc", 0)), { value: "abc", cursor: 0 });
});

test("word movement and deletion", () => {
  const s = le.line("flow.resume @focus now");
  assert.equal(le.wordLeft(s).cursor, 19);
  assert.equal(le.wordLeft(le.wordLeft(s)).cursor, 12);
  assert.equal(le.wordRight(le.line(s.value, 0)).cursor, 11);
  assert.deepEqual(le.deleteWord(s), { value: "flow.resume @focus ", cursor: 19 });
  assert.deepEqual(le.deleteToStart(le.line("abc def", 4)), { value: "def", cursor: 0 });
  assert.deepEqual(le.deleteToEnd(le.line("abc def", 4)), { value: "abc ", cursor: 4 });
  assert.deepEqual(le.replaceRange(le.line("flow.re"), 0, 7, "flow.resume "), { value: "flow.resume ", cursor: 12 });
});

test("visibleSlice scrolls a long line to keep the cursor in view", () => {
  const long = "x".repeat(200);
  const v = le.visibleSlice(le.line(long, 150), 40);
  assert.ok(v.text.length <= 40);
  assert.ok(v.cursor >= 0 && v.cursor < 40);
  assert.deepEqual(le.visibleSlice(le.line("short", 2), 40), { text: "short", cursor: 2 });
});

test("the cursor steps over an emoji whole, and Backspace or Delete takes it whole", () => {
  let s = le.line("~b 🎉x");
  s = le.left(le.left(s));
  assert.equal(s.cursor, 3, "before the emoji, not inside it");
  assert.equal(le.charAt(s.value, s.cursor), "🎉");
  assert.deepEqual(le.deleteForward(s), { value: "~b x", cursor: 3 });
  s = le.right(s);
  assert.equal(s.cursor, 5);
  assert.deepEqual(le.deleteBack(s), { value: "~b x", cursor: 3 });
  assert.equal(le.charAt("ab", 2), "");
});

test("visibleSlice measures terminal columns: a line of CJK text shows its end, with the cursor, within the width", () => {
  const value = `~b ${"日本語".repeat(12)}x`;
  const v = le.visibleSlice(le.line(value), 40);
  assert.ok(v.text.endsWith("x"), v.text);
  assert.equal(v.cursor, v.text.length, "the cursor after the last character");
  const used = [...v.text].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
  assert.ok(used <= 39, `${used} columns`);
  // Emoji stay whole at the slice's edges.
  const emoji = le.visibleSlice(le.line("🎉".repeat(40), 0), 20);
  assert.equal([...emoji.text].every((ch) => ch === "🎉"), true);
});
