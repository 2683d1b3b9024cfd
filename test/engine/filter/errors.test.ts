import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileFilter, FilterSyntaxError, MAX_DEPTH, parseFilter } from "../../../src/engine/filter/index.ts";

function syntaxError(expr: string): FilterSyntaxError {
  try {
    compileFilter(expr);
  } catch (e) {
    assert.ok(e instanceof FilterSyntaxError, `${JSON.stringify(expr)} threw ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "FilterSyntaxError");
    assert.equal(e.expression, expr);
    return e;
  }
  assert.fail(`${JSON.stringify(expr)} should not parse`);
}

describe("error positions", () => {
  const cases: [expr: string, position: number, expected: RegExp][] = [
    ["", 0, /filter expression/],
    ["   ", 3, /filter expression/],
    ["~zz", 0, /operator/],
    ["~q ~zz", 3, /operator/],
    ["~", 0, /operator/],
    ["~m GET ~u", 7, /^a regex after ~u$/],
    ["~h", 0, /^a regex after ~h$/],
    ["~u )", 3, /^a regex after ~u$/],
    ["~b (x)", 3, /^a regex after ~b$/],
    ["~q &", 3, /^an expression after &$/],
    ["~q & ", 3, /^an expression after &$/],
    ["~q |", 3, /^an expression after \|$/],
    ["a & & b", 4, /^an expression after &$/],
    ["~q | & ~s", 5, /^an expression after \|$/],
    ["& ~q", 0, /^an expression$/],
    ["!", 0, /^an expression after !$/],
    ["~q !", 3, /^an expression after !$/],
    ["(~q", 0, /^\) to close this \($/],
    ["((~q)", 0, /^\) to close this \($/],
    ["~s (~q | (~e)", 3, /^\) to close this \($/],
    ["~q)", 2, /end of expression/],
    ["(~q))", 4, /end of expression/],
    ["()", 1, /expression inside/],
    ["(~q &)", 5, /^an expression after &$/],
    ["~h [", 3, /valid regex/],
    ["~q ~b 'a(' ", 6, /valid regex/],
    ["x{1,0}", 0, /valid regex/],
    ["~c abc", 3, /status code/],
    ["~c 200x", 3, /status code/],
    ["~c", 0, /status code/],
    ['~c "200"', 3, /status code/],
    ["~c -1", 3, /status code/],
    ["~q~s", 2, /^whitespace after ~q$/],
    ["~c200", 2, /^whitespace after ~c$/],
    ["~u'x'", 2, /^whitespace after ~u$/],
    ["~q|~s", 2, /^whitespace after ~q$/],
    ['~u "abc', 3, /closing "/],
    ["~b 'it\\'s", 3, /closing '/],
  ];
  for (const [expr, position, expected] of cases) {
    it(`${JSON.stringify(expr)} fails at ${position}`, () => {
      const e = syntaxError(expr);
      assert.equal(e.position, position);
      assert.match(e.expected, expected);
    });
  }
});

describe("error messages", () => {
  it("show the expression with a caret under the position", () => {
    assert.equal(
      syntaxError("~m GET ~u").message,
      "Invalid filter expression at column 8: expected a regex after ~u\n  ~m GET ~u\n         ^",
    );
  });
  it("name an unknown operator", () => {
    const e = syntaxError("~q ~zz9");
    assert.match(e.message, /^Invalid filter expression at column 4: unknown operator ~zz9\n/);
  });
  it("say what is wrong with a regex", () => {
    assert.match(syntaxError("~h [").message, /^Invalid filter expression at column 4: invalid regex: .*character class/);
  });
  it("call an empty expression empty", () => {
    assert.match(syntaxError("").message, /^Invalid filter expression at column 1: empty filter expression/);
  });
  it("keep the caret aligned when the expression has control characters", () => {
    const lines = syntaxError("~q\n&\t").message.split("\n");
    assert.equal(lines.length, 3);
    assert.equal(lines[1], "  ~q & ");
    assert.equal(lines[2], "     ^");
  });
  it("parseFilter throws the same errors", () => {
    assert.throws(() => parseFilter("~q &"), FilterSyntaxError);
  });
});

describe("pathological input", () => {
  it("deep nesting is a syntax error, not a stack overflow", () => {
    const e = syntaxError("(".repeat(100_000) + "~q" + ")".repeat(100_000));
    assert.equal(e.position, MAX_DEPTH);
    syntaxError("!".repeat(100_000) + "~q");
  });
  it("nesting up to the limit works", () => {
    const deep = "(".repeat(MAX_DEPTH - 1) + "!~q" + ")".repeat(MAX_DEPTH - 1);
    assert.equal(typeof compileFilter(deep), "function");
  });
  it("long flat expressions are fine", () => {
    const f = compileFilter(Array.from({ length: 5000 }, (_, i) => `~c ${i}`).join(" | "));
    assert.equal(f.expression.length > 0, true);
  });
});
