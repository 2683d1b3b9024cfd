import type { Line, Segment } from "./types.ts";
import { lineText, lineTextAt, type LineList } from "./line-list.ts";

export { lineText };

/** The segments of `line` cut to [start, end) of its text; a segment wholly inside is kept as it is. */
export function sliceLine(line: Line, start: number, end: number): Line {
  const out: Segment[] = [];
  let at = 0;
  for (const seg of line) {
    const next = at + seg.text.length;
    const a = Math.max(start, at);
    const b = Math.min(end, next);
    if (a < b) out.push(a === at && b === next ? seg : { ...seg, text: seg.text.slice(a - at, b - at) });
    at = next;
    if (at >= end) break;
  }
  return out;
}

/**
 * Index of the next line (after `from`, or before it when `backwards`) whose text contains `term`,
 * ignoring case and wrapping around; `from` itself is checked last so a lone match is still found.
 * A `from` outside the lines (e.g. -1 when nothing is focused) starts at the first line, or the last when backwards.
 */
export function searchLines(lines: LineList, term: string, from: number, backwards = false, continues?: (row: number) => boolean): number | undefined {
  const n = lines.length;
  if (n === 0 || term === "") return undefined;
  const needle = term.toLowerCase();
  const step = backwards ? -1 : 1;
  const start = from >= 0 && from < n ? Math.trunc(from) : backwards ? n : -1;
  for (let k = 1; k <= n; k++) {
    const i = (((start + k * step) % n) + n) % n;
    const text = lineTextAt(lines, i).toLowerCase();
    if (text.includes(needle)) return i;
    if (i + 1 < n && continues?.(i) && spansInto(text, lineTextAt(lines, i + 1).toLowerCase(), needle)) return i;
  }
  return undefined;
}

/**
 * Whether `needle` starts in `row` and runs on into `next`, the row the same line wraps onto:
 * what the screen's width cut in two is still found (a wrap between words dropped the space, a
 * long word's was not at one: both joins are tried). A match inside `next` alone is its own row's.
 */
function spansInto(row: string, next: string, needle: string): boolean {
  const rest = next.trimStart();
  const from = Math.max(0, row.length - needle.length + 1);
  for (const joined of [row + rest, `${row} ${rest}`]) {
    if (joined.slice(from, row.length + needle.length - 1).includes(needle)) return true;
  }
  return false;
}

/** A piece of a line, and whether it is (part of) a match of the search term. */
export interface MarkedSegment {
  readonly seg: Segment;
  readonly match: boolean;
}

/**
 * `line` cut where `term` occurs (ignoring case, as the search does), so every match on the
 * screen can be drawn as one; a segment keeps its style on both sides of a cut. Undefined when
 * the line holds no match, so most rows are drawn as they are.
 */
export function markMatches(line: Line, term: string): MarkedSegment[] | undefined {
  if (term === "") return undefined;
  const text = lineText(line);
  const lower = text.toLowerCase();
  const needle = term.toLowerCase();
  // Lower-casing can change a string's length (İ): then the offsets do not line up, and nothing is marked.
  if (lower.length !== text.length) return undefined;
  const ranges: [number, number][] = [];
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) ranges.push([at, at + needle.length]);
  if (ranges.length === 0) return undefined;
  const out: MarkedSegment[] = [];
  const mark = (start: number, end: number, match: boolean): void => {
    if (start < end) for (const seg of sliceLine(line, start, end)) out.push({ seg, match });
  };
  let at = 0;
  for (const [start, end] of ranges) {
    mark(at, start, false);
    mark(start, end, true);
    at = end;
  }
  mark(at, text.length, false);
  return out;
}
