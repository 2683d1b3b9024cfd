import { test } from "node:test";
import assert from "node:assert/strict";
import { line } from "../../src/tui/line-edit.ts";
import { CommandSyntaxError, deleteToArgumentStart, joinArgs, quoteAlways, quoteArg, replaceFocus, tokenize, typedText, wordAt } from "../../src/tui/command-line.ts";

test("tokenize splits words and honours quotes", () => {
  assert.deepEqual(tokenize(`set view_filter '~u foo & ~m GET'`).map((t) => t.value), ["set", "view_filter", "~u foo & ~m GET"]);
  assert.deepEqual(tokenize(`a "b c" d\\.e`).map((t) => t.value), ["a", "b c", "d\\.e"]);
  assert.deepEqual(tokenize(`x 'it\\'s'`).map((t) => t.value), ["x", "it's"]);
  assert.deepEqual(tokenize(`flow.comment @focus ''`).map((t) => t.value), ["flow.comment", "@focus", ""]);
  assert.deepEqual(tokenize("   "), []);
});

test("an unterminated quote is an error unless the line is partial", () => {
  assert.throws(() => tokenize("set x 'abc"), CommandSyntaxError);
  // The position is the quote's (1-based), not the start of the word it is in.
  assert.throws(() => tokenize("set intercept'"), /unterminated ' quote at column 14/);
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
  assert.equal(replaceFocus("@focus request.url", "abc"), "@focus request.url", "the command word is not a flow");
});

test("wordAt finds the word being completed", () => {
  assert.deepEqual(wordAt("flow.re", 7), { index: 0, start: 0, end: 7, value: "flow.re" });
  assert.deepEqual(wordAt("set ", 4), { index: 1, start: 4, end: 4, value: "" });
  assert.deepEqual(wordAt("set view_f", 10), { index: 1, start: 4, end: 10, value: "view_f" });
});

test("typedText escapes the quote and backslash typed inside a closed quoted argument, and nothing else", () => {
  const at = (line: string, cursor: number, text: string) => {
    const typed = typedText(line, cursor, text);
    return line.slice(0, cursor) + typed + line.slice(cursor);
  };
  const comment = (text: string) => {
    const l = at("flow.comment @focus ''", 21, text);
    return tokenize(l).map((t) => t.value)[2];
  };
  assert.equal(at("flow.comment @focus ''", 21, "it's fine"), String.raw`flow.comment @focus 'it\'s fine'`);
  for (const text of ["it's fine", "C:\\", `say "hi"`, "a\\'b"]) assert.equal(comment(text), text);
  assert.equal(at(`set intercept "~u x"`, 19, `"`), String.raw`set intercept "~u x\""`);
  // Outside quotes, or in a quote still open (being typed), the user's quotes mean what they always do.
  assert.equal(typedText("flow.comment @focus ", 20, "'a'"), "'a'");
  assert.equal(typedText("flow.comment @focus 'abc", 24, "'"), "'");
  assert.equal(typedText("set x 'a' ", 10, "'"), "'");
});

test("ctrl-u in a quoted argument clears it back to its quote, at the quote what follows, and keeps both quotes; outside quotes, the whole line before the cursor", () => {
  const at = (value: string, cursor: number) => deleteToArgumentStart(line(value, cursor));
  const filter = "set view_filter '~u alpha'";
  assert.deepEqual(at(filter, filter.length - 1), line("set view_filter ''", 17));
  // Empty already (f with no filter set): nothing to clear, and what is typed next goes inside the quotes.
  assert.deepEqual(at("set view_filter ''", 17), line("set view_filter ''", 17));
  assert.deepEqual(at("set view_filter '~u alpha'", 17), line("set view_filter ''", 17));
  assert.deepEqual(at("set view_filter '~u", 17), line("set view_filter '", 17));
  assert.deepEqual(at("set view_filter ~u", 18), line("", 0));
  // A quote closed earlier, and an escaped quote inside the open one, are read as the parser reads them.
  const escaped = "flow.comment 'a' 'it\\'s'";
  assert.deepEqual(at(escaped, escaped.length - 1), line("flow.comment 'a' ''", 18));
  assert.deepEqual(at("set x \"ab", 9), line('set x "', 7));
});
