/**
 * pryx's flow file: one JSON object per flow per line, bodies in base64. A line is
 * self-contained, so files stream, append and survive a crash mid-write (a torn last
 * line is reported and skipped on reading).
 */
import { Client, Server, type Address } from "./connection.ts";
import { HTTPFlow, Request, Response } from "./http.ts";
import { StreamFlow, TCPFlow, TCPMessage, UDPFlow } from "./tcp.ts";
import { WebSocketData, WebSocketMessage } from "./websocket.ts";
import { DNSFlow, DNSMessage } from "./dns.ts";
import * as dnsPacket from "dns-packet";
import { FlowError, type Flow } from "./flow.ts";
import { plainJsonEntries } from "./plain-json.ts";
import { Headers, type HeaderField } from "./headers.ts";

export const FLOW_FILE_VERSION = 1;

interface ConnJSON {
  address: Address | null;
  /** The client's local end, and the server's resolved one (its IP: HAR's serverIPAddress). Absent in older lines. */
  peername?: Address | null;
  sockname?: Address | null;
  tls: boolean;
  sni: string | null;
  alpn: string | null;
  /** Absent in older lines. */
  alpn_offers?: string[];
  tls_version: string | null;
  timestamp_start: number | null;
  timestamp_end: number | null;
  /** When TLS was set up, and (a server's) the TCP connection; absent in older lines. */
  timestamp_tls_setup?: number | null;
  timestamp_tcp_setup?: number | null;
  /** The cipher and the certificates the peer sent (PEM), leaf first; absent in older lines, as are the rest. */
  cipher?: string | null;
  certificate_list?: string[];
  id?: string;
  error?: string | null;
  tls_established?: boolean;
  /** The client's: the mode it came in through (`regular`, `reverse:https://…`). */
  proxy_mode?: string;
  /** The server's: the upstream proxy it was reached through. */
  via?: Address | null;
}

interface MessageJSON {
  http_version: string;
  headers: readonly HeaderField[];
  /** HTTP trailers (gRPC's grpc-status), when the message had them; missing in older files. */
  trailers?: readonly HeaderField[] | null;
  content: string | null;
  timestamp_start: number;
  timestamp_end: number | null;
}

interface FlowJSON {
  v: number;
  type: string;
  id: string;
  timestamp_created: number;
  marked: string;
  is_replay: "request" | "response" | null;
  comment: string;
  /** Addons' metadata, its plain-JSON entries; absent in older lines. */
  metadata?: Record<string, unknown>;
  error: { msg: string; timestamp?: number } | null;
  client: ConnJSON;
  server: ConnJSON;
  request?: MessageJSON & { method: string; scheme: string; host: string; port: number; path: string; authority: string };
  response?: (MessageJSON & { status_code: number; reason: string }) | null;
  messages?: { from_client: boolean; content: string; timestamp: number }[];
  websocket?: WebSocketJSON | null;
  /** A DNS flow's messages in DNS wire format, base64: the packets dns-packet decodes them to hold Buffers. */
  dns?: { request: string; response: string | null; request_timestamp?: number | null; response_timestamp?: number | null };
}

interface WebSocketJSON {
  messages: { type: "text" | "binary"; from_client: boolean; content: string; timestamp: number; dropped: boolean }[];
  closed_by_client: boolean | null;
  close_code: number | null;
  close_reason: string | null;
  timestamp_end: number | null;
}

export class FlowFileError extends Error {}

const b64 = (b: Uint8Array | undefined): string | null => (b === undefined ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64"));
const unb64 = (s: string | null | undefined): Uint8Array | undefined => (s === null || s === undefined ? undefined : Buffer.from(s, "base64"));

function conn(c: Client | Server, address: Address | undefined): ConnJSON {
  return {
    address: address ?? null,
    peername: c.peername ?? null,
    sockname: c.sockname ?? null,
    tls: c.tls,
    sni: c.sni ?? null,
    alpn: c.alpn ?? null,
    alpn_offers: c.alpn_offers,
    tls_version: c.tls_version ?? null,
    timestamp_start: c.timestamp_start ?? null,
    timestamp_end: c.timestamp_end ?? null,
    timestamp_tls_setup: c.timestamp_tls_setup ?? null,
    ...(c instanceof Server ? { timestamp_tcp_setup: c.timestamp_tcp_setup ?? null } : {}),
    cipher: c.cipher ?? null,
    certificate_list: c.certificate_list,
    id: c.id,
    error: c.error ?? null,
    tls_established: c.tls_established,
    ...(c instanceof Client ? { proxy_mode: c.proxy_mode } : { via: c.via ?? null }),
  };
}

export function encodeFlow(flow: Flow): string {
  const out: FlowJSON = {
    v: FLOW_FILE_VERSION,
    type: flow.type,
    id: flow.id,
    timestamp_created: flow.timestamp_created,
    marked: flow.marked,
    is_replay: flow.is_replay,
    comment: flow.comment,
    metadata: plainJsonEntries(flow.metadata),
    error: flow.error ? { msg: flow.error.msg, timestamp: flow.error.timestamp } : null,
    client: conn(flow.client_conn, flow.client_conn.peername),
    server: conn(flow.server_conn, flow.server_conn.address),
  };
  if (flow instanceof HTTPFlow) {
    const r = flow.request;
    out.request = { method: r.method, scheme: r.scheme, host: r.host, port: r.port, path: r.path, authority: r.authority, http_version: r.http_version, headers: r.headers.byteFields(), trailers: r.trailers?.byteFields() ?? null, content: b64(r.raw_content), timestamp_start: r.timestamp_start, timestamp_end: r.timestamp_end ?? null };
    const s = flow.response;
    out.websocket = flow.websocket ? encodeWebSocket(flow.websocket) : null;
    out.response = s ? { status_code: s.status_code, reason: s.reason, http_version: s.http_version, headers: s.headers.byteFields(), trailers: s.trailers?.byteFields() ?? null, content: b64(s.raw_content), timestamp_start: s.timestamp_start, timestamp_end: s.timestamp_end ?? null } : null;
  } else if (flow instanceof DNSFlow) {
    out.dns = {
      request: b64(dnsPacket.encode(flow.request.packet)) as string,
      response: flow.response ? b64(dnsPacket.encode(flow.response.packet)) : null,
      request_timestamp: flow.request.timestamp ?? null,
      response_timestamp: flow.response?.timestamp ?? null,
    };
  } else if (flow instanceof StreamFlow) {
    out.messages = flow.messages.map((m) => ({ from_client: m.from_client, content: b64(m.content) as string, timestamp: m.timestamp }));
  }
  return JSON.stringify(out);
}

function encodeWebSocket(ws: WebSocketData): WebSocketJSON {
  return {
    messages: ws.messages.map((m) => ({ type: m.type, from_client: m.from_client, content: b64(m.content) as string, timestamp: m.timestamp, dropped: m.dropped })),
    closed_by_client: ws.closed_by_client ?? null,
    close_code: ws.close_code ?? null,
    close_reason: ws.close_reason ?? null,
    timestamp_end: ws.timestamp_end ?? null,
  };
}

function decodeWebSocket(j: WebSocketJSON): WebSocketData {
  const ws = new WebSocketData();
  ws.messages = j.messages.map((m) => {
    const msg = new WebSocketMessage(m.type, m.from_client, unb64(m.content) ?? new Uint8Array(0), m.timestamp);
    msg.dropped = m.dropped;
    return msg;
  });
  ws.closed_by_client = j.closed_by_client ?? undefined;
  ws.close_code = j.close_code ?? undefined;
  ws.close_reason = j.close_reason ?? undefined;
  ws.timestamp_end = j.timestamp_end ?? undefined;
  return ws;
}

function restoreConn<T extends Client | Server>(c: T, j: ConnJSON): T {
  if (j.sockname) c.sockname = j.sockname;
  if (j.peername && c instanceof Server) c.peername = j.peername;
  c.tls = j.tls;
  c.sni = j.sni ?? undefined;
  c.alpn = j.alpn ?? undefined;
  c.alpn_offers = j.alpn_offers ?? [];
  c.tls_version = j.tls_version ?? undefined;
  c.timestamp_start = j.timestamp_start ?? undefined;
  c.timestamp_end = j.timestamp_end ?? undefined;
  c.timestamp_tls_setup = j.timestamp_tls_setup ?? undefined;
  if (c instanceof Server) c.timestamp_tcp_setup = j.timestamp_tcp_setup ?? undefined;
  c.cipher = j.cipher ?? undefined;
  c.certificate_list = j.certificate_list ?? [];
  c.error = j.error ?? undefined;
  c.tls_established = j.tls_established ?? j.tls;
  if (c instanceof Server) c.via = j.via ?? undefined;
  c.closed = true;
  // pryx's own format does not say: taken as a capture whose connections have ended.
  c.connected = false;
  return c;
}

export function decodeFlow(line: string): Flow {
  let j: FlowJSON;
  try {
    j = JSON.parse(line) as FlowJSON;
  } catch (err) {
    throw new FlowFileError(`not a pryx flow line: ${(err as Error).message}`);
  }
  // JSON, but no flow of any version: say what files are read, not that this one is too new.
  if (j === null || typeof j !== "object" || !("v" in j)) throw new FlowFileError("not a flow: pryx reads its own flow files, mitmproxy's (mitmdump -w) and HAR");
  if (j.v !== FLOW_FILE_VERSION) throw new FlowFileError(`unsupported flow file version ${String(j.v)} (this pryx reads version ${FLOW_FILE_VERSION})`);
  const client = restoreConn(new Client(j.client.address ?? ["", 0], ["", 0], j.client.proxy_mode, j.client.id), j.client);
  const server = restoreConn(new Server(j.server.address ?? undefined, j.server.id), j.server);
  let flow: Flow;
  if (j.type === "http" && j.request) {
    const r = j.request;
    // The parsed pairs (bytes, as written) are copied into the Headers' one flat array (no
    // per-field copies); the pairs themselves are garbage once the line is read.
    const req = new Request({ method: r.method, scheme: r.scheme, host: r.host, port: r.port, path: r.path, authority: r.authority, http_version: r.http_version, headers: Headers.fromBytes(r.headers), content: unb64(r.content), timestamp_start: r.timestamp_start });
    req.timestamp_end = r.timestamp_end ?? undefined;
    if (r.trailers) req.trailers = Headers.fromBytes(r.trailers);
    const f = new HTTPFlow(client, server, req);
    if (j.response) {
      const s = j.response;
      f.response = new Response({ status_code: s.status_code, reason: s.reason, http_version: s.http_version, headers: Headers.fromBytes(s.headers), content: unb64(s.content), timestamp_start: s.timestamp_start });
      f.response.timestamp_end = s.timestamp_end ?? undefined;
      if (s.trailers) f.response.trailers = Headers.fromBytes(s.trailers);
    }
    if (j.websocket) f.websocket = decodeWebSocket(j.websocket);
    flow = f;
  } else if (j.type === "tcp" || j.type === "udp") {
    const f = j.type === "udp" ? new UDPFlow(client, server) : new TCPFlow(client, server);
    f.messages = (j.messages ?? []).map((m) => new TCPMessage(m.from_client, unb64(m.content) ?? new Uint8Array(0), m.timestamp));
    flow = f;
  } else if (j.type === "dns" && j.dns) {
    // Without a recorded time (older files) a message has none, rather than the time of reading.
    const f = new DNSFlow(client, server, new DNSMessage(dnsPacket.decode(Buffer.from(j.dns.request, "base64")), j.dns.request_timestamp ?? undefined));
    if (j.dns.response) f.response = new DNSMessage(dnsPacket.decode(Buffer.from(j.dns.response, "base64")), j.dns.response_timestamp ?? undefined);
    flow = f;
  } else throw new FlowFileError(`cannot read flows of type ${j.type}`);
  flow.id = j.id;
  flow.timestamp_created = j.timestamp_created;
  flow.marked = j.marked;
  flow.is_replay = j.is_replay;
  flow.comment = j.comment;
  flow.metadata = j.metadata ?? {};
  // Older files have no error time: the flow's creation, not the time of reading, so that durations stay sane.
  flow.error = j.error ? new FlowError(j.error.msg, j.error.timestamp ?? j.timestamp_created) : undefined;
  flow.live = false;
  return flow;
}
