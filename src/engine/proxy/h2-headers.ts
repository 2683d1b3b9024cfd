import type http2 from "node:http2";
import type { Headers } from "../flow/headers.ts";

/** Fields HTTP/2 forbids (RFC 9113 8.2.2); they describe an HTTP/1 hop, not the message. */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "proxy-authorization"]);

/**
 * `TE: trailers` is the one TE HTTP/2 allows, and gRPC servers refuse a call without it
 * ("Missing :te header"); any other TE describes an HTTP/1 hop.
 */
export function onlyTrailers(te: string): boolean {
  return te.trim().toLowerCase() === "trailers";
}

/** Message fields as HTTP/2 header entries (lower-case names, repeated names as arrays). */
export function toH2Fields(headers: Headers, pseudo: Record<string, string | number>): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ...pseudo };
  const raw = headers.flat;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const v = raw[i + 1] as string;
    if (CONNECTION_SPECIFIC.has(name) || (name === "te" && !onlyTrailers(v))) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = v;
    else out[name] = Array.isArray(prev) ? [...prev.map(String), v] : [String(prev), v];
  }
  return out;
}

/** Node's flat raw header list without the pseudo-headers, as [name, value, …]. */
export function fromH2Raw(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] as string;
    if (!n.startsWith(":")) out.push(n, raw[i + 1] as string);
  }
  return out;
}
