import { FilterSyntaxError } from "./errors.ts";
import { lookupOperator } from "./operators.ts";
import type { OperatorSpec } from "./operators.ts";

export type TokenKind =
  | "operator" // ~code
  | "word" // unquoted regex (or ~c's digits)
  | "quoted" // "…" or '…'
  | "lparen"
  | "rparen"
  | "not"
  | "and"
  | "or"
  | "eof";

/** The one-character tokens. */
const PUNCTUATION: Readonly<Record<string, TokenKind>> = { "(": "lparen", ")": "rparen", "!": "not", "&": "and", "|": "or" };

export interface Token {
  readonly kind: TokenKind;
  /**
   * operator: the code without `~`; word: the text; quoted: the text between
   * the quotes with `\<quote>` unescaped; others: the source character ("" for eof).
   */
  readonly value: string;
  /** Offset of the first character in the expression. */
  readonly start: number;
  /** Offset just past the last character. */
  readonly end: number;
  /** Set on operator tokens. */
  readonly operator?: OperatorSpec;
}

const WHITESPACE = /\s/;
// mitmproxy's unquoted regex: anything but these and whitespace.
const WORD_STOP = /[\s()~'"]/;
const OPERATOR_NAME = /[A-Za-z]/;

function isWordChar(ch: string): boolean {
  return !WORD_STOP.test(ch);
}

/**
 * Splits a filter expression into tokens.
 *
 * Lexing is context-sensitive in exactly one place: the word after an
 * operator that takes an argument is that argument, whatever it starts with,
 * so `~u !x` is the regex `!x` and `~b &` the regex `&`. Everywhere else a
 * leading `!`, `&` or `|` is an operator, while inside a word they are regex
 * characters (`~d a|b` is one regex, as in mitmproxy).
 */
export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const n = expression.length;
  let i = 0;
  let argumentFor: OperatorSpec | undefined;

  const push = (kind: TokenKind, value: string, start: number, end: number, operator?: OperatorSpec) => {
    tokens.push(operator ? { kind, value, start, end, operator } : { kind, value, start, end });
  };

  const readQuoted = (): void => {
    const quote = expression[i];
    const start = i;
    let value = "";
    let j = i + 1;
    while (j < n) {
      const ch = expression[j];
      if (ch === "\\" && j + 1 < n) {
        const next = expression[j + 1];
        // Only the quote character is unescaped. Every other backslash pair
        // is kept, so `"foo\.com"` is the regex foo\.com and `"a\\"` the
        // regex a\\ (mitmproxy's pyparsing drops the backslash and turns
        // `\.` into `.`, which silently changes the regex).
        value += next === quote ? quote : ch + next;
        j += 2;
        continue;
      }
      if (ch === quote) {
        push("quoted", value, start, j + 1);
        i = j + 1;
        return;
      }
      value += ch;
      j += 1;
    }
    throw new FilterSyntaxError(expression, start, `a closing ${quote} for the quote opened here`);
  };

  /** `digitsOnly` (~c's argument): digits end the word before `|` or `&`, so `~c 404|~c 500` is an or, as in mitmproxy. */
  const readWord = (digitsOnly = false): void => {
    const start = i;
    let j = i;
    while (j < n && isWordChar(expression[j])) {
      if (digitsOnly && j > start && (expression[j] === "|" || expression[j] === "&") && /^\d+$/.test(expression.slice(start, j))) break;
      j += 1;
    }
    push("word", expression.slice(start, j), start, j);
    i = j;
  };

  while (true) {
    while (i < n && WHITESPACE.test(expression[i])) i += 1;
    if (i >= n) {
      push("eof", "", n, n);
      return tokens;
    }
    const ch = expression[i];

    if (argumentFor) {
      const status = argumentFor.kind === "status";
      argumentFor = undefined;
      if (ch === '"' || ch === "'") {
        readQuoted();
        continue;
      }
      if (isWordChar(ch)) {
        readWord(status);
        continue;
      }
      // No argument here: the parser reports it with the operator in hand.
    }

    const punct = PUNCTUATION[ch];
    if (punct !== undefined) {
      push(punct, ch, i, i + 1);
      i += 1;
      continue;
    }
    switch (ch) {
      case '"':
      case "'":
        readQuoted();
        break;
      case "~": {
        const start = i;
        let j = i + 1;
        while (j < n && OPERATOR_NAME.test(expression[j])) j += 1;
        const name = expression.slice(start + 1, j);
        const spec = name ? lookupOperator(name) : undefined;
        if (!spec) {
          let k = j;
          while (k < n && isWordChar(expression[k])) k += 1;
          const spelled = expression.slice(start, k);
          throw new FilterSyntaxError(
            expression,
            start,
            "an operator such as ~u, ~h or ~q",
            spelled === "~" ? "expected an operator name after ~" : `unknown operator ${spelled}`,
          );
        }
        // Like mitmproxy's WordEnd(), an operator must end as a word, so
        // `~q~s` and `~c200` are errors rather than guesses. Unlike
        // mitmproxy, `)` also ends it: `(~q & ~s)` is plainly meant to parse.
        if (j < n && !WHITESPACE.test(expression[j]) && expression[j] !== ")") {
          throw new FilterSyntaxError(expression, j, `whitespace after ~${name}`);
        }
        push("operator", name, start, j, spec);
        i = j;
        if (spec.kind !== "flag") argumentFor = spec;
        break;
      }
      default:
        readWord();
    }
  }
}
