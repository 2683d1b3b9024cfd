import { test } from "node:test";
import assert from "node:assert/strict";
import { CommandSyntaxError, joinArgs, quoteAlways, quoteArg, replaceFocus, tokenize, wordAt } from "../../src/tui/command-line.ts";

test("tokenize splits words and honours quotes", () => {
  assert.deepEqual(tokenize(`set view_filter '~u foo & ~m GET'`).map((t) => t.value), ["set", "view_filter", "~u foo & ~m GET"]);
  assert.deepEqual(tokenize(`a "b c" d\\.e`).map((t) => t.value), ["a", "b c", "d\\.e"]);
  assert.deepEqual(tokenize(`x 'it\\'s'`).map((t) => t.value), ["x", "it's"]);
  assert.deepEqual(tokenize(`flow.comment @focus ''`).map((t) => t.value), ["flow.comment", "@focus", ""]);
  assert.deepEqual(tokenize("   "), []);
});

test("an unterminated quote is an error unless the line is partial", () => {
  assert.throws(() => tokenize("set x 'abc"), CommandSyntaxError);
  assert.deepEqual(tokenize("set x 'abc", true).map((t) => t.value), ["set", "x", "abc"]);
});

test("quoting round-trips through tokenize", () => {
  for (const s of ["plain", "", "two words", "it's", `say "hi"`, `both ' and "`, "back\\slash q'"]) {
    assert.equal(tokenize(`cmd ${quoteArg(s)}`)[1]!.value, s, s);
    assert.equal(tokenize(`cmd ${quoteAlways(s)}`)[1]!.value, s, s);
  }
  assert.equal(quoteArg("~q"), "~q");
  assert.equal(joinArgs(["view.flows.remove", "@all"]), "view.flows.remove @all");
});

test("replaceFocus swaps unquoted @focus words only", () => {
  assert.equal(replaceFocus("flow.resume @focus", "abc"), "flow.resume abc");
  assert.equal(replaceFocus("flow.comment @focus '@focus'", "abc"), "flow.comment abc '@focus'");
  assert.equal(replaceFocus("flow.resume @all", undefined), "flow.resume @all");
  assert.throws(() => replaceFocus("flow.resume @focus", undefined), /no flow is in focus/);
});

test("wordAt finds the word being completed", () => {
  assert.deepEqual(wordAt("flow.re", 7), { index: 0, start: 0, end: 7, value: "flow.re" });
  assert.deepEqual(wordAt("set ", 4), { index: 1, start: 4, end: 4, value: "" });
  assert.deepEqual(wordAt("set view_f", 10), { index: 1, start: 4, end: 10, value: "view_f" });
});
