import { Buffer } from "node:buffer";
import type { ContentView, Line } from "./types.ts";
import { decodeLenient, isMostlyBinary, parseParameterized, pushTextLines, utf8SequenceLength, visible } from "./text.ts";

const LF = 0x0a;
const CR = 0x0d;

/** Media types whose parts are summarised even when the bytes happen to decode as text. */
const BINARY_TYPES = /^(image|audio|video|font)\/|^application\/(octet-stream|zip|gzip|pdf|x-tar|x-7z|wasm)/;

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
    const delim = Buffer.from("--" + boundary, "utf8");
    const nlDelim = Buffer.concat([Buffer.of(LF), delim]);

    // A delimiter only counts at a line start and when followed by "--", whitespace or a line break,
    // so a body line that merely begins with the boundary text is not mistaken for one.
    const delimiterEndsAt = (at: number): boolean => {
      const c = buf[at + delim.length];
      if (c === 0x2d) return buf[at + delim.length + 1] === 0x2d;
      return c === undefined || c === CR || c === LF || c === 0x20 || c === 0x09;
    };
    const nextDelimiter = (from: number): number => {
      for (let i = buf.indexOf(nlDelim, from); i >= 0; i = buf.indexOf(nlDelim, i + 1)) {
        if (delimiterEndsAt(i + 1)) return i + 1;
      }
      return -1;
    };

    let at = buf.subarray(0, delim.length).equals(delim) && delimiterEndsAt(0) ? 0 : nextDelimiter(0);
    if (at < 0) throw new Error(`Boundary ${JSON.stringify(boundary)} not found in the body`);

    let parts = 0;
    while (at >= 0 && at < buf.length) {
      let p = at + delim.length;
      if (buf[p] === 0x2d && buf[p + 1] === 0x2d) break;
      const eol = buf.indexOf(LF, p);
      if (eol < 0) break;
      p = eol + 1;

      const headers = new Map<string, string>();
      for (;;) {
        let nl = buf.indexOf(LF, p);
        if (nl < 0) nl = buf.length;
        const lineEnd = nl > p && buf[nl - 1] === CR ? nl - 1 : nl;
        const raw = decodeLenient(buf.subarray(p, lineEnd));
        p = Math.min(nl + 1, buf.length);
        if (raw === "" || nl === buf.length) break;
        const colon = raw.indexOf(":");
        if (colon > 0) {
          const name = raw.slice(0, colon).trim().toLowerCase();
          if (!headers.has(name)) headers.set(name, raw.slice(colon + 1).trim());
        }
      }

      const next = nextDelimiter(p > 0 ? p - 1 : 0);
      // The line break before a delimiter belongs to the delimiter, not to the part.
      let bodyEnd = next < 0 ? buf.length : next - 1;
      if (next >= 0 && bodyEnd > p && buf[bodyEnd - 1] === CR) bodyEnd--;
      bodyEnd = Math.max(bodyEnd, p);

      if (parts > 0 && !sink.push([{ text: "" }])) return;
      if (!sink.push(heading(headers))) return;
      parts++;

      const size = bodyEnd - p;
      const ct = (headers.get("content-type") ?? "").toLowerCase();
      if (size === 0) sink.push([{ text: "  " }, { text: "[empty]", style: "dim" }]);
      else if (BINARY_TYPES.test(ct) || !isText(buf, p, bodyEnd)) {
        sink.push([{ text: "  " }, { text: `[${size} bytes binary]`, style: "dim" }]);
      } else pushTextLines(buf, p, bodyEnd, sink, "  ");
      if (sink.truncated) return;
      at = next;
    }
    if (parts === 0) sink.push([{ text: "[no parts]", style: "dim" }]);
  },
};
