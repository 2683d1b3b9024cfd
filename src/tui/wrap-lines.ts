/**
 * Content lines wrapped to the flow view's width, as mitmproxy's flow view wraps them: a long
 * URL, cookie or token, a JSON string or an error message is read whole instead of cut at the
 * edge of the screen. The rows are what the view scrolls, pages and searches.
 */
import { lineColumnsAt, lineText, lineTextAt, lineUnits, lineUnitsAt, linesOf, sliceLine, type Line, type LineList, type Segment } from "./contentviews/index.ts";
import { columns, wrapRanges } from "./format.ts";

/** Columns a continuation row is indented by: under a header's value, or as the line itself is; at most half the row. */
function continuationIndent(line: Line, text: string, width: number): number {
  const [first, second] = line;
  const indent = first?.style === "key" && second?.text === ": " ? columns(first.text) + 2 : text.length - text.trimStart().length;
  return Math.min(indent, Math.floor(width / 2));
}

export interface WrappedLines {
  readonly rows: LineList;
  /** For each row, the index of the line it is part of (ascending); undefined when every line fits, one row each. */
  readonly lineOfRow: Int32Array | undefined;
}

/**
 * Line `n` of `lines` when it is wider than `width` columns, and its text; else undefined. No
 * character takes more than two columns a UTF-16 unit, so most lines are neither joined nor measured.
 */
function overflow(lines: LineList, n: number, width: number): [Line, string] | undefined {
  const known = lineColumnsAt(lines, n);
  if (known !== undefined) return known > width ? [lines.at(n) as Line, lineTextAt(lines, n)] : undefined;
  if (lineUnitsAt(lines, n) * 2 <= width) return undefined;
  const text = lineTextAt(lines, n);
  return columns(text) > width ? [lines.at(n) as Line, text] : undefined;
}

/** The rows of wrapped lines: a line that fits is its own row, taken from the lines when drawn; a wrapped one's rows are made here. */
class WrappedRows implements LineList {
  constructor(
    private readonly lines: LineList,
    private readonly lineOfRow: Int32Array,
    /** The rows of the lines that did not fit, by row. */
    private readonly pieces: ReadonlyMap<number, Line>,
  ) {}

  get length(): number {
    return this.lineOfRow.length;
  }

  at(row: number): Line | undefined {
    if (row < 0 || row >= this.lineOfRow.length) return undefined;
    return this.pieces.get(row) ?? this.lines.at(this.lineOfRow[row]!);
  }

  textAt(row: number): string {
    const piece = this.pieces.get(row);
    return piece ? lineText(piece) : lineTextAt(this.lines, this.lineOfRow[row] ?? -1);
  }

  unitsAt(row: number): number {
    const piece = this.pieces.get(row);
    return piece ? lineUnits(piece) : lineUnitsAt(this.lines, this.lineOfRow[row] ?? -1);
  }

  [Symbol.iterator](): Iterator<Line> {
    return linesOf(this);
  }
}

/** `lines` in rows of at most `width` columns; a line that fits is the same object (rows are memoized by identity). */
export function wrapLines(lines: LineList, width: number): WrappedLines {
  let first = 0;
  while (first < lines.length && overflow(lines, first, width) === undefined) first++;
  // A body of short lines (pretty-printed JSON): nothing to copy or map.
  if (first === lines.length) return { rows: lines, lineOfRow: undefined };
  const owners: number[] = Array.from({ length: first }, (_, n) => n);
  const pieces = new Map<number, Line>();
  for (let n = first; n < lines.length; n++) {
    const wide = overflow(lines, n, width);
    if (wide === undefined) {
      owners.push(n);
      continue;
    }
    const [line, text] = wide;
    const indent = continuationIndent(line, text, width);
    const pad: Segment = { text: " ".repeat(indent) };
    wrapRanges(text, width, width - indent).forEach(([a, b], i) => {
      const row = sliceLine(line, a, b);
      pieces.set(owners.length, i === 0 || indent === 0 ? row : [pad, ...row]);
      owners.push(n);
    });
  }
  const lineOfRow = Int32Array.from(owners);
  return { rows: new WrappedRows(lines, lineOfRow, pieces), lineOfRow };
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
