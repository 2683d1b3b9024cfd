import type { Line } from "./types.ts";

export function lineText(line: Line): string {
  let s = "";
  for (const seg of line) s += seg.text;
  return s;
}

/**
 * Index of the next line (after `from`, or before it when `backwards`) whose text contains `term`,
 * ignoring case and wrapping around; `from` itself is checked last so a lone match is still found.
 * A `from` outside the lines (e.g. -1 when nothing is focused) starts at the first line, or the last when backwards.
 */
export function searchLines(lines: Line[], term: string, from: number, backwards = false): number | undefined {
  const n = lines.length;
  if (n === 0 || term === "") return undefined;
  const needle = term.toLowerCase();
  const step = backwards ? -1 : 1;
  const start = from >= 0 && from < n ? Math.trunc(from) : backwards ? n : -1;
  for (let k = 1; k <= n; k++) {
    const i = (((start + k * step) % n) + n) % n;
    if (lineText(lines[i]!).toLowerCase().includes(needle)) return i;
  }
  return undefined;
}
