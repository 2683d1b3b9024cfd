import { parseParameterized } from "../../header-params.ts";
import type { Line, LineSink, SegmentStyle } from "./types.ts";
import { decodeDeclared } from "../../charset.ts";

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Tab stops every 8 columns, the terminal default, so expanded text lines up as it would in `cat`. */
export const TAB_WIDTH = 8;

export function hex2(n: number): string {
  return n < 16 ? "0" + n.toString(16) : n.toString(16);
}

/**
 * Length of the UTF-8 sequence starting at `i`: 1-4 when valid, 0 when invalid,
 * -1 when it is a valid start cut off by `end` (so a sniffed prefix is not penalised for where it was cut).
 */
export function utf8SequenceLength(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) need = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    // Excludes overlong forms and UTF-16 surrogates, which strict decoders reject.
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k <= need; k++) {
    if (i + k >= end) return -1;
    const d = b[i + k]!;
    if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return 0;
  }
  return need + 1;
}

/**
 * UTF-8 decode that shows invalid bytes as "\xNN" instead of U+FFFD, so the user can tell
 * which bytes were there (a Latin-1 "é" reads as \xe9, not as an anonymous replacement glyph).
 * Where invalid bytes are as many as the characters that are not ASCII, the bytes are not text
 * (compressed, binary): every byte that is not ASCII is escaped, as mitmproxy's raw view does,
 * rather than the few that happen to form UTF-8 drawn as stray glyphs among the escapes.
 */
export function decodeLenient(b: Uint8Array): string {
  try {
    return fatalDecoder.decode(b);
  } catch {
    let invalid = 0;
    let wide = 0;
    for (let i = 0; i < b.length; ) {
      const len = utf8SequenceLength(b, i, b.length);
      if (len === 0) invalid++;
      else if (len > 1) wide++;
      i += Math.max(1, len);
    }
    const binary = invalid >= wide;
    let out = "";
    let run = 0;
    let i = 0;
    while (i < b.length) {
      const len = utf8SequenceLength(b, i, b.length);
      if (len === 1 || (len > 1 && !binary)) {
        i += len;
        continue;
      }
      if (run < i) out += fatalDecoder.decode(b.subarray(run, i));
      out += "\\x" + hex2(b[i]!);
      i++;
      run = i;
    }
    if (run < b.length) out += fatalDecoder.decode(b.subarray(run));
    return out;
  }
}

// C0 and C1 controls and DEL: a terminal may act on them (ESC, 8-bit CSI), so they must never reach it raw.
const NEEDS_ESCAPE = /[\x00-\x1f\x7f-\x9f]/;

/** Makes one line of text safe to print: controls other than tab become "\xNN", tabs become spaces. */
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

export function visible(s: string, startColumn = 0): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  const escaped = s.replace(CONTROLS, (c) => "\\x" + hex2(c.charCodeAt(0)));
  if (!escaped.includes("\t")) return escaped;
  // Tab stops depend on the column, which the escapes above have already shifted.
  let out = "";
  let from = 0;
  for (let tab = escaped.indexOf("\t"); tab >= 0; tab = escaped.indexOf("\t", from)) {
    out += escaped.slice(from, tab);
    out += " ".repeat(TAB_WIDTH - ((startColumn + out.length) % TAB_WIDTH));
    from = tab + 1;
  }
  return out + escaped.slice(from);
}

export const SNIFF_BYTES = 1024;

/**
 * More than `percent`% control bytes or invalid UTF-8 in the first `window` bytes (10% of a KiB by
 * default): text views would be mostly escapes.
 */
export function isMostlyBinary(b: Uint8Array, percent = 10, window = SNIFF_BYTES): boolean {
  const end = Math.min(b.length, window);
  if (end === 0) return false;
  let bad = 0;
  let i = 0;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) bad++;
      i++;
      continue;
    }
    const len = utf8SequenceLength(b, i, end);
    if (len === -1) break;
    if (len === 0) {
      bad++;
      i++;
    } else i += len;
  }
  return bad * 100 > end * percent;
}


export function parseContentType(ct: string | undefined): { mime: string; params: Map<string, string> } {
  const { main, params } = parseParameterized(ct ?? "");
  return { mime: main.toLowerCase(), params };
}

/**
 * Longer lines are broken into pieces of at most this many bytes: a terminal shows a few hundred columns
 * at best, and this keeps one enormous line (minified code, a base64 blob) from costing work proportional to its size.
 */
export const MAX_LINE_BYTES = 16 * 1024;
/** How far back from MAX_LINE_BYTES a space is looked for to cut a long line at. */
const CUT_AT_SPACE_WITHIN = 1024;

/**
 * Emits `b[start, end)` as text lines (split on LF, CRLF counted as one break), each prefixed with `indent`.
 * Decodes one line at a time so a cut-off body is only decoded as far as it is shown.
 * With `trim`, lines lose surrounding whitespace and blank ones are skipped.
 */
export function pushTextLines(
  b: Uint8Array,
  start: number,
  end: number,
  sink: LineSink,
  indent = "",
  style?: SegmentStyle,
  trim = false,
): void {
  const view = b.subarray(0, end);
  let pos = start;
  while (pos < end) {
    if (!sink.more()) return;
    // Look for the break only within one line's reach: scanning to the end for every line of a
    // long unbroken body would make a cut view cost (lines shown) x (body size).
    const reach = view.subarray(pos, Math.min(end, pos + MAX_LINE_BYTES + 2));
    const rel = reach.indexOf(0x0a);
    const nl = rel < 0 ? pos + reach.length : pos + rel;
    let lineEnd = nl > pos && view[nl - 1] === 0x0d ? nl - 1 : nl;
    let next = rel < 0 ? nl : nl + 1;
    if (lineEnd - pos > MAX_LINE_BYTES) {
      lineEnd = pos + MAX_LINE_BYTES;
      // After a space near the limit, when there is one: a word cut in two could not be searched
      // for, and the next piece began with the space.
      // (Only so far back: a body with no space in it is not scanned back to its start for each piece.)
      const from = lineEnd - CUT_AT_SPACE_WITHIN;
      const space = from + view.subarray(from, lineEnd).lastIndexOf(0x20);
      if (space >= from) lineEnd = space + 1;
      // Never cut inside a UTF-8 sequence.
      else while (lineEnd > pos + 1 && (view[lineEnd]! & 0xc0) === 0x80) lineEnd--;
      next = lineEnd;
    }
    let text = decodeLenient(view.subarray(pos, lineEnd));
    pos = next;
    if (trim) {
      text = text.trim();
      if (!text) continue;
    }
    text = visible(text, indent.length);
    const seg = style ? { text, style } : { text };
    const line: Line = indent ? [{ text: indent }, seg] : [seg];
    sink.push(line);
  }
}

/**
 * A text body in the charset its Content-Type names (`text/plain; charset=iso-8859-1`,
 * windows-1252, shift_jis…), as UTF-8, which every view reads; any other body as it is. Read
 * as UTF-8, a Latin-1 "héllo" was taken for binary and shown in hex (mitmproxy decodes it).
 */
export function inUtf8(body: Uint8Array, contentType: string | undefined): Uint8Array {
  const text = decodeDeclared(body, contentType);
  return text === undefined ? body : Buffer.from(text, "utf8");
}
