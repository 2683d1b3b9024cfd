// Parser for mitmproxy's filter language (mitmproxy/flowfilter.py), written
// as recursive descent over the tokens from lexer.ts.
//
// Grammar, loosest binding first:
//
//   filter   := orExpr+                    juxtaposition = AND, loosest of all
//   orExpr   := andExpr ("|" andExpr)*
//   andExpr  := unary ("&" unary)*
//   unary    := "!" unary | primary
//   primary  := "(" filter ")" | operator | regex     a bare regex means ~u
//
// So `~a ~b x | ~c 200` is `~a & (~b x | ~c 200)`, exactly as mitmproxy's
// OneOrMore(infix_notation(...)) reads it.
//
// Where this parser deliberately departs from mitmproxy, because mitmproxy's
// behaviour there is a grammar accident rather than a design:
//
// - An operator directly before `)` is fine: `(~q & ~s)` and `(~q)` parse.
//   (mitmproxy rejects them because WordEnd() counts `)` as a word char.)
// - Juxtaposition works inside parentheses too: `(~q ~s)` is `(~q & ~s)`.
//   (mitmproxy only accepts the infix grammar between parentheses.)
// - An operand is required after `&`, `|` and `!`: `a & & b` is an error at
//   the second `&`. (mitmproxy silently takes that `&` as a bare URL regex.)
// - Inside quotes only `\<quote>` is unescaped; other backslash pairs reach
//   the regex unchanged, so `"google\.com"` means google\.com. (pyparsing
//   drops the backslash, so there it would also match "googleXcom".)
// - `~c` takes a whole word that must be all digits: `~c 200x` is an error
//   at the argument. (mitmproxy reads it as `~c 200` AND the bare regex `x`,
//   which is never what was meant.) Its digits do end before `|` or `&`, as
//   mitmproxy's do: `~c 404|~c 500` is an or.
// - Nesting of `(` and `!` is capped at MAX_DEPTH, so a pathological input is
//   a FilterSyntaxError rather than a stack overflow.
//
// Kept from mitmproxy on purpose:
//
// - An unquoted regex runs until whitespace or one of ( ) ~ ' ", so
//   `~d example.com|~d foo` takes `example.com|` as the regex; write the
//   operators with spaces around them. Regexes containing parentheses,
//   whitespace, `~` or quotes must be quoted: `~u "get(Info|Routers)"`.
// - An operator must be followed by whitespace (or `)` or the end), so
//   `~q~s` and `~c200` are errors.
//
// Regexes are JavaScript RegExp (no `u` flag), used as a search like Python's
// re.search. Python-only syntax such as `(?i)` or `(?P<name>…)` is not
// translated; `(?<name>…)` is JavaScript's spelling.

import { FilterSyntaxError } from "./errors.ts";
import { tokenize } from "./lexer.ts";
import type { Token } from "./lexer.ts";
import { URL_OPERATOR } from "./operators.ts";
import type { FlagOperator, RegexOperator } from "./operators.ts";

export { FilterSyntaxError } from "./errors.ts";

interface Span {
  /** Offset of the node's first character in the expression. */
  readonly start: number;
  /** Offset just past the node's last character. */
  readonly end: number;
}

export interface AndNode extends Span {
  readonly type: "and";
  readonly children: ReadonlyArray<FilterNode>;
}

export interface OrNode extends Span {
  readonly type: "or";
  readonly children: ReadonlyArray<FilterNode>;
}

export interface NotNode extends Span {
  readonly type: "not";
  readonly operand: FilterNode;
}

export interface FlagNode extends Span {
  readonly type: "flag";
  readonly operator: FlagOperator;
}

export interface RegexNode extends Span {
  readonly type: "regex";
  readonly operator: RegexOperator;
  /** The regex source as the user wrote it (quotes removed). */
  readonly pattern: string;
  /** JavaScript RegExp flags: the case flag plus the operator's own. */
  readonly flags: string;
  /** True for a regex written without `~u`. */
  readonly bare: boolean;
}

export interface StatusNode extends Span {
  readonly type: "status";
  readonly status: number;
}

export type FilterNode = AndNode | OrNode | NotNode | FlagNode | RegexNode | StatusNode;

export interface FilterOptions {
  /**
   * Match regexes case-sensitively. Defaults to the environment:
   * PRYX_CASE_SENSITIVE_FILTERS=1 or MITMPROXY_CASE_SENSITIVE_FILTERS=1.
   */
  readonly caseSensitive?: boolean;
}

/** Whether the environment asks for case-sensitive filters. Read on every parse, so tests and `--set` can change it. */
export function caseSensitiveFromEnv(): boolean {
  return (
    process.env.PRYX_CASE_SENSITIVE_FILTERS === "1" || process.env.MITMPROXY_CASE_SENSITIVE_FILTERS === "1"
  );
}

export const MAX_DEPTH = 256;

/** Parses a filter expression into an AST. Throws FilterSyntaxError, and nothing else, on bad input. */
export function parseFilter(expression: string, options: FilterOptions = {}): FilterNode {
  const parser = new Parser(expression, tokenize(expression), options.caseSensitive ?? caseSensitiveFromEnv());
  return parser.parse();
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly expression: string,
    private readonly tokens: Token[],
    private readonly caseSensitive: boolean,
  ) {}

  parse(): FilterNode {
    const first = this.peek();
    if (first.kind === "eof") {
      throw this.error(first.start, "a filter expression", "empty filter expression");
    }
    const node = this.parseSequence();
    const rest = this.peek();
    if (rest.kind === "rparen") {
      throw this.error(rest.start, "end of expression", "unmatched )");
    }
    return node;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== "eof") this.index += 1;
    return token;
  }

  private error(position: number, expected: string, problem?: string): FilterSyntaxError {
    return new FilterSyntaxError(this.expression, position, expected, problem);
  }

  private parseSequence(): FilterNode {
    const items: FilterNode[] = [this.parseOr()];
    for (let t = this.peek(); t.kind !== "eof" && t.kind !== "rparen"; t = this.peek()) {
      items.push(this.parseOr());
    }
    return items.length === 1 ? items[0] : combine("and", items);
  }

  private parseOr(): FilterNode {
    const items: FilterNode[] = [this.parseAnd()];
    while (this.peek().kind === "or") {
      const op = this.next();
      items.push(this.parseAnd(op));
    }
    return items.length === 1 ? items[0] : combine("or", items);
  }

  private parseAnd(after?: Token): FilterNode {
    const items: FilterNode[] = [this.parseUnary(after)];
    while (this.peek().kind === "and") {
      const op = this.next();
      items.push(this.parseUnary(op));
    }
    return items.length === 1 ? items[0] : combine("and", items);
  }

  /** @param after the operator token that demanded this operand, for the error message. */
  private parseUnary(after?: Token): FilterNode {
    const token = this.peek();
    if (token.kind !== "not") return this.parsePrimary(after);
    this.next();
    this.enter(token);
    const operand = this.parseUnary(token);
    this.depth -= 1;
    return { type: "not", operand, start: token.start, end: operand.end };
  }

  private parsePrimary(after?: Token): FilterNode {
    const token = this.peek();
    switch (token.kind) {
      case "lparen": {
        this.next();
        this.enter(token);
        if (this.peek().kind === "rparen") {
          throw this.error(this.peek().start, "an expression inside ( )");
        }
        const inner = this.parseSequence();
        const close = this.peek();
        if (close.kind !== "rparen") {
          throw this.error(token.start, ") to close this (");
        }
        this.next();
        this.depth -= 1;
        return inner;
      }
      case "operator":
        this.next();
        return this.parseOperator(token);
      case "word":
      case "quoted":
        this.next();
        return this.regexNode(URL_OPERATOR, token, token.start, true);
      default: {
        const what = after ? `an expression after ${after.value}` : "an expression";
        // At the end there is nothing to point at, so point at what wanted the operand.
        const position = token.kind === "eof" && after ? after.start : token.start;
        throw this.error(position, what);
      }
    }
  }

  private parseOperator(token: Token): FilterNode {
    const spec = token.operator;
    if (!spec) throw this.error(token.start, "an operator");
    if (spec.kind === "flag") {
      return { type: "flag", operator: spec, start: token.start, end: token.end };
    }
    const argument = this.peek();
    const hasArgument = argument.kind === "word" || argument.kind === "quoted";
    if (spec.kind === "status") {
      const expected = `a status code (digits) after ~${spec.code}`;
      if (!hasArgument) throw this.missing(token, argument, expected);
      if (argument.kind !== "word" || !/^[0-9]+$/.test(argument.value)) {
        throw this.error(argument.start, expected);
      }
      this.next();
      return { type: "status", status: Number(argument.value), start: token.start, end: argument.end };
    }
    if (!hasArgument) throw this.missing(token, argument, `a regex after ~${spec.code}`);
    this.next();
    return this.regexNode(spec, argument, token.start, false);
  }

  private missing(operator: Token, found: Token, expected: string): FilterSyntaxError {
    // Nothing left: point at the operator that wanted an argument.
    return this.error(found.kind === "eof" ? operator.start : found.start, expected);
  }

  private regexNode(operator: RegexOperator, argument: Token, start: number, bare: boolean): RegexNode {
    const { pattern, flags } = fromPython(argument.value, (this.caseSensitive ? "" : "i") + operator.flags);
    try {
      new RegExp(pattern, flags);
    } catch (e) {
      const hint = pattern.includes("(?") ? " (regexes here are JavaScript's: Python's scoped flags such as (?i:…) have no match; filters ignore case already)" : "";
      throw this.error(argument.start, "a valid regex", `invalid regex: ${regexProblem(e)}${hint}`);
    }
    return { type: "regex", operator, pattern, flags, bare, start, end: argument.end };
  }

  private enter(token: Token): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) {
      throw this.error(token.start, `at most ${MAX_DEPTH} nested ( or !`);
    }
  }
}

function combine(type: "and" | "or", items: FilterNode[]): FilterNode {
  return { type, children: items, start: items[0].start, end: items[items.length - 1].end };
}

/** Python's `\A`, `\Z` and (without MULTILINE) `$`, in JavaScript. */
const TEXT_START = "(?<![\\s\\S])";
const TEXT_END = "(?![\\s\\S])";
const BEFORE_LAST_NEWLINE = "(?=\\n?(?![\\s\\S]))";

/**
 * mitmproxy's filters are Python regexes, and saved ones carry Python's spellings, which
 * JavaScript reads otherwise or not at all: leading inline flags `(?i)`/`(?s)`/`(?m)` become
 * flags, `(?P<name>…)` and `(?P=name)` named groups, `\A` and `\Z` the ends of the text (in
 * JavaScript they were the letters A and Z, matching nothing expected, silently), whatever the
 * `m` flag makes of `^` and `$`; and without `m`, `$` matches before a last newline too, as
 * Python's does (`~b three$` on a body ending "three\n").
 */
export function fromPython(pattern: string, flags: string): { pattern: string; flags: string } {
  let out = pattern;
  const lead = /^\(\?([aiLmsux]+)\)/.exec(out);
  if (lead && !(lead[1] as string).includes("x")) {
    out = out.slice(lead[0].length);
    for (const f of lead[1] as string) if ("ims".includes(f) && !flags.includes(f)) flags += f;
  }
  let result = "";
  // Inside [...], `$` is a character; `]` first in a class is one too.
  let inClass = false;
  for (let i = 0; i < out.length; i++) {
    const c = out[i] as string;
    if (c === "\\" && i + 1 < out.length) {
      const next = out[i + 1] as string;
      result += next === "A" && !inClass ? TEXT_START : next === "Z" && !inClass ? TEXT_END : c + next;
      i++;
    } else if (inClass) {
      if (c === "]" && out[i - 1] !== "[" && !(out[i - 1] === "^" && out[i - 2] === "[")) inClass = false;
      result += c;
    } else if (c === "[") {
      inClass = true;
      result += c;
    } else if (c === "$" && !flags.includes("m")) {
      result += BEFORE_LAST_NEWLINE;
    } else if (out.startsWith("(?P<", i)) {
      result += "(?<";
      i += 3;
    } else if (out.startsWith("(?P=", i)) {
      const end = out.indexOf(")", i);
      if (end < 0) {
        result += c;
        continue;
      }
      result += `\\k<${out.slice(i + 4, end)}>`;
      i = end;
    } else result += c;
  }
  return { pattern: result, flags };
}

// V8 says "Invalid regular expression: /[/i: Unterminated character class";
// the pattern is already under the caret, so keep only the reason.
function regexProblem(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const match = /^Invalid regular expression: \/.*\/[a-z]*: (.*)$/s.exec(message);
  return match ? match[1] : message;
}
