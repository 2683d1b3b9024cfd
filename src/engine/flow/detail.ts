import type { ConnectionDetail, FlowDetail, FlowSummary, MessageDetail } from "../../protocol.ts";
import type { Flow } from "./flow.ts";
import type { Message } from "./message.ts";
import { formatAddress, type Client, type Server } from "./connection.ts";
import { HTTPFlow } from "./http.ts";
import { leafCertificateDetail } from "./certificate-detail.ts";
import { StreamFlow } from "./tcp.ts";
import { cutEnd } from "../../ellipsis.ts";
import { DNSFlow } from "./dns.ts";
import { dnsPacketLines } from "./dns-text.ts";

/** How the body relates to the wire: `content` falls back to the raw bytes when they do not decode. */
function encodingNote(m: Message, decoded: Uint8Array | undefined): string | undefined {
  const enc = m.headers.get("content-encoding")?.trim();
  if (!enc || enc.toLowerCase() === "identity" || m.raw_content === undefined) return undefined;
  return decoded !== m.raw_content ? `decoded ${enc}` : `cannot decode ${enc}`;
}

function message(m: Message, limit: number, offset: number, bodies: boolean): MessageDetail {
  // Decoding (gzip, brotli) is the costly part; headers-only readers (dump at level 2) skip it.
  const decoded = bodies ? m.get_content(false) : undefined;
  const body = decoded ?? new Uint8Array(0);
  const slice = body.subarray(offset, offset + limit);
  return {
    // Bytes, as the console and dump show and edit them; fresh pairs, so the detail shares no
    // arrays with the stored flow.
    headers: m.headers.byteFields(),
    // A copy, so the structured clone does not drag the whole body's buffer across threads.
    body: Uint8Array.from(slice),
    bodySize: body.length,
    bodyOffset: offset,
    contentType: m.headers.get("content-type"),
    encoding: bodies ? encodingNote(m, decoded) : undefined,
    ...(m.trailers && m.trailers.fields.length ? { trailers: m.trailers.byteFields() } : {}),
    ...(m.raw_content === undefined ? { missing: true as const } : {}),
  };
}

function connection(c: Client | Server): ConnectionDetail {
  const address = "address" in c && !("proxy_mode" in c) ? (c as Server).address : (c as Client).peername;
  return {
    address: address ? formatAddress(address) : undefined,
    tlsVersion: c.tls_version,
    cipher: c.cipher,
    sni: c.sni,
    alpn: c.alpn,
    alpnOffers: c.alpn_offers,
    certificate: "certificate_list" in c ? leafCertificateDetail(c.certificate_list) : undefined,
    timestampStart: c.timestamp_start,
    timestampTlsSetup: c.timestamp_tls_setup,
    timestampEnd: c.timestamp_end,
  };
}

/** Longer values are cut: the Detail tab shows what an addon noted, not a dump of its state. */
const METADATA_VALUE_CHARS = 500;

/** Each metadata entry as text, as mitmproxy's Detail tab lists them: strings as they are, other values as JSON. */
function metadataLines(metadata: Record<string, unknown>): [string, string][] {
  return Object.entries(metadata).map(([k, v]) => {
    let text: string;
    try {
      text = typeof v === "string" ? v : (JSON.stringify(v) ?? String(v));
    } catch {
      text = String(v);
    }
    return [k, text.length > METADATA_VALUE_CHARS ? cutEnd(text.slice(0, METADATA_VALUE_CHARS)) : text];
  });
}

/**
 * The full view of one flow the console asks for when it opens it; bodies cut to `limit` bytes.
 * `bodies: false` leaves the bodies out (not even decoded): for readers that show headers only.
 */
export function flowDetail(flow: Flow, summary: FlowSummary, limit: number, offset: number, bodies = true): FlowDetail {
  const timings: { name: string; ts: number }[] = [];
  const add = (name: string, ts: number | undefined): void => {
    if (ts !== undefined) timings.push({ name, ts });
  };
  add("Client conn. established", flow.client_conn.timestamp_start);
  add("Client conn. TLS handshake", flow.client_conn.timestamp_tls_setup);
  add("Server conn. initiated", flow.server_conn.timestamp_start);
  add("Server conn. TCP handshake", flow.server_conn.timestamp_tcp_setup);
  add("Server conn. TLS handshake", flow.server_conn.timestamp_tls_setup);
  // When each side went, as mitmproxy's Detail tab says: how long a tunnel lived.
  add("Client conn. closed", flow.client_conn.timestamp_end);
  add("Server conn. closed", flow.server_conn.timestamp_end);
  const detail: FlowDetail = {
    summary,
    request: undefined,
    response: undefined,
    messages: [],
    closed: undefined,
    client: connection(flow.client_conn),
    server: connection(flow.server_conn),
    timings,
    dns: undefined,
    ...(Object.keys(flow.metadata).length ? { metadata: metadataLines(flow.metadata) } : {}),
  };
  if (flow instanceof HTTPFlow) {
    const r = flow.request;
    detail.request = { ...message(r, limit, offset, bodies), method: r.method, url: r.pretty_url, path: r.path, httpVersion: r.http_version };
    add("First request byte", r.timestamp_start);
    add("Request complete", r.timestamp_end);
    if (flow.response) {
      const s = flow.response;
      detail.response = { ...message(s, limit, offset, bodies), status: s.status_code, reason: s.reason, httpVersion: s.http_version };
      add("First response byte", s.timestamp_start);
      add("Response complete", s.timestamp_end);
    }
    const ws = flow.websocket;
    detail.messages = (ws?.messages ?? []).map((m) => ({
      fromClient: m.from_client,
      type: m.type,
      content: Uint8Array.from(m.content.subarray(0, limit)),
      timestamp: m.timestamp,
      ...(m.dropped ? { dropped: true as const } : {}),
      ...(m.injected ? { injected: true as const } : {}),
    }));
    if (ws?.close_code !== undefined) detail.closed = { byClient: ws.closed_by_client ?? false, code: ws.close_code, reason: ws.close_reason ?? "" };
  } else if (flow instanceof DNSFlow) {
    detail.dns = { request: dnsPacketLines(flow.request.packet), response: flow.response && dnsPacketLines(flow.response.packet) };
  } else if (flow instanceof StreamFlow) {
    detail.messages = flow.messages.map((m) => ({ fromClient: m.from_client, type: "binary", content: Uint8Array.from(m.content.subarray(0, limit)), timestamp: m.timestamp }));
  }
  timings.sort((a, b) => a.ts - b.ts);
  return detail;
}

