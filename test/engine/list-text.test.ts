import { test } from "node:test";
import assert from "node:assert/strict";
import { joinList, splitList } from "../../src/engine/list-text.ts";

test("a list option's text splits on commas, but not on a regex's own: {1,3}, [,;], (a|b,c) or \\,", () => {
  assert.deepEqual(splitList(" a.test , b.test,,"), ["a.test", "b.test"]);
  assert.deepEqual(splitList(String.raw`^10\.\d{1,3}\.,[,;]x,(a|b,c)$,one\,two`), [String.raw`^10\.\d{1,3}\.`, "[,;]x", "(a|b,c)$", "one,two"]);
  // Inside a class, brackets are characters: [(] does not open a group that would swallow the next comma.
  assert.deepEqual(splitList("[(]a,b"), ["[(]a", "b"]);
  assert.deepEqual(splitList(""), []);
});

test("joinList writes entries so that splitList gives them back, a path's comma included", () => {
  for (const entries of [["a.test", String.raw`\d{1,3}`], ["my,addon.ts", "other.ts"], ["[,]", "x"], [String.raw`a\,b`]]) {
    const text = joinList(entries);
    assert.deepEqual(splitList(text), entries.map((e) => e.replaceAll("\\,", ",")), text);
  }
  assert.equal(joinList(["my,addon.ts", "b{1,2}"]), String.raw`my\,addon.ts,b{1,2}`);
});

test("a comma inside a quoted filter regex stays in its entry", () => {
  assert.deepEqual(splitList(`/~u "a,b"/404,/~d 'x,y'/403,plain`), [`/~u "a,b"/404`, `/~d 'x,y'/403`, "plain"]);
  for (const entries of [[`/~u "a,b"/404`, "z"]]) assert.deepEqual(splitList(joinList(entries)), entries);
});
