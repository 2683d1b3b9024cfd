import { uuid } from "./uuid.ts";
import type { FullClientHello } from "../proxy/client-hello.ts";
import { now } from "./now.ts";

export type Address = [host: string, port: number];

/** Facts shared by both ends of a proxied connection (mitmproxy's `Connection`). */
abstract class Connection {
  readonly id: string;
  /**
   * No socket will change this connection any more: it has closed, or it was read from a file.
   * A stored flow's closed connections are packed with it (see `flow/packed.ts`).
   */
  closed = false;
  /**
   * mitmproxy's `connected` (its state OPEN): the socket is up and pryx goes on using it. It
   * turns false as soon as either side ends the connection or pryx decides to (a response that
   * says Connection: close), which is before `closed` when the socket's last events are still to
   * come: a flow saved at its response or error hook then says CLOSED, as mitmproxy's does.
   */
  connected = false;
  /** Set by an addon (or the engine) to a reason; the connection is closed with it. */
  error: string | undefined = undefined;
  /** TLS facts once a handshake completed. */
  tls = false;
  tls_established = false;
  tls_version: string | undefined = undefined;
  cipher: string | undefined = undefined;
  sni: string | undefined = undefined;
  alpn: string | undefined = undefined;
  /**
   * The ALPN protocols offered: by the client in its ClientHello, by pryx to the server. A
   * tls_start_server handler may change the server's before the handshake.
   */
  alpn_offers: string[] = [];
  timestamp_start: number | undefined = undefined;
  timestamp_tls_setup: number | undefined = undefined;
  timestamp_end: number | undefined = undefined;
  /** PEM certificates the peer presented, leaf first: a client's only with `request_client_cert`. */
  certificate_list: string[] = [];

  /** `id` for a connection rebuilt from storage; a new one gets a fresh one. */
  constructor(id: string | undefined) {
    this.id = id ?? uuid();
  }
}

/** The client side: who connected to the proxy. */
export class Client extends Connection {
  peername: Address;
  sockname: Address;
  proxy_mode: string;

  constructor(peername: Address, sockname: Address, proxy_mode = "regular", id?: string) {
    super(id);
    this.peername = peername;
    this.sockname = sockname;
    this.proxy_mode = proxy_mode;
    this.timestamp_start = now();
    // A client is one because it connected; a server connects later (see `dial`).
    this.connected = true;
  }

  /** mitmproxy's older name for peername; DESIGN.md uses `client.address`. */
  get address(): Address {
    return this.peername;
  }
}

/** The server side: where pryx connects on the client's behalf. */
export class Server extends Connection {
  /** The address to connect to; may be rewritten in `server_connect`. */
  address: Address | undefined;
  /** The address actually connected to (after DNS). */
  peername: Address | undefined = undefined;
  sockname: Address | undefined = undefined;
  timestamp_tcp_setup: number | undefined = undefined;
  /** Upstream proxy in upstream mode. */
  via: Address | undefined = undefined;

  constructor(address: Address | undefined, id?: string) {
    super(id);
    this.address = address;
  }
}

/** The argument of server_connect, server_connected, server_disconnected and server_connect_error. */
export class ServerConnectionHookData {
  constructor(
    readonly server: Server,
    readonly client: Client,
  ) {}
}

/**
 * What the TLS hooks get (mitmproxy's TlsData): `conn`, the side the handshake was on (the client
 * for tls_*_client, the server for tls_*_server; after a failure its `error` says why), and the
 * connection's two sides. In tls_start_* the handshake has not begun, and what `conn` says it
 * will use (`sni`, and the server's `alpn_offers`) may be changed.
 */
export class TlsData {
  constructor(
    readonly conn: Client | Server,
    readonly context: { readonly client: Client; readonly server: Server },
  ) {}
}

/**
 * A client's ClientHello as mitmproxy's `tls.ClientHello`: its name, ALPN offers, cipher suites
 * and extensions (what JA3-style fingerprints are made of), and the bytes it came in.
 */
export class ClientHello {
  readonly sni: string | undefined;
  readonly alpn_protocols: readonly string[];
  readonly cipher_suites: readonly number[];
  /** Each extension's type and data, in the order the client sent them. */
  readonly extensions: readonly (readonly [number, Uint8Array])[];

  /** `record`: the TLS record holding the ClientHello, as the client sent it. */
  constructor(
    hello: FullClientHello | undefined,
    private readonly record: Uint8Array,
  ) {
    this.sni = hello?.sni;
    this.alpn_protocols = hello?.alpn ?? [];
    this.cipher_suites = hello?.cipherSuites ?? [];
    this.extensions = hello?.extensions ?? [];
  }

  /** The ClientHello handshake message, in its TLS record unless `wrapInRecord` is false (mitmproxy's `raw_bytes(wrap_in_record)`). */
  raw_bytes(wrapInRecord = true): Buffer {
    const length = 5 + ((this.record[3] ?? 0) << 8 | (this.record[4] ?? 0));
    return Buffer.from(this.record.subarray(wrapInRecord ? 0 : 5, Math.min(length, this.record.length)));
  }
}

/**
 * What `tls_clienthello` gets, as mitmproxy's ClientHelloData: the connection, the ClientHello,
 * and `ignore_connection`, which an addon sets to pass this connection through without
 * decrypting it (mitmproxy's tls_passthrough example decides so per connection).
 */
export class ClientHelloData {
  ignore_connection = false;

  constructor(
    readonly context: { readonly client: Client; readonly server: Server },
    readonly client_hello: ClientHello,
  ) {}
}

/** What a connection's next bytes are taken for: intercepted TLS, HTTP, or a TCP relay (TLS then passes through undecrypted). */
export const LAYER_NAMES = ["tls", "http", "tcp"] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

/**
 * What `next_layer` gets, as mitmproxy's NextLayer: the connection, the bytes the client sent
 * first (`data_client()`), and `layer`, what pryx took them for, which an addon may change.
 */
export class NextLayerData {
  constructor(
    readonly context: { readonly client: Client; readonly server: Server },
    private readonly first: Uint8Array,
    public layer: LayerName,
  ) {}

  data_client(): Uint8Array {
    return this.first;
  }

  /** The server has sent nothing when the client's first bytes decide. */
  data_server(): Uint8Array {
    return new Uint8Array(0);
  }
}

/**
 * What `socks5_auth` gets, as mitmproxy's Socks5AuthData: the client and the credentials it sent.
 * `valid` starts true when they match `proxyauth`; an addon sets it to accept or refuse them.
 */
export class Socks5AuthData {
  constructor(
    readonly client_conn: Client,
    readonly username: string,
    readonly password: string,
    public valid: boolean,
  ) {}
}

/**
 * Splits "host", "host:port", "[v6]" or "[v6]:port" (the form of Host headers, CONNECT
 * targets and name-server settings). The port is undefined when absent; undefined overall
 * when the text is not an authority.
 */
export function parseAuthority(text: string): { host: string; port: number | undefined } | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:\[\]]*)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  return { host: m[1] as string, port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * An IPv4 client of a dual-stack listener (`--listen-host ::`) as its IPv4 address: the socket
 * says ::ffff:10.0.0.9, which is the address every display, filter and export means.
 */
export function unmappedIPv4(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

export function formatAddress(a: Address | undefined): string {
  if (!a) return "";
  return a[0].includes(":") ? `[${a[0]}]:${a[1]}` : `${a[0]}:${a[1]}`;
}
