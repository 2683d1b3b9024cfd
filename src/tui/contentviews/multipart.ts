import { Buffer } from "node:buffer";
import type { ContentView, Line } from "./types.ts";
import { decodeLenient, isMostlyBinary, pushTextLines, utf8SequenceLength, visible } from "./text.ts";
import { parseParameterized } from "../../header-params.ts";
import { multipartSpans } from "../../multipart.ts";

/**
 * Media types whose parts are summarised even when the bytes happen to decode as text. Not
 * application/octet-stream: it says the sender did not know (curl's -F labels every file so, a browser
 * any extension it has no type for), and the bytes decide, as for a part with no type.
 */
const BINARY_TYPES = /^(image|audio|video|font)\/|^application\/(zip|gzip|pdf|x-tar|x-7z|wasm)/;

function isText(b: Uint8Array, start: number, end: number): boolean {
  const part = b.subarray(start, end);
  if (isMostlyBinary(part)) return false;
  // A binary file may start with a text-like header; require the sniffed KiB to be clean UTF-8 as well.
  const stop = Math.min(end - start, 1024);
  for (let i = 0; i < stop; ) {
    const len = utf8SequenceLength(part, i, stop);
    if (len === 0) return false;
    if (len < 0) break;
    i += len;
  }
  return true;
}

/** RFC 5987 `filename*=UTF-8''na%C3%AFve.txt`; anything odd is shown as sent. */
function extendedValue(v: string): string {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (!m) return v;
  try {
    return /^utf-?8$/i.test(m[1]!) ? decodeURIComponent(m[2]!) : m[2]!;
  } catch {
    return m[2]!;
  }
}

function heading(headers: Map<string, string>): Line {
  const line: Line = [];
  const cd = headers.get("content-disposition");
  if (cd !== undefined) {
    const { params } = parseParameterized(cd);
    const name = params.get("name");
    const filename = params.has("filename*") ? extendedValue(params.get("filename*")!) : params.get("filename");
    const fields: string[] = [];
    if (name !== undefined) fields.push(`name=${JSON.stringify(name)}`);
    if (filename !== undefined) fields.push(`filename=${JSON.stringify(filename)}`);
    line.push({ text: visible(fields.length ? fields.join("; ") : cd), style: "heading" });
  } else line.push({ text: "[no Content-Disposition]", style: "heading" });
  const ct = headers.get("content-type");
  if (ct !== undefined) line.push({ text: `  Content-Type: ${visible(ct)}`, style: "dim" });
  return line;
}

export const multipartView: ContentView = {
  title: "Multipart Form",
  render(body, ctx, sink) {
    const boundary = ctx.params.get("boundary");
    if (!boundary) throw new Error("No boundary in the Content-Type header");
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    let parts = 0;
    for (const span of multipartSpans(buf, boundary)) {
      const headers = new Map<string, string>();
      for (const raw of decodeLenient(buf.subarray(span.headStart, span.headEnd)).split(/\r?\n/)) {
        const colon = raw.indexOf(":");
        if (colon > 0) {
          const name = raw.slice(0, colon).trim().toLowerCase();
          if (!headers.has(name)) headers.set(name, raw.slice(colon + 1).trim());
        }
      }
      if (parts > 0 && !sink.push([{ text: "" }])) return;
      if (!sink.push(heading(headers))) return;
      parts++;

      const { bodyStart: p, bodyEnd } = span;
      const size = bodyEnd - p;
      const ct = (headers.get("content-type") ?? "").toLowerCase();
      if (size === 0) sink.push([{ text: "  " }, { text: "[empty]", style: "dim" }]);
      else if (BINARY_TYPES.test(ct) || !isText(buf, p, bodyEnd)) {
        sink.push([{ text: "  " }, { text: `[${size} bytes binary]`, style: "dim" }]);
      } else pushTextLines(buf, p, bodyEnd, sink, "  ");
      if (sink.truncated) return;
    }
    if (parts === 0) sink.push([{ text: "[no parts]", style: "dim" }]);
  },
};
