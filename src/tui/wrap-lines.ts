/**
 * Content lines wrapped to the flow view's width, as mitmproxy's flow view wraps them: a long
 * URL, cookie or token, a JSON string or an error message is read whole instead of cut at the
 * edge of the screen. The rows are what the view scrolls, pages and searches.
 */
import { lineText, sliceLine, type Line, type Segment } from "./contentviews/index.ts";
import { columns, wrapRanges } from "./format.ts";

/** Columns a continuation row is indented by: under a header's value, or as the line itself is; at most half the row. */
function continuationIndent(line: Line, text: string, width: number): number {
  const [first, second] = line;
  const indent = first?.style === "key" && second?.text === ": " ? columns(first.text) + 2 : text.length - text.trimStart().length;
  return Math.min(indent, Math.floor(width / 2));
}

export interface WrappedLines {
  readonly rows: Line[];
  /** For each row, the index of the line it is part of (ascending); undefined when every line fits, one row each. */
  readonly lineOfRow: Int32Array | undefined;
}

/**
 * The text of `line` when it is wider than `width` columns, else undefined. No character takes
 * more than two columns a UTF-16 unit, so most lines are neither joined nor measured.
 */
function overflow(line: Line, width: number): string | undefined {
  let units = 0;
  for (const seg of line) units += seg.text.length;
  if (units * 2 <= width) return undefined;
  const text = lineText(line);
  return columns(text) > width ? text : undefined;
}

/** `lines` in rows of at most `width` columns; a line that fits is the same object (rows are memoized by identity). */
export function wrapLines(lines: readonly Line[], width: number): WrappedLines {
  let first = 0;
  while (first < lines.length && overflow(lines[first]!, width) === undefined) first++;
  // A body of short lines (pretty-printed JSON): nothing to copy or map.
  if (first === lines.length) return { rows: lines as Line[], lineOfRow: undefined };
  const rows: Line[] = lines.slice(0, first);
  const owners: number[] = Array.from({ length: first }, (_, n) => n);
  for (let n = first; n < lines.length; n++) {
    const line = lines[n]!;
    const text = overflow(line, width);
    if (text === undefined) {
      rows.push(line);
      owners.push(n);
      continue;
    }
    const indent = continuationIndent(line, text, width);
    const pad: Segment = { text: " ".repeat(indent) };
    wrapRanges(text, width, width - indent).forEach(([a, b], i) => {
      const row = sliceLine(line, a, b);
      rows.push(i === 0 || indent === 0 ? row : [pad, ...row]);
      owners.push(n);
    });
  }
  return { rows, lineOfRow: Int32Array.from(owners) };
}

/** The row of `to` where the line that row `row` of `from` is part of begins. */
export function sameLineRow(from: Pick<WrappedLines, "lineOfRow"> | undefined, to: Pick<WrappedLines, "lineOfRow"> | undefined, row: number): number {
  const fromRows = from?.lineOfRow;
  const line = fromRows ? (fromRows[row] ?? fromRows.length) : row;
  const toRows = to?.lineOfRow;
  if (!toRows) return line;
  let lo = 0;
  let hi = toRows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((toRows[mid] as number) < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
