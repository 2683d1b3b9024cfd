/** HTTP/1 message heads and body framing, written exactly from the flow's fields. */
import type { Request, Response } from "../flow/http.ts";
import type { HeaderField, Headers } from "../flow/headers.ts";
import { onlyTrailers } from "../proxy/h2-headers.ts";

// Trailer announces the message's trailers end to end (RFC 9110 6.6.2): it is no hop's.
const HOP_BY_HOP = new Set(["proxy-connection", "proxy-authorization", "keep-alive"]);

/**
 * Headers to send onwards: hop-by-hop fields that concern only the hop to the proxy are left
 * out (RFC 9110 7.6.1), along with any field the Connection header names, and Connection keeps
 * only close, keep-alive and upgrade. Upgrade stays only when the message really asks to upgrade.
 * Order and case of the rest stay as received.
 */
export function forwardedFields(headers: Headers, upgrading: boolean): [string, string][] {
  const named = new Set<string>();
  let connectionUpgrade = false;
  const conn = headers.get("connection");
  if (conn) {
    for (const t of conn.split(",")) {
      const tok = t.trim().toLowerCase();
      if (tok === "upgrade") connectionUpgrade = true;
      else if (tok && tok !== "close" && tok !== "keep-alive") named.add(tok);
    }
  }
  // An Upgrade field without the "upgrade" connection option is no upgrade request (RFC 9110 7.8).
  const keepUpgrade = upgrading && connectionUpgrade;
  const out: HeaderField[] = [];
  const raw = headers.flat;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const n = name.toLowerCase();
    if (HOP_BY_HOP.has(n) || named.has(n) || (n === "te" && !onlyTrailers(value))) continue;
    if (n === "upgrade" && !keepUpgrade) continue;
    if (n === "connection") {
      // The options it names were for this hop only; keep the ones that still hold, as sent.
      const kept = value.split(",").filter((t) => {
        const tok = t.trim().toLowerCase();
        return tok === "close" || tok === "keep-alive" || (tok === "upgrade" && keepUpgrade);
      });
      if (kept.length === 0) continue;
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
  return headBlock(`${version} ${res.status_code} ${res.reason}`.trimEnd(), flatLines(flat));
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
