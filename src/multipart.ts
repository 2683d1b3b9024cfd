/**
 * multipart/form-data bodies as parts: each with its header block as sent (Content-Disposition,
 * a file's name and type) and its bytes. What the console's multipart form grid and
 * `request.multipart_form` read and write; an untouched part is written back as it came.
 */
import { randomBytes } from "node:crypto";
import { decodeSurrogateEscape, encodeSurrogateEscape } from "./urlencoded.ts";
import { parseParameterized } from "./header-params.ts";

export interface MultipartPart {
  /** The part's header lines as sent, one byte per char, without the blank line after them. */
  head: string;
  /** The form field's name, from Content-Disposition; undefined when it names none. */
  name: string | undefined;
  content: Buffer;
}

export const MULTIPART_TYPE = "multipart/form-data";

const LF = 0x0a;
const CR = 0x0d;

/** The boundary of a multipart/form-data Content-Type, or undefined for any other. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const { main, params } = parseParameterized(contentType ?? "");
  return main.toLowerCase() === MULTIPART_TYPE ? params.get("boundary") || undefined : undefined;
}

/** The field name a part's Content-Disposition gives (`name="a"`, quotes optional), as UTF-8. */
function fieldName(head: string): string | undefined {
  const cd = head.split(/\r?\n/).find((l) => /^content-disposition\s*:/i.test(l));
  const name = cd === undefined ? undefined : parseParameterized(cd.slice(cd.indexOf(":") + 1)).params.get("name");
  return name === undefined ? undefined : Buffer.from(name, "latin1").toString("utf8");
}

/** Where one part lies in the body: its header lines (without the blank line after them) and its bytes. */
export interface PartSpan {
  headStart: number;
  headEnd: number;
  bodyStart: number;
  bodyEnd: number;
}

/**
 * The parts of a multipart body, read as they are reached (a part view stops early), lines ending
 * in CRLF or a bare LF. A delimiter counts only at a line's start and followed by `--`, whitespace
 * or a line break, so a body line that merely begins with the boundary's text is not one; the line
 * break before a delimiter belongs to it, not to the part. Throws when no delimiter is found.
 */
export function* multipartSpans(buf: Buffer, boundary: string): Generator<PartSpan> {
  const delim = Buffer.from(`--${boundary}`, "latin1");
  const nlDelim = Buffer.concat([Buffer.of(LF), delim]);
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
  while (at >= 0 && at < buf.length) {
    let p = at + delim.length;
    // The closing delimiter, `--boundary--`.
    if (buf[p] === 0x2d && buf[p + 1] === 0x2d) return;
    const eol = buf.indexOf(LF, p);
    if (eol < 0) return;
    const headStart = eol + 1;
    let headEnd = headStart;
    p = headStart;
    for (;;) {
      let nl = buf.indexOf(LF, p);
      if (nl < 0) nl = buf.length;
      const lineEnd = nl > p && buf[nl - 1] === CR ? nl - 1 : nl;
      const blank = lineEnd === p;
      if (!blank) headEnd = lineEnd;
      p = Math.min(nl + 1, buf.length);
      if (blank || nl === buf.length) break;
    }
    const next = nextDelimiter(p > 0 ? p - 1 : 0);
    let bodyEnd = next < 0 ? buf.length : next - 1;
    if (next >= 0 && bodyEnd > p && buf[bodyEnd - 1] === CR) bodyEnd--;
    yield { headStart, headEnd, bodyStart: p, bodyEnd: Math.max(bodyEnd, p) };
    at = next;
  }
}

/** The parts of a multipart body; none when it has no delimiter. */
export function parseMultipart(body: Uint8Array, boundary: string): MultipartPart[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: MultipartPart[] = [];
  try {
    for (const s of multipartSpans(buf, boundary)) {
      const head = buf.subarray(s.headStart, s.headEnd).toString("latin1");
      parts.push({ head, name: fieldName(head), content: Buffer.from(buf.subarray(s.bodyStart, s.bodyEnd)) });
    }
  } catch {
    // No delimiter: no parts.
  }
  return parts;
}

/** A part's header block for a field of this name (quotes and line breaks escaped as browsers do). */
export function fieldHead(name: string): string {
  const quoted = Buffer.from(name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A"), "utf8").toString("latin1");
  return `Content-Disposition: form-data; name="${quoted}"`;
}

export function encodeMultipart(parts: readonly Pick<MultipartPart, "head" | "content">[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\n${p.head}\r\n\r\n`, "latin1"), p.content, Buffer.from("\r\n", "latin1"));
  chunks.push(Buffer.from(`--${boundary}--\r\n`, "latin1"));
  return Buffer.concat(chunks);
}

/** A boundary for a body that had none: random, so no field's bytes hold it. */
export function newBoundary(): string {
  return `----pryx${randomBytes(12).toString("hex")}`;
}

/**
 * Form fields (text, each byte that is no UTF-8 as U+DC80–U+DCFF) as a multipart body: a field
 * that is still the part it came from (same place, same name) keeps that part's headers (a file's
 * name and type), any other is a plain field. Without a boundary (the body was no multipart form)
 * one is made, and `made` says the Content-Type must name it.
 */
export function rewriteMultipart(previous: Uint8Array | undefined, boundary: string | undefined, fields: readonly (readonly [string, string])[]): { body: Buffer; boundary: string; made: boolean } {
  const old = previous && boundary ? parseMultipart(previous, boundary) : [];
  const parts = fields.map(([name, value], i) => {
    const was = old[i];
    return { head: was && was.name === name ? was.head : fieldHead(name), content: encodeSurrogateEscape(value) };
  });
  const use = boundary ?? newBoundary();
  return { body: encodeMultipart(parts, use), boundary: use, made: boundary === undefined };
}

/** A multipart body's fields as text, each byte that is no UTF-8 kept as U+DC80–U+DCFF. */
export function multipartFields(body: Uint8Array, boundary: string): [string, string][] {
  return parseMultipart(body, boundary).map((p) => [p.name ?? "", decodeSurrogateEscape(p.content)]);
}
