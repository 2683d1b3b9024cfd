/** HTTP/1 message heads and body framing, written exactly from the flow's fields. */
import type { Request, Response } from "../flow/http.ts";
import { shownReason } from "../flow/reason.ts";
import type { HeaderField, Headers } from "../flow/headers.ts";
import { onlyTrailers } from "../proxy/h2-headers.ts";

/**
 * Headers to send onwards, as mitmproxy 8 sends them: every field the flow holds, in its order
 * and case, so what the flow view shows (and an edit made) is what the server gets, hop-by-hop
 * fields (Keep-Alive, Proxy-Connection, those Connection names) included: a test of how a server
 * treats them (`Connection: X-Forwarded-For`) needs them sent. Left out: Proxy-Authorization (the
 * credentials were for the proxy, not the server), a TE other than "trailers" (a transfer coding
 * pryx would then have to read), and Upgrade unless the message really asks to upgrade (with the
 * "upgrade" connection option: RFC 9110 7.8); Connection keeps close, keep-alive, upgrade for an
 * upgrade, and the fields it names.
 */
export function forwardedFields(headers: Headers, upgrading: boolean): [string, string][] {
  let connectionUpgrade = false;
  const conn = headers.get("connection");
  if (conn) for (const t of conn.split(",")) if (t.trim().toLowerCase() === "upgrade") connectionUpgrade = true;
  const keepUpgrade = upgrading && connectionUpgrade;
  const out: HeaderField[] = [];
  const raw = headers.flat;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const n = name.toLowerCase();
    if (n === "proxy-authorization" || (n === "te" && !onlyTrailers(value))) continue;
    if (n === "upgrade" && !keepUpgrade) continue;
    if (n === "connection" && !keepUpgrade) {
      // An upgrade that is not carried out is no option of this hop's any more.
      const kept = value.split(",").filter((t) => t.trim().toLowerCase() !== "upgrade");
      if (kept.every((t) => t.trim() === "")) continue;
      out.push([name, kept.map((t) => t.trim()).join(", ")]);
      continue;
    }
    out.push([name, value]);
  }
  return out;
}

function headBlock(firstLine: string, fieldLines: string): Buffer {
  return Buffer.from(`${firstLine}\r\n${fieldLines}\r\n`, "latin1");
}

/** `Name: value\r\n` per field of a flat `[name, value, ...]` list. */
function flatLines(flat: readonly string[]): string {
  let s = "";
  for (let i = 0; i + 1 < flat.length; i += 2) s += `${flat[i] as string}: ${flat[i + 1] as string}\r\n`;
  return s;
}

export function requestHead(req: Request, fields: readonly (readonly [string, string])[], target: string): Buffer {
  let lines = "";
  for (const [n, v] of fields) lines += `${n}: ${v}\r\n`;
  return headBlock(`${req.method} ${target} ${req.http_version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1"}`, lines);
}

/** The status line and fields; `flat` (`[name, value, ...]`) defaults to the response's own fields. */
export function responseHead(res: Response, flat: readonly string[] = res.plainHeaders.flat): Buffer {
  const version = res.http_version.startsWith("HTTP/1") ? res.http_version : "HTTP/1.1";
  // The space after the code stays even when the phrase is empty: RFC 9112 4 requires it.
  return headBlock(`${version} ${res.status_code} ${shownReason(res.status_code, res.reason, res.http_version)}`, flatLines(flat));
}

/** Whether a Transfer-Encoding value ends in chunked (RFC 9112 6.1: then the body is chunked). */
export function isChunkedValue(te: string): boolean {
  return /(^|,)\s*chunked\s*$/i.test(te);
}

/** A response that carries no body whatever its headers say (RFC 9112 6.3). */
export function responseHasNoBody(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200);
}

export function isChunked(headers: Headers): boolean {
  const te = headers.get("transfer-encoding");
  return te !== undefined && isChunkedValue(te);
}

export function chunk(data: Uint8Array): Buffer[] {
  if (data.length === 0) return [];
  return [Buffer.from(`${data.length.toString(16)}\r\n`, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength), CRLF];
}

const CRLF = Buffer.from("\r\n");

export function lastChunk(trailers: Headers | undefined): Buffer {
  let s = "0\r\n";
  if (trailers) s += trailers.toWire();
  return Buffer.from(`${s}\r\n`, "latin1");
}

/** The whole body framed: one chunk plus terminator (and trailers) when chunked, else as is. */
export function framedBody(chunked: boolean, body: Uint8Array | undefined, trailers: Headers | undefined): Buffer[] {
  const b = body ?? new Uint8Array(0);
  if (chunked) return [...chunk(b), lastChunk(trailers)];
  return b.length ? [Buffer.from(b.buffer, b.byteOffset, b.byteLength)] : [];
}

/** A short plain-text response the proxy itself sends (errors, refusals). */
export function plainResponse(status: number, reason: string, text: string, close: boolean): Buffer {
  const body = Buffer.from(`${text}\n`, "utf8");
  const fields = ["Content-Type", "text/plain; charset=utf-8", "Content-Length", String(body.length)];
  if (close) fields.push("Connection", "close");
  return Buffer.concat([headBlock(`HTTP/1.1 ${status} ${reason}`, flatLines(fields)), body]);
}
