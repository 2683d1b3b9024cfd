// Lives apart from parser.ts because the lexer throws it too, and the lexer
// must not import the parser.

/**
 * A filter expression that cannot be parsed. `position` is a 0-based offset
 * into `expression` (UTF-16 code units, like JavaScript string indices); the
 * message names the 1-based column, as a reader counts and as the command
 * line's own errors do.
 */
export class FilterSyntaxError extends Error {
  override name = "FilterSyntaxError";
  readonly expression: string;
  readonly position: number;
  /** What the parser expected at `position`, e.g. `a regex after ~u`. */
  readonly expected: string;

  /**
   * @param problem replaces `expected …` in the message when the input is
   *   wrong in a way "expected" describes badly (an unknown operator).
   */
  constructor(expression: string, position: number, expected: string, problem?: string) {
    const pos = Math.max(0, Math.min(position, expression.length));
    super(
      `Invalid filter expression at column ${pos + 1}: ${problem ?? `expected ${expected}`}\n` +
        `  ${displayable(expression)}\n` +
        `  ${" ".repeat(pos)}^`,
    );
    this.expression = expression;
    this.position = pos;
    this.expected = expected;
  }
}

// Control characters (a pasted newline or tab) would break the caret line,
// so each is shown as one space: one code unit in, one column out.
function displayable(expression: string): string {
  return expression.replace(/[\u0000-\u001f\u007f]/g, " ");
}
