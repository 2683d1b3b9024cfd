/**
 * A closed connection packed into a stored flow's text and number slots (see `packed.ts`).
 * A flow read from a file has connections of its own, about fourteen heap objects with their
 * address arrays and boxed timestamps; packed, they cost none. Open connections are not
 * packed: they are shared with the flows still to come and change when they close.
 */
import { Client, Server, type Address } from "./connection.ts";

/** Stands for an unset optional string in the text. */
const UNSET = "\u0001";

/** Thrown when a value is the UNSET marker itself; the flow is then kept unpacked. */
export class UnpackableValue extends Error {}

// Number slots, from the connection's base in the flow's slots.
const TS_START = 0;
const TS_TLS = 1;
const TS_END = 2;
const FLAGS = 3;
const CLIENT_PEER_PORT = 4;
const CLIENT_SOCK_PORT = 5;
export const CLIENT_NUMS = 6;
const SERVER_TS_TCP = 4;
const SERVER_PORTS = 5; // address, peername, sockname, via
const SERVER_CERTS = 9;
export const SERVER_NUMS = 10;

const F_TLS = 1;
const F_TLS_ESTABLISHED = 2;
/** Server address fields that are set, from this bit up, in SERVER_ADDRESSES order. */
const F_ADDRESS = 4;
/** `connected`, above the four address bits: a flow read from a mitmproxy file keeps its state OPEN. */
const F_CONNECTED = 64;

const COMMON_FIELDS = 7;
/** Text fields of a packed client; its peername's host is the 7th. */
export const CLIENT_FIELDS = COMMON_FIELDS + 3;
export const CLIENT_PEER_HOST = COMMON_FIELDS;
/** Text fields of a packed server before its certificates; its address's host is the 7th. */
export const SERVER_ADDRESS_HOST = COMMON_FIELDS;
export const CLIENT_PEER_PORT_SLOT = CLIENT_PEER_PORT;
export const SERVER_ADDRESS_PORT_SLOT = SERVER_PORTS;

function text(v: string | undefined): string {
  if (v === UNSET) throw new UnpackableValue();
  return v === undefined ? UNSET : v;
}

function untext(v: string): string | undefined {
  return v === UNSET ? undefined : v;
}

function unnum(n: number): number | undefined {
  return Number.isNaN(n) ? undefined : n;
}

type Connection = Client | Server;

/** ALPN offers as one text: protocol ids are never empty, so "" is none; a newline in one keeps the flow unpacked. */
function offersText(offers: readonly string[]): string {
  for (const o of offers) if (o.includes("\n")) throw new UnpackableValue();
  return text(offers.join("\n"));
}

function packCommon(c: Connection, parts: string[], n: Float64Array, at: number): void {
  parts.push(c.id, text(c.error), text(c.tls_version), text(c.cipher), text(c.sni), text(c.alpn), offersText(c.alpn_offers));
  n[at + TS_START] = c.timestamp_start ?? NaN;
  n[at + TS_TLS] = c.timestamp_tls_setup ?? NaN;
  n[at + TS_END] = c.timestamp_end ?? NaN;
  n[at + FLAGS] = (c.tls ? F_TLS : 0) | (c.tls_established ? F_TLS_ESTABLISHED : 0) | (c.connected ? F_CONNECTED : 0);
}

function unpackCommon(c: Connection, s: readonly string[], i: number, n: Float64Array, at: number): void {
  c.error = untext(s[i + 1] as string);
  c.tls_version = untext(s[i + 2] as string);
  c.cipher = untext(s[i + 3] as string);
  c.sni = untext(s[i + 4] as string);
  c.alpn = untext(s[i + 5] as string);
  const offers = s[i + 6] as string;
  c.alpn_offers = offers === "" ? [] : offers.split("\n");
  c.timestamp_start = unnum(n[at + TS_START] as number);
  c.timestamp_tls_setup = unnum(n[at + TS_TLS] as number);
  c.timestamp_end = unnum(n[at + TS_END] as number);
  const flags = n[at + FLAGS] as number;
  c.tls = (flags & F_TLS) !== 0;
  c.tls_established = (flags & F_TLS_ESTABLISHED) !== 0;
  c.connected = (flags & F_CONNECTED) !== 0;
  c.closed = true;
}

export function packClient(c: Client, parts: string[], n: Float64Array, at: number): void {
  // A client certificate (request_client_cert) is rare enough to keep such flows unpacked.
  if (c.certificate_list.length > 0) throw new UnpackableValue();
  packCommon(c, parts, n, at);
  parts.push(text(c.peername[0]), text(c.sockname[0]), text(c.proxy_mode));
  n[at + CLIENT_PEER_PORT] = c.peername[1];
  n[at + CLIENT_SOCK_PORT] = c.sockname[1];
}

export function unpackClient(s: readonly string[], i: number, n: Float64Array, at: number): Client {
  const peer: Address = [s[i + CLIENT_PEER_HOST] as string, n[at + CLIENT_PEER_PORT] as number];
  const sock: Address = [s[i + COMMON_FIELDS + 1] as string, n[at + CLIENT_SOCK_PORT] as number];
  const c = new Client(peer, sock, s[i + COMMON_FIELDS + 2] as string, s[i] as string);
  unpackCommon(c, s, i, n, at);
  return c;
}

const SERVER_ADDRESSES = ["address", "peername", "sockname", "via"] as const;

export function packServer(c: Server, parts: string[], n: Float64Array, at: number): void {
  packCommon(c, parts, n, at);
  let flags = n[at + FLAGS] as number;
  SERVER_ADDRESSES.forEach((key, k) => {
    const a = c[key];
    parts.push(a ? text(a[0]) : UNSET);
    n[at + SERVER_PORTS + k] = a ? a[1] : 0;
    if (a) flags |= F_ADDRESS << k;
  });
  n[at + FLAGS] = flags;
  n[at + SERVER_TS_TCP] = c.timestamp_tcp_setup ?? NaN;
  for (const pem of c.certificate_list) parts.push(text(pem));
  n[at + SERVER_CERTS] = c.certificate_list.length;
}

export function unpackServer(s: readonly string[], i: number, n: Float64Array, at: number): Server {
  const flags = n[at + FLAGS] as number;
  const addresses = SERVER_ADDRESSES.map((_, k): Address | undefined =>
    flags & (F_ADDRESS << k) ? [s[i + COMMON_FIELDS + k] as string, n[at + SERVER_PORTS + k] as number] : undefined,
  );
  const c = new Server(addresses[0], s[i] as string);
  c.peername = addresses[1];
  c.sockname = addresses[2];
  c.via = addresses[3];
  c.timestamp_tcp_setup = unnum(n[at + SERVER_TS_TCP] as number);
  const certs = n[at + SERVER_CERTS] as number;
  const first = i + COMMON_FIELDS + SERVER_ADDRESSES.length;
  c.certificate_list = s.slice(first, first + certs);
  unpackCommon(c, s, i, n, at);
  return c;
}

/** Whether a packed server has an address (for `~dst` on a packed flow's view). */
export function serverHasAddress(n: Float64Array, at: number): boolean {
  return ((n[at + FLAGS] as number) & F_ADDRESS) !== 0;
}
