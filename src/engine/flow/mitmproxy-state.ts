/**
 * A flow as mitmproxy's state dict at flow format version 17, the one mitmproxy 8 writes and
 * every later mitmproxy migrates when it reads (`mitmproxy -r`, `mitmdump -nr`): so a capture
 * pryx saves as `.mitm` opens in the mitmproxy a colleague has. The keys are exactly the ones
 * mitmproxy 8 writes (its reader refuses a dict with keys left over), bytes where it has bytes
 * and text where it has text (it checks the types).
 *
 * HTTP flows (WebSocket included) and TCP flows: version 17 has no UDP or DNS flows.
 */
import { Client, Server, type Address } from "./connection.ts";
import type { Flow } from "./flow.ts";
import type { HeaderField } from "./headers.ts";
import { HTTPFlow } from "./http.ts";
import type { Message } from "./message.ts";
import { plainJsonEntries } from "./plain-json.ts";
import { TCPFlow } from "./tcp.ts";
import { TFloat, type TOut } from "./tnetstring.ts";

export const MITMPROXY_WRITE_VERSION = 17;

/** mitmproxy's ConnectionState: CLOSED, or CAN_READ | CAN_WRITE. */
const CLOSED = 0;
const OPEN = 3;

/** pryx keeps raw header names and values, bytes as latin1 characters, as the reader does. */
const raw = (s: string): Buffer => Buffer.from(s, "latin1");
const float = (n: number | undefined): TFloat | null => (n === undefined ? null : new TFloat(n));
const address = (a: Address | undefined): TOut => (a ? [a[0], a[1]] : null);
const fields = (f: readonly HeaderField[]): TOut => f.map(([k, v]) => [raw(k), raw(v)]);
const bytesOf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Plain JSON (see plainJson) in tnetstring types: whole numbers as ints, others as floats. */
function jsonValue(v: unknown): TOut {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : new TFloat(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonValue(x)]));
}

function metadata(m: Record<string, unknown>): TOut {
  return jsonValue(plainJsonEntries(m));
}

/** What both sides' states have, by mitmproxy 8's names. */
function connectionState(c: Client | Server): Record<string, TOut> {
  return {
    alpn: c.alpn === undefined ? null : raw(c.alpn),
    alpn_offers: c.alpn_offers.map(raw),
    certificate_list: c.certificate_list.map((pem) => Buffer.from(pem, "latin1")),
    cipher_list: [],
    cipher_name: c.cipher ?? null,
    error: c.error ?? null,
    id: c.id,
    sni: c.sni ?? null,
    state: c.connected ? OPEN : CLOSED,
    timestamp_end: float(c.timestamp_end),
    timestamp_start: float(c.timestamp_start),
    timestamp_tls_setup: float(c.timestamp_tls_setup),
    tls: c.tls,
    tls_established: c.tls_established,
    tls_version: c.tls_version ?? null,
  };
}

function clientState(c: Client): TOut {
  return { ...connectionState(c), address: address(c.peername), sockname: address(c.sockname), mitmcert: null, tls_extensions: [], timestamp_start: new TFloat(c.timestamp_start ?? 0) };
}

function serverState(s: Server): TOut {
  return {
    ...connectionState(s),
    address: address(s.address),
    ip_address: address(s.peername),
    source_address: address(s.sockname),
    timestamp_tcp_setup: float(s.timestamp_tcp_setup),
    via: null,
    // mitmproxy's ServerSpec: (scheme, (host, port)); pryx's upstream proxies are HTTP proxies.
    via2: s.via ? ["http", address(s.via)] : null,
  };
}

function messageState(m: Message): Record<string, TOut> {
  return {
    content: m.raw_content === undefined ? null : bytesOf(m.raw_content),
    headers: fields(m.headers.byteFields()),
    http_version: raw(m.http_version),
    timestamp_end: float(m.timestamp_end),
    timestamp_start: new TFloat(m.timestamp_start),
    trailers: m.trailers ? fields(m.trailers.byteFields()) : null,
  };
}

function httpState(f: HTTPFlow): Record<string, TOut> {
  const r = f.request;
  const s = f.response;
  const ws = f.websocket;
  return {
    request: { ...messageState(r), authority: raw(r.authority), host: r.host, method: raw(r.method), path: raw(r.path), port: r.port, scheme: raw(r.scheme) },
    response: s ? { ...messageState(s), reason: raw(s.reason), status_code: s.status_code } : null,
    websocket: ws
      ? {
          // The frame opcode: 1 text, 2 binary.
          messages: ws.messages.map((m) => [m.type === "text" ? 1 : 2, m.from_client, bytesOf(m.content), new TFloat(m.timestamp), m.dropped, m.injected]),
          closed_by_client: ws.closed_by_client ?? null,
          close_code: ws.close_code ?? null,
          close_reason: ws.close_reason ?? null,
          timestamp_end: float(ws.timestamp_end),
        }
      : null,
  };
}

/** The flow's state dict, or undefined for a flow version 17 cannot hold (UDP, DNS). */
export function mitmproxyState(flow: Flow): TOut | undefined {
  let own: Record<string, TOut>;
  if (flow instanceof HTTPFlow) own = httpState(flow);
  else if (flow instanceof TCPFlow) own = { messages: flow.messages.map((m) => [m.from_client, bytesOf(m.content), new TFloat(m.timestamp)]) };
  else return undefined;
  return {
    version: MITMPROXY_WRITE_VERSION,
    type: flow.type,
    id: flow.id,
    client_conn: clientState(flow.client_conn),
    server_conn: serverState(flow.server_conn),
    comment: flow.comment,
    error: flow.error ? { msg: flow.error.msg, timestamp: new TFloat(flow.error.timestamp) } : null,
    intercepted: false,
    is_replay: flow.is_replay,
    marked: flow.marked,
    metadata: metadata(flow.metadata),
    timestamp_created: new TFloat(flow.timestamp_created),
    ...own,
  };
}
