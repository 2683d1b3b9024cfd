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

/**
 * Fields node:http2 sends once at most: given twice it throws, and the whole message failed
 * with Node's words (a server's two Content-Type lines, a client's two User-Agent fields, which
 * HTTP/1 and other HTTP/2 peers carry and mitmproxy passes on). Node 20's list, less the pseudo-fields.
 */
const NODE_SINGLE_VALUE = new Set([
  "access-control-allow-credentials", "access-control-max-age", "access-control-request-method", "age", "authorization",
  "content-encoding", "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type",
  "date", "dnt", "etag", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
  "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization", "range", "referer", "retry-after",
  "tk", "upgrade-insecure-requests", "user-agent", "x-content-type-options",
]);

/**
 * Message fields as HTTP/2 header entries (lower-case names, repeated names as arrays). A repeat
 * of a field Node sends once is folded into one line as RFC 9110 5.3 combines field lines
 * (`a, b`; a repeat with the same value, as a repeated Content-Length, is dropped): the value
 * a Fetch client reads from the repeats is the same.
 */
export function toH2Fields(headers: Headers, pseudo: Record<string, string | number>): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ...pseudo };
  const raw = headers.flat;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const v = raw[i + 1] as string;
    if (CONNECTION_SPECIFIC.has(name) || (name === "te" && !onlyTrailers(v))) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = v;
    else if (NODE_SINGLE_VALUE.has(name)) out[name] = String(prev) === v ? prev : `${String(prev)}, ${v}`;
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
