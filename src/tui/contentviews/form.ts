import type { ContentView, Line, LineSink } from "./types.ts";
import { decodeLenient, visible } from "./text.ts";

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

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
 * first line, rather than showing as one line full of escapes.
 */
export function pushPair(key: string, value: string, sink: LineSink): boolean {
  const shownKey = visible(key);
  const parts = value.split(/\r?\n/);
  const pad = " ".repeat(shownKey.length + 2);
  for (let i = 0; i < parts.length; i++) {
    const text = visible(parts[i]!, shownKey.length + 2);
    const line: Line =
      i === 0
        ? [{ text: shownKey, style: "key" }, { text: ": ", style: "punct" }, { text, style: "string" }]
        : [{ text: pad }, { text, style: "string" }];
    if (!sink.push(line)) return false;
  }
  return true;
}

export const urlencodedView: ContentView = {
  title: "URL-encoded",
  render(body, _ctx, sink) {
    let pos = 0;
    while (pos < body.length) {
      if (!sink.more()) return;
      let amp = body.indexOf(0x26, pos);
      if (amp < 0) amp = body.length;
      if (amp > pos) {
        let eq = body.indexOf(0x3d, pos);
        if (eq < 0 || eq > amp) eq = amp;
        const key = formDecode(body, pos, eq);
        const value = eq < amp ? formDecode(body, eq + 1, amp) : "";
        if (!pushPair(key, value, sink)) return;
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
