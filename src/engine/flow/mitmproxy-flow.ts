/**
 * mitmproxy's flow files (`mitmdump -w`, the console's `w`): each flow's state dict, as its
 * `get_state()` writes it, made into a pryx flow. Versions 13 (mitmproxy 7) to 21 (mitmproxy 11)
 * are read, taking the key names of both sides of the 18→19 rename (client `address` →
 * `peername`, server `ip_address` → `peername`), so a user switching brings their captures.
 */
import { Client, Server, type Address } from "./connection.ts";
import { HTTPFlow, Request, Response } from "./http.ts";
import { TCPFlow, TCPMessage, UDPFlow } from "./tcp.ts";
import { WebSocketData, WebSocketMessage } from "./websocket.ts";
import { DNSFlow, DNSMessage } from "./dns.ts";
import * as dnsPacket from "dns-packet";
import { FlowError, type Flow } from "./flow.ts";
import { Headers, type HeaderField } from "./headers.ts";
import type { TValue } from "./tnetstring.ts";

export class MitmproxyFlowError extends Error {}

/** The oldest format version read: marked became a string in 13 (mitmproxy 7). */
const OLDEST = 13;
const NEWEST = 21;

type Dict = { [key: string]: TValue };

const isDict = (v: TValue | undefined): v is Dict => v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
const dict = (v: TValue | undefined): Dict => (isDict(v) ? v : {});
const list = (v: TValue | undefined): TValue[] => (Array.isArray(v) ? v : []);
/** Text from a str field, or from bytes (mitmproxy's bytes fields are byte strings: latin1 keeps each byte). */
const text = (v: TValue | undefined, bytesAs: BufferEncoding = "latin1"): string | undefined => (typeof v === "string" ? v : Buffer.isBuffer(v) ? v.toString(bytesAs) : undefined);
const num = (v: TValue | undefined): number | undefined => (typeof v === "number" ? v : undefined);
const bytes = (v: TValue | undefined): Uint8Array | undefined => (Buffer.isBuffer(v) ? v : typeof v === "string" ? Buffer.from(v, "utf8") : undefined);

/** A metadata value as an addon would have set it in JavaScript: bytes as text. */
function plainValue(v: TValue): unknown {
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (Array.isArray(v)) return v.map(plainValue);
  if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  return v;
}

function address(v: TValue | undefined): Address | undefined {
  const a = list(v);
  const host = text(a[0], "utf8");
  const port = num(a[1]);
  return host !== undefined && port !== undefined ? [host, port] : undefined;
}

function headers(v: TValue | undefined): HeaderField[] {
  return list(v).map((pair) => {
    const [k, val] = list(pair);
    return [text(k) ?? "", text(val) ?? ""];
  });
}

function connectionFacts(c: Client | Server, s: Dict): void {
  c.tls = s.tls === true || s.tls_established === true;
  c.tls_established = c.tls;
  c.sni = text(s.sni, "utf8");
  c.alpn = text(s.alpn);
  c.alpn_offers = list(s.alpn_offers).map((o) => text(o) ?? "");
  c.tls_version = text(s.tls_version);
  c.cipher = text(s.cipher) ?? text(s.cipher_name);
  // PEM bytes, leaf first (mitmproxy's Cert.to_pem()).
  c.certificate_list = list(s.certificate_list).flatMap((pem) => text(pem) ?? []);
  c.error = text(s.error, "utf8");
  c.timestamp_start = num(s.timestamp_start);
  c.timestamp_tls_setup = num(s.timestamp_tls_setup);
  c.timestamp_end = num(s.timestamp_end);
  // mitmproxy's ConnectionState: OPEN is 3 (CAN_READ | CAN_WRITE), as it saved the flow.
  c.connected = s.state === 3;
  c.closed = true;
}

function client(s: Dict): Client {
  const c = new Client(address(s.peername) ?? address(s.address) ?? ["", 0], address(s.sockname) ?? ["", 0], text(s.proxy_mode) ?? "regular", text(s.id));
  connectionFacts(c, s);
  return c;
}

function server(s: Dict): Server {
  const sv = new Server(address(s.address), text(s.id));
  sv.peername = address(s.peername) ?? address(s.ip_address);
  sv.sockname = address(s.sockname) ?? address(s.source_address);
  // An upstream proxy, as (scheme, (host, port)): `via` from version 19, `via2` before it.
  sv.via = address(list(s.via ?? s.via2)[1]);
  sv.timestamp_tcp_setup = num(s.timestamp_tcp_setup);
  connectionFacts(sv, s);
  return sv;
}

/** What requests and responses share (mitmproxy's MessageData). */
const message = (s: Dict) => ({ http_version: text(s.http_version) ?? "HTTP/1.1", headers: Headers.fromBytes(headers(s.headers)), content: bytes(s.content), timestamp_start: num(s.timestamp_start) ?? 0 });

function ended<M extends Request | Response>(m: M, s: Dict): M {
  m.timestamp_end = num(s.timestamp_end);
  return m;
}

function request(s: Dict): Request {
  const init = { method: text(s.method) ?? "GET", scheme: text(s.scheme) ?? "http", host: text(s.host, "utf8") ?? "", port: num(s.port) ?? 0, path: text(s.path) ?? "/", authority: text(s.authority) ?? "" };
  return ended(new Request({ ...init, ...message(s) }), s);
}

function response(s: Dict): Response {
  return ended(new Response({ status_code: num(s.status_code) ?? 0, reason: text(s.reason) ?? "", ...message(s) }), s);
}

function websocket(s: Dict): WebSocketData {
  const ws = new WebSocketData();
  ws.messages = list(s.messages).map((m) => {
    const [type, fromClient, content, timestamp, dropped, injected] = list(m);
    // mitmproxy stores the frame opcode: 1 text, 2 binary.
    const msg = new WebSocketMessage(type === 1 ? "text" : "binary", fromClient === true, bytes(content) ?? new Uint8Array(0), num(timestamp) ?? 0);
    msg.dropped = dropped === true;
    msg.injected = injected === true;
    return msg;
  });
  ws.closed_by_client = typeof s.closed_by_client === "boolean" ? s.closed_by_client : undefined;
  ws.close_code = num(s.close_code);
  ws.close_reason = text(s.close_reason, "utf8");
  ws.timestamp_end = num(s.timestamp_end);
  return ws;
}

/** dns-packet's name codec: the module exports it, its typings do not. */
const dnsName = (dnsPacket as unknown as { name: { encode(n: string, buf: Buffer, offset: number): Buffer; encodingLength(n: string): number } }).name;

/**
 * mitmproxy keeps a DNS message as fields with each record's raw rdata: they are put back in
 * wire format (only the framing; names through dns-packet's encoder) for dns-packet to decode.
 */
function dnsMessage(s: Dict): DNSMessage {
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n & 0xffff);
    return b;
  };
  const nameBytes = (n: string): Buffer => {
    const b = Buffer.alloc(dnsName.encodingLength(n));
    dnsName.encode(n, b, 0);
    return b;
  };
  const flags =
    (s.query === true ? 0 : 0x8000) | ((num(s.op_code) ?? 0) << 11) | (s.authoritative_answer === true ? 0x400 : 0) | (s.truncation === true ? 0x200 : 0) |
    (s.recursion_desired === true ? 0x100 : 0) | (s.recursion_available === true ? 0x80 : 0) | (((num(s.reserved) ?? 0) & 7) << 4) | ((num(s.response_code) ?? 0) & 0xf);
  const questions = list(s.questions).map((q) => {
    const d = dict(q);
    return Buffer.concat([nameBytes(text(d.name, "utf8") ?? ""), u16(num(d.type) ?? 1), u16(num(d.class_) ?? 1)]);
  });
  const records = (v: TValue | undefined): Buffer[] =>
    list(v).map((r) => {
      const d = dict(r);
      const data = Buffer.from(bytes(d.data) ?? new Uint8Array(0));
      const ttl = Buffer.alloc(4);
      ttl.writeUInt32BE((num(d.ttl) ?? 0) >>> 0);
      return Buffer.concat([nameBytes(text(d.name, "utf8") ?? ""), u16(num(d.type) ?? 1), u16(num(d.class_) ?? 1), ttl, u16(data.length), data]);
    });
  const [an, ns, ar] = [records(s.answers), records(s.authorities), records(s.additionals)];
  const wire = Buffer.concat([u16(num(s.id) ?? 0), u16(flags), u16(questions.length), u16(an.length), u16(ns.length), u16(ar.length), ...questions, ...an, ...ns, ...ar]);
  return new DNSMessage(dnsPacket.decode(wire), num(s.timestamp));
}

/** One flow from its state dict; a type or version pryx does not read is a MitmproxyFlowError saying which. */
export function flowFromMitmproxyState(state: TValue): Flow {
  if (!isDict(state)) throw new MitmproxyFlowError("not a flow: expected a dict");
  const version = num(state.version);
  if (version === undefined) throw new MitmproxyFlowError("a flow from mitmproxy before 7.0 (no numeric format version): open it in a newer mitmproxy and save it again");
  if (version < OLDEST || version > NEWEST) throw new MitmproxyFlowError(`mitmproxy flow format version ${version}: pryx reads versions ${OLDEST} to ${NEWEST} (mitmproxy 7 to 11)`);
  const type = text(state.type);
  const c = client(dict(state.client_conn));
  const sv = server(dict(state.server_conn));
  let flow: Flow;
  if (type === "http") {
    const f = new HTTPFlow(c, sv, request(dict(state.request)));
    if (isDict(state.response)) f.response = response(state.response);
    if (isDict(state.websocket)) f.websocket = websocket(state.websocket);
    flow = f;
  } else if (type === "tcp" || type === "udp") {
    const f = type === "udp" ? new UDPFlow(c, sv) : new TCPFlow(c, sv);
    f.messages = list(state.messages).map((m) => {
      const [fromClient, content, timestamp] = list(m);
      return new TCPMessage(fromClient === true, bytes(content) ?? new Uint8Array(0), num(timestamp) ?? 0);
    });
    flow = f;
  } else if (type === "dns") {
    const f = new DNSFlow(c, sv, dnsMessage(dict(state.request)));
    if (isDict(state.response)) f.response = dnsMessage(state.response);
    flow = f;
  } else throw new MitmproxyFlowError(`mitmproxy ${type ?? "unknown"} flows are not read yet (HTTP, WebSocket, TCP, UDP and DNS flows are)`);
  flow.id = text(state.id) ?? flow.id;
  const req = flow instanceof HTTPFlow ? flow.request.timestamp_start : undefined;
  flow.timestamp_created = num(state.timestamp_created) ?? req ?? c.timestamp_start ?? 0;
  flow.marked = typeof state.marked === "string" ? state.marked : state.marked === true ? ":default:" : "";
  flow.is_replay = state.is_replay === "request" || state.is_replay === "response" ? state.is_replay : null;
  flow.comment = text(state.comment, "utf8") ?? "";
  flow.metadata = plainValue(dict(state.metadata)) as Record<string, unknown>;
  const err = dict(state.error);
  const msg = text(err.msg, "utf8");
  flow.error = msg !== undefined ? new FlowError(msg, num(err.timestamp) ?? flow.timestamp_created) : undefined;
  flow.live = false;
  return flow;
}
