/**
 * Content lines kept compactly. A body shown whole (`f`) can run to millions of lines: a 21 MiB
 * JSON array pretty-printed is 2.6 million lines of 9.4 million segments, and as one object per
 * segment and an array per line that was about 900 MiB of heap and seconds of garbage
 * collection before the first frame (mitmproxy's console is known to crash there, #3049).
 * Packed, a run of lines is one string and three typed arrays, about a tenth of that, and a
 * line becomes objects again only when a screen draws it.
 */
import type { Line, Segment, SegmentStyle } from "./types.ts";

/** What the screens read lines through: an array of lines is one, and so are the lists below. */
export interface LineList extends Iterable<Line> {
  readonly length: number;
  at(index: number): Line | undefined;
}

/** A list that tells a line's text and length without making its segments. */
export interface TextLines extends LineList {
  textAt(index: number): string;
  /** The line's length in UTF-16 units. */
  unitsAt(index: number): number;
  /** The line's width in columns, when the list knows it without measuring (hex rows are ASCII). */
  columnsAt?(index: number): number | undefined;
}

function hasText(list: LineList): list is TextLines {
  return typeof (list as Partial<TextLines>).textAt === "function";
}

export function lineText(line: Line): string {
  let s = "";
  for (const seg of line) s += seg.text;
  return s;
}

/** A line's length in UTF-16 units, without joining its text. */
export function lineUnits(line: Line): number {
  let units = 0;
  for (const seg of line) units += seg.text.length;
  return units;
}

/** The text of line `index` of `list` ("" past its end). */
export function lineTextAt(list: LineList, index: number): string {
  if (hasText(list)) return list.textAt(index);
  const line = list.at(index);
  return line ? lineText(line) : "";
}

/** The length of line `index` in UTF-16 units. */
export function lineUnitsAt(list: LineList, index: number): number {
  if (hasText(list)) return list.unitsAt(index);
  const line = list.at(index);
  return line ? lineUnits(line) : 0;
}

/** The width of line `index` in columns when its list knows it without measuring; undefined otherwise. */
export function lineColumnsAt(list: LineList, index: number): number | undefined {
  return hasText(list) ? list.columnsAt?.(index) : undefined;
}

/** Every line of `list` as objects: for tests and small lists. */
export function lineArray(list: LineList): Line[] {
  return Array.from(list);
}

/** A list's lines in order: the iterator of the lists that make lines on demand. */
export function* linesOf(list: LineList): Generator<Line> {
  for (let i = 0; i < list.length; i++) yield list.at(i) as Line;
}

const STYLES: readonly (SegmentStyle | undefined)[] = [undefined, "key", "string", "number", "boolean", "null", "punct", "offset", "dim", "heading", "error"];
/** A segment's style as its index in STYLES ("" for none): an object read, cheaper than a Map's for millions of segments. */
const STYLE_CODES = Object.fromEntries(STYLES.map((s, i) => [s ?? "", i])) as Record<SegmentStyle | "", number>;

const CHUNK_LINES = 4096;
/** Lines made from a chunk are kept for a while, so a row drawn again is the same object (rows are memoized by identity). */
const RECENT_LINES = 2048;

/**
 * Up to CHUNK_LINES lines (only a list's last has fewer): their text end to end, where each
 * segment ends in it, its style, and where each line's segments end. Plain data, so lines
 * rendered on another thread cross to this one as they are.
 */
export interface LineChunk {
  readonly text: string;
  readonly segmentEnd: Uint32Array;
  readonly style: Uint8Array;
  readonly lineEnd: Uint32Array;
}

function pack(lines: readonly Line[]): LineChunk {
  let segments = 0;
  for (const line of lines) segments += line.length;
  const parts: string[] = new Array<string>(segments);
  const segmentEnd = new Uint32Array(segments);
  const style = new Uint8Array(segments);
  const lineEnd = new Uint32Array(lines.length);
  let k = 0;
  let at = 0;
  for (let n = 0; n < lines.length; n++) {
    for (const seg of lines[n]!) {
      parts[k] = seg.text;
      at += seg.text.length;
      segmentEnd[k] = at;
      style[k] = STYLE_CODES[seg.style ?? ""];
      k++;
    }
    lineEnd[n] = k;
  }
  return { text: parts.join(""), segmentEnd, style, lineEnd };
}

/** Line `n` of `chunk`: its first segment, the one after its last, and where its text starts. */
function bounds(chunk: LineChunk, n: number): [number, number, number] {
  const first = n === 0 ? 0 : chunk.lineEnd[n - 1]!;
  return [first, chunk.lineEnd[n]!, first === 0 ? 0 : chunk.segmentEnd[first - 1]!];
}

/** Line `n` of `chunk` as segments. */
function unpack(chunk: LineChunk, n: number): Line {
  const [first, end, start] = bounds(chunk, n);
  const line: Segment[] = new Array<Segment>(end - first);
  let from = start;
  for (let k = first; k < end; k++) {
    const to = chunk.segmentEnd[k]!;
    const style = STYLES[chunk.style[k]!];
    line[k - first] = style === undefined ? { text: chunk.text.slice(from, to) } : { text: chunk.text.slice(from, to), style };
    from = to;
  }
  return line;
}

/** Lines made on demand, kept for a while so a row drawn again is the same object (rows are memoized by identity). */
export class RecentLines {
  private lines = new Map<number, Line>();

  get(index: number, make: () => Line): Line {
    const kept = this.lines.get(index);
    if (kept) return kept;
    const line = make();
    if (this.lines.size >= RECENT_LINES) this.lines = new Map();
    this.lines.set(index, line);
    return line;
  }
}

/** The first `length` lines of a list, not copied (a view cut at content_view_lines_cutoff). */
export class FirstLines implements TextLines {
  constructor(
    private readonly list: LineList,
    readonly length: number,
  ) {}

  at(index: number): Line | undefined {
    return index < this.length ? this.list.at(index) : undefined;
  }

  textAt(index: number): string {
    return index < this.length ? lineTextAt(this.list, index) : "";
  }

  unitsAt(index: number): number {
    return index < this.length ? lineUnitsAt(this.list, index) : 0;
  }

  columnsAt(index: number): number | undefined {
    return index < this.length ? lineColumnsAt(this.list, index) : undefined;
  }

  [Symbol.iterator](): Iterator<Line> {
    return linesOf(this);
  }
}

/** Lines appended one by one (a content view's sink), packed CHUNK_LINES at a time. */
export class PackedLines implements TextLines {
  private readonly packed: LineChunk[] = [];
  /** The lines not packed yet, fewer than CHUNK_LINES. */
  private tail: Line[] = [];
  private readonly recent = new RecentLines();

  /** The lines of `chunks` (as `chunks()` gave them, on this thread or another). */
  static fromChunks(chunks: readonly LineChunk[]): PackedLines {
    const lines = new PackedLines();
    for (const chunk of chunks) {
      if (lines.tail.length === 0 && chunk.lineEnd.length === CHUNK_LINES) lines.packed.push(chunk);
      else for (let n = 0; n < chunk.lineEnd.length; n++) lines.push(unpack(chunk, n));
    }
    return lines;
  }

  /** Any list's lines, packed. */
  static of(list: LineList): PackedLines {
    if (list instanceof PackedLines) return list;
    const lines = new PackedLines();
    for (const line of list) lines.push(line);
    return lines;
  }

  /** The lines as plain data, for another thread: the tail is packed as a last, shorter chunk. */
  chunks(): LineChunk[] {
    return this.tail.length ? [...this.packed, pack(this.tail)] : [...this.packed];
  }

  get length(): number {
    return this.packed.length * CHUNK_LINES + this.tail.length;
  }

  push(line: Line): void {
    this.tail.push(line);
    if (this.tail.length < CHUNK_LINES) return;
    this.packed.push(pack(this.tail));
    this.tail = [];
  }

  at(index: number): Line | undefined {
    if (index < 0 || index >= this.length) return undefined;
    const c = Math.floor(index / CHUNK_LINES);
    if (c === this.packed.length) return this.tail[index - c * CHUNK_LINES];
    const chunk = this.packed[c]!;
    return this.recent.get(index, () => unpack(chunk, index - c * CHUNK_LINES));
  }

  /** Where line `index`'s text starts and ends in its chunk's text, or undefined for a line not packed yet. */
  private span(index: number): [LineChunk, number, number] | undefined {
    const c = Math.floor(index / CHUNK_LINES);
    const chunk = this.packed[c];
    if (!chunk) return undefined;
    const [first, end, from] = bounds(chunk, index - c * CHUNK_LINES);
    return [chunk, from, end === first ? from : chunk.segmentEnd[end - 1]!];
  }

  textAt(index: number): string {
    const span = this.span(index);
    if (span) return span[0].text.slice(span[1], span[2]);
    const line = this.at(index);
    return line ? lineText(line) : "";
  }

  unitsAt(index: number): number {
    const span = this.span(index);
    if (span) return span[2] - span[1];
    const line = this.at(index);
    return line ? lineUnits(line) : 0;
  }

  [Symbol.iterator](): Iterator<Line> {
    return linesOf(this);
  }
}

/** Lists end to end (a message's heading and headers, then its body's lines), none of them copied. */
export class JoinedLines implements TextLines {
  readonly length: number;
  private readonly parts: readonly LineList[];

  constructor(parts: readonly LineList[]) {
    this.parts = parts.filter((p) => p.length > 0);
    this.length = this.parts.reduce((sum, p) => sum + p.length, 0);
  }

  /** The part line `index` is in, and its index there. */
  private find(index: number): [LineList, number] | undefined {
    if (index < 0) return undefined;
    let i = index;
    for (const part of this.parts) {
      if (i < part.length) return [part, i];
      i -= part.length;
    }
    return undefined;
  }

  at(index: number): Line | undefined {
    const found = this.find(index);
    return found && found[0].at(found[1]);
  }

  textAt(index: number): string {
    const found = this.find(index);
    return found ? lineTextAt(found[0], found[1]) : "";
  }

  unitsAt(index: number): number {
    const found = this.find(index);
    return found ? lineUnitsAt(found[0], found[1]) : 0;
  }

  columnsAt(index: number): number | undefined {
    const found = this.find(index);
    return found && lineColumnsAt(found[0], found[1]);
  }

  [Symbol.iterator](): Iterator<Line> {
    return linesOf(this);
  }
}
