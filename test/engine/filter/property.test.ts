import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileFilter, FilterSyntaxError, OPERATORS } from "../../../src/engine/filter/index.ts";
import type { FilterableFlow } from "../../../src/engine/filter/index.ts";
import { dnsFlow, httpFlow, streamFlow } from "./flows.ts";

const sampleFlows: FilterableFlow[] = [
  httpFlow(),
  httpFlow({
    method: "POST",
    body: "a=1&b=2",
    marked: ":default:",
    comment: "x",
    metadata: { k: "v" },
    response: { status_code: 200, body: new Uint8Array([0xff, 0x00, 0x41]) },
    websocket: [{ from_client: true, content: "hi" }],
  }),
  streamFlow("tcp", [{ from_client: true, content: "hello" }], { error: "reset", is_replay: "request" }),
  streamFlow("udp", [], { peername: undefined, address: undefined }),
  dnsFlow({ answer: "1.2.3.4" }),
  dnsFlow({ questions: [] }),
];

/** Parses, and when that succeeds, evaluates against every sample flow. */
function parseAndRun(expr: string): void {
  let filter;
  try {
    filter = compileFilter(expr);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      assert.ok(e.position >= 0 && e.position <= expr.length, `position ${e.position} out of range`);
      assert.equal(typeof e.expected, "string");
      return;
    }
    throw e;
  }
  assert.equal(typeof filter.description, "string");
  for (const flow of sampleFlows) assert.equal(typeof filter(flow), "boolean");
}

const operatorTokens = OPERATORS.map((op) => `~${op.code}`);
const filterToken = fc.oneof(
  fc.constantFrom(...operatorTokens, "~", "~zz", "!", "&", "|", "(", ")", '"', "'", "\\", "200", "x", "[", "a|b"),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('"a b"', "'it\\'s'", '"\\"', "~c 200", "~h [", "(?<n>x)", "*", "+?", "{2,1}"),
);
const separator = fc.constantFrom("", " ", "  ", "\t", "\n");
const tokenExpression = fc
  .array(fc.tuple(filterToken, separator), { maxLength: 12 })
  .map((parts) => parts.map(([token, sep]) => token + sep).join(""));

describe("parser robustness", () => {
  it("arbitrary strings either parse or throw FilterSyntaxError", () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => parseAndRun(s)), { numRuns: 2000 });
  });
  it("arbitrary Unicode strings either parse or throw FilterSyntaxError", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => parseAndRun(s)), { numRuns: 500 });
  });
  it("strings built from filter tokens either parse or throw FilterSyntaxError", () => {
    fc.assert(fc.property(tokenExpression, (s) => parseAndRun(s)), { numRuns: 3000 });
  });
});

// Random boolean trees over flow-state flags, printed with as few parentheses
// as the precedence rules allow, must evaluate like the tree itself.
type Tree =
  | { kind: "flag"; code: string }
  | { kind: "not"; operand: Tree }
  | { kind: "and" | "or" | "juxt"; left: Tree; right: Tree };

const FLAG_TRUTH: Record<string, (f: FilterableFlow) => boolean> = {
  "~q": (f) => (f.type === "http" || f.type === "dns") && !f.response,
  "~s": (f) => (f.type === "http" || f.type === "dns") && !!f.response,
  "~e": (f) => !!f.error,
  "~http": (f) => f.type === "http",
  "~tcp": (f) => f.type === "tcp",
  "~marked": (f) => f.marked !== "",
  "~replay": (f) => f.is_replay !== null,
  "~all": () => true,
};

const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...Object.keys(FLAG_TRUTH)).map((code): Tree => ({ kind: "flag", code })),
    tie("tree").map((operand): Tree => ({ kind: "not", operand })),
    fc
      .tuple(fc.constantFrom("and" as const, "or" as const, "juxt" as const), tie("tree"), tie("tree"))
      .map(([kind, left, right]): Tree => ({ kind, left, right })),
  ),
}));

const PRECEDENCE = { juxt: 0, or: 1, and: 2, not: 3, flag: 4 } as const;

function print(t: Tree, min: number): string {
  const text =
    t.kind === "flag"
      ? t.code
      : t.kind === "not"
        ? `!${print(t.operand, PRECEDENCE.not)}`
        : `${print(t.left, PRECEDENCE[t.kind])}${t.kind === "juxt" ? " " : t.kind === "and" ? " & " : " | "}${print(
            t.right,
            // Right operands of a left-associative chain need one level more.
            PRECEDENCE[t.kind] + 1,
          )}`;
  return PRECEDENCE[t.kind] < min ? `(${text})` : text;
}

function evaluate(t: Tree, f: FilterableFlow): boolean {
  switch (t.kind) {
    case "flag":
      return FLAG_TRUTH[t.code](f);
    case "not":
      return !evaluate(t.operand, f);
    case "or":
      return evaluate(t.left, f) || evaluate(t.right, f);
    default:
      return evaluate(t.left, f) && evaluate(t.right, f);
  }
}

describe("precedence property", () => {
  it("minimally parenthesised expressions evaluate like their trees", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const expr = print(t, 0);
        const filter = compileFilter(expr);
        for (const flow of sampleFlows) assert.equal(filter(flow), evaluate(t, flow), expr);
      }),
      { numRuns: 1000 },
    );
  });
});
