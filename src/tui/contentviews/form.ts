import type { ContentView, Line, LineSink } from "./types.ts";
import { MAX_LINE_BYTES, decodeLenient, visible } from "./text.ts";
import { hexValue } from "../../urlencoded.ts";
import { cutEnd } from "../../ellipsis.ts";

/**
 * In a cut view, a single field longer than this is shown only up to here, with a note: decoding a
 * many-megabyte value (an inlined base64 upload) to show its first lines would cost its whole size.
 */
export const FIELD_PREVIEW_BYTES = 256 * 1024;

/** Form decoding of `b[start, end)`: "+" is a space, bad "%" escapes stay literal (as browsers do). */
function formDecode(b: Uint8Array, start: number, end: number): string {
  const out = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && i + 2 < end && hexValue(b[i + 1]!) >= 0 && hexValue(b[i + 2]!) >= 0) {
      out[n++] = hexValue(b[i + 1]!) * 16 + hexValue(b[i + 2]!);
      i += 2;
    } else out[n++] = c;
  }
  return decodeLenient(out.subarray(0, n));
}

/**
 * `key: value`. A value with line breaks (a textarea) continues on following lines aligned under its
 * first line rather than showing as one line full of escapes; very long lines are broken into pieces.
 */
export function pushPair(key: string, value: string, sink: LineSink): boolean {
  const shownKey = visible(key.length > MAX_LINE_BYTES ? cutEnd(key.slice(0, MAX_LINE_BYTES)) : key);
  const pad = " ".repeat(shownKey.length + 2);
  let first = true;
  let pos = 0;
  let nl = -1;
  do {
    if (!sink.more()) return false;
    // Found once per break and reused while a long line is cut into pieces.
    if (nl < pos) {
      nl = value.indexOf("\n", pos);
      if (nl < 0) nl = value.length;
    }
    let lineEnd = nl > pos && value.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    let next = nl + 1;
    if (lineEnd - pos > MAX_LINE_BYTES) {
      lineEnd = pos + MAX_LINE_BYTES;
      // Keep surrogate pairs whole.
      if (/[\ud800-\udbff]/.test(value[lineEnd - 1]!)) lineEnd--;
      next = lineEnd;
    }
    const text = visible(value.slice(pos, lineEnd), shownKey.length + 2);
    const line: Line = first
      ? [{ text: shownKey, style: "key" }, { text: ": ", style: "punct" }, { text, style: "string" }]
      : [{ text: pad }, { text, style: "string" }];
    sink.push(line);
    first = false;
    pos = next;
  } while (pos < value.length);
  return true;
}

/** Moves a cut back so it does not split a "%XX" escape. */
function escapeSafeCut(b: Uint8Array, start: number, cut: number): number {
  for (let i = cut - 1; i >= Math.max(start, cut - 2); i--) if (b[i] === 0x25) return i;
  return cut;
}

export const urlencodedView: ContentView = {
  title: "URL-encoded",
  render(body, _ctx, sink) {
    const limit = Number.isFinite(sink.max) ? FIELD_PREVIEW_BYTES : Infinity;
    let pos = 0;
    while (pos < body.length) {
      if (!sink.more()) return;
      let amp = body.indexOf(0x26, pos);
      if (amp < 0) amp = body.length;
      if (amp > pos) {
        const rel = body.subarray(pos, amp).indexOf(0x3d);
        const eq = rel < 0 ? amp : pos + rel;
        const keyEnd = eq - pos > limit ? escapeSafeCut(body, pos, pos + limit) : eq;
        const valueEnd = amp - eq - 1 > limit ? escapeSafeCut(body, eq + 1, eq + 1 + limit) : amp;
        const key = formDecode(body, pos, keyEnd);
        const value = eq < amp && keyEnd === eq ? formDecode(body, eq + 1, valueEnd) : "";
        if (!pushPair(key, value, sink)) return;
        const skipped = keyEnd < eq ? amp - keyEnd : amp - valueEnd;
        if (skipped > 0 && !sink.push([{ text: `[${skipped} more bytes in this field; press f to load all data]`, style: "dim" }])) {
          return;
        }
      }
      pos = amp + 1;
    }
  },
};

export const queryView: ContentView = {
  title: "Query",
  render(_body, ctx, sink) {
    if (ctx.query.length === 0) {
      sink.push([{ text: "[no query parameters]", style: "dim" }]);
      return;
    }
    for (const [k, v] of ctx.query) if (!pushPair(k, v, sink)) return;
  },
};
