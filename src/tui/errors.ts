/**
 * Error text for the one-line status bar. The engine's filter errors span three lines (the message,
 * the expression, a caret under the column); the first line already names the column, so the
 * status bar shows it without the option's preamble, and the whole text goes to the event log.
 * `full` is set when there is more to read there; the status bar adds the hint.
 */

const FILTER_ERROR = /^option (\S+) expects a filter expression[^\n]*?: (Invalid filter expression at column \d+: [^\n]*)/;

export function conciseError(text: string): { short: string; full: string | undefined } {
  const lines = text.split("\n");
  const first = lines[0] ?? "";
  const multi = lines.length > 1 ? text : undefined;
  const m = FILTER_ERROR.exec(text);
  if (m) return { short: `${m[1]}: ${m[2]}`, full: multi };
  return { short: first, full: multi };
}
