/**
 * A finished flow as `pryx dump --jsonl` prints it, one JSON object a line, for jq and CI checks:
 * the flow's list fields always; from --flow-detail 2 its request and response with their headers,
 * both connections and the timings; from 3 the bodies too (cut at 16 KiB as dump cuts them, whole
 * at 4), and a connection's messages. Bodies are decoded text when they are UTF-8, base64 otherwise.
 */
import type { ConnectionDetail, FlowDetail, FlowSummary, MessageDetail, StreamMessageDetail } from "./protocol.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Fields of a summary that say how the console shows a flow, not what it was. */
const CONSOLE_ONLY = new Set<keyof FlowSummary>(["seq", "live", "shown"]);

type Json = string | number | boolean | null | undefined | Json[] | { [key: string]: Json };

/** Bytes as `{prefix}` (text) or `{prefix}Base64`. */
function bytes(content: Uint8Array, prefix: string): Record<string, string> {
  try {
    return { [prefix]: utf8.decode(content) };
  } catch {
    return { [`${prefix}Base64`]: Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString("base64") };
  }
}

function message(m: MessageDetail, withBody: boolean): Record<string, Json> {
  const out: Record<string, Json> = { headers: m.headers, contentType: m.contentType, contentMissing: m.missing, trailers: m.trailers };
  // Below --flow-detail 3 the engine does not decode bodies: their decoded size is not known (the summary has the sizes on the wire).
  if (!withBody || m.missing) return out;
  return { ...out, encoding: m.encoding, bodySize: m.bodySize, ...bytes(m.body, "body"), bodyTruncated: m.body.byteLength < m.bodySize || undefined };
}

function connection(c: ConnectionDetail): Record<string, Json> {
  const cert = c.certificate;
  return {
    address: c.address,
    tlsVersion: c.tlsVersion,
    cipher: c.cipher,
    sni: c.sni,
    alpn: c.alpn,
    certificate: cert && cert.error === undefined ? { subject: cert.subject, issuer: cert.issuer, altNames: cert.altNames, validFrom: cert.validFrom, validTo: cert.validTo, sha256: cert.sha256 } : undefined,
  };
}

function streamMessage(m: StreamMessageDetail): Record<string, Json> {
  return { fromClient: m.fromClient, type: m.type, timestamp: m.timestamp, ...(m.dropped ? { dropped: true } : {}), ...(m.injected ? { injected: true } : {}), ...bytes(m.content, "content") };
}

export function jsonlFlow(f: FlowSummary, d: FlowDetail | undefined, level: number): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(f) as [keyof FlowSummary, Json][]) if (!CONSOLE_ONLY.has(k)) out[k] = v;
  if (!d || level < 2) return out;
  const withBodies = level >= 3;
  if (d.request) out.request = { method: d.request.method, url: d.request.url, httpVersion: d.request.httpVersion, ...message(d.request, withBodies) };
  if (d.response) out.response = { status: d.response.status, reason: d.response.reason, httpVersion: d.response.httpVersion, ...message(d.response, withBodies) };
  if (d.dns) out.dns = { request: d.dns.request, response: d.dns.response };
  if (withBodies && d.messages.length) out.messages = d.messages.map(streamMessage);
  if (d.closed) out.closed = { byClient: d.closed.byClient, code: d.closed.code, reason: d.closed.reason };
  out.clientConn = connection(d.client);
  out.serverConn = connection(d.server);
  out.timings = d.timings.map((t) => ({ name: t.name, ts: t.ts }));
  return out;
}
