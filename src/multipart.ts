/**
 * multipart/form-data bodies as parts: each with its header block as sent (Content-Disposition,
 * a file's name and type) and its bytes. What the console's multipart form grid and
 * `request.multipart_form` read and write; an untouched part is written back as it came.
 */
import { randomBytes } from "node:crypto";
import { decodeSurrogateEscape, encodeSurrogateEscape } from "./urlencoded.ts";

export interface MultipartPart {
  /** The part's header lines as sent, one byte per char, without the blank line after them. */
  head: string;
  /** The form field's name, from Content-Disposition; undefined when it names none. */
  name: string | undefined;
  content: Buffer;
}

export const MULTIPART_TYPE = "multipart/form-data";

/** The boundary of a multipart/form-data Content-Type, or undefined for any other. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType?.split(";")[0]?.trim().toLowerCase() !== MULTIPART_TYPE) return undefined;
  return /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)?.slice(1).find((b) => b !== undefined);
}

/** The field name a part's Content-Disposition gives (`name="a"`, quotes optional). */
function fieldName(head: string): string | undefined {
  const cd = head.split("\r\n").find((l) => /^content-disposition\s*:/i.test(l));
  const m = cd === undefined ? null : /;\s*name=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/i.exec(cd);
  if (!m) return undefined;
  return Buffer.from(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] as string), "latin1").toString("utf8");
}

/** The parts between the boundaries; the preamble and epilogue are not form data. */
export function parseMultipart(body: Uint8Array, boundary: string): MultipartPart[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  const parts: MultipartPart[] = [];
  let at = buf.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    // The closing delimiter, `--boundary--`.
    if (buf[start] === 0x2d && buf[start + 1] === 0x2d) break;
    if (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    const next = buf.indexOf(Buffer.concat([Buffer.from("\r\n", "latin1"), delimiter]), start);
    const end = next < 0 ? buf.length : next;
    const blank = buf.indexOf("\r\n\r\n", start, "latin1");
    const headEnd = blank < 0 || blank > end ? start : blank;
    const head = buf.subarray(start, headEnd).toString("latin1");
    const contentStart = blank < 0 || blank > end ? start : blank + 4;
    parts.push({ head, name: fieldName(head), content: Buffer.from(buf.subarray(contentStart, end)) });
    at = next < 0 ? -1 : next + 2;
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
