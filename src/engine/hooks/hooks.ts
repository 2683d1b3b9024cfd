/**
 * Every event hook, defined once. A hook's name comes from its class name by the seed's
 * rule (`ServerConnectErrorHook` → `server_connect_error`), both at run time
 * (`hookName`) and in the types (`HookName`), so the `Addon` type is derived from the
 * classes and a misspelt addon method or wrong signature fails to type-check.
 * Each class documents when it fires; that text is the user documentation.
 */
import type { HTTPFlow } from "../flow/http.ts";
import type { TCPFlow, UDPFlow } from "../flow/tcp.ts";
import type { DNSFlow } from "../flow/dns.ts";
import type { Flow } from "../flow/flow.ts";
import type { LogEntry } from "../../protocol.ts";
import type { Client, ClientHelloData, NextLayerData, ServerConnectionHookData, Socks5AuthData, TlsData } from "../flow/connection.ts";
import type { Loader } from "./loader.ts";

abstract class Hook<A extends unknown[]> {
  readonly args: A;
  constructor(...args: A) {
    this.args = args;
  }
}

export const HOOK_CLASSES = {
  /** An addon was loaded; register options and commands on the loader. */
  LoadHook: class LoadHook extends Hook<[loader: Loader]> {},
  /** Options changed (at start every option counts as changed); `updated` holds their names. */
  ConfigureHook: class ConfigureHook extends Hook<[updated: Set<string>]> {},
  /** The proxy is listening and every addon is configured. */
  RunningHook: class RunningHook extends Hook<[]> {},
  /** The addon is being removed (script reload) or the proxy shuts down. */
  DoneHook: class DoneHook extends Hook<[]> {},
  /** An entry reached the event log. What a handler of this hook logs is shown but not handed to add_log again. */
  AddLogHook: class AddLogHook extends Hook<[entry: LogEntry]> {},
  /** Flows were changed by the user (an edit, mark, revert), not by the proxy. */
  UpdateHook: class UpdateHook extends Hook<[flows: Flow[]]> {},

  /** A request's headers were read; the body has not been. Set `flow.request.stream` here to stream it. */
  RequestheadersHook: class RequestheadersHook extends Hook<[flow: HTTPFlow]> {},
  /** The full request was read. Setting `flow.response` answers it without contacting the server. */
  RequestHook: class RequestHook extends Hook<[flow: HTTPFlow]> {},
  /** The response's headers were read. Set `flow.response.stream` here to stream the body through. */
  ResponseheadersHook: class ResponseheadersHook extends Hook<[flow: HTTPFlow]> {},
  /** The full response was read (or made by an addon); it is sent to the client after this hook. */
  ResponseHook: class ResponseHook extends Hook<[flow: HTTPFlow]> {},
  /** The flow failed (`flow.error`): a dead upstream, a broken connection, a kill. Every flow gets either response or error. */
  ErrorHook: class ErrorHook extends Hook<[flow: HTTPFlow]> {},
  /** A CONNECT request arrived. A non-2xx `flow.response` refuses the tunnel with that response. */
  HttpConnectHook: class HttpConnectHook extends Hook<[flow: HTTPFlow]> {},
  /** In upstream mode, a CONNECT is about to be sent to the upstream proxy; headers may be changed. */
  HttpConnectUpstreamHook: class HttpConnectUpstreamHook extends Hook<[flow: HTTPFlow]> {},
  /** A CONNECT was accepted: `flow.response` is the 2xx about to be sent, and the tunnel opens after it. */
  HttpConnectedHook: class HttpConnectedHook extends Hook<[flow: HTTPFlow]> {},
  /** A CONNECT was refused (by http_connect, or its server could not be reached): `flow.response` says how. */
  HttpConnectErrorHook: class HttpConnectErrorHook extends Hook<[flow: HTTPFlow]> {},

  /** A client's TLS ClientHello arrived; `data.ignore_connection = true` passes the connection through undecrypted. */
  TlsClienthelloHook: class TlsClienthelloHook extends Hook<[data: ClientHelloData]> {},
  /**
   * pryx is about to answer the client's ClientHello (`data.conn` is the client, its sni and
   * alpn_offers read from it). The certificate is made for `data.conn.sni` (else the target
   * host), so setting it chooses the name the client is shown.
   */
  TlsStartClientHook: class TlsStartClientHook extends Hook<[data: TlsData]> {},
  /** The client's TLS handshake with pryx completed (`data.conn` is the client, its sni, alpn and tls_version set). */
  TlsEstablishedClientHook: class TlsEstablishedClientHook extends Hook<[data: TlsData]> {},
  /** The client's TLS handshake failed, most often because it does not trust pryx's CA; `data.conn.error` says why. */
  TlsFailedClientHook: class TlsFailedClientHook extends Hook<[data: TlsData]> {},
  /**
   * pryx is about to start TLS with a server (`data.conn` is the server): the handshake sends
   * `data.conn.sni` (and checks the certificate against it) and offers `data.conn.alpn_offers`;
   * both may be changed here, to present another name or to keep a server on HTTP/1.1.
   */
  TlsStartServerHook: class TlsStartServerHook extends Hook<[data: TlsData]> {},
  /** pryx's TLS handshake with a server completed (`data.conn` is the server, its alpn, tls_version and certificate_list set). */
  TlsEstablishedServerHook: class TlsEstablishedServerHook extends Hook<[data: TlsData]> {},
  /** pryx's TLS handshake with a server failed (a certificate that does not verify, say); `data.conn.error` says why. */
  TlsFailedServerHook: class TlsFailedServerHook extends Hook<[data: TlsData]> {},
  /** A SOCKS5 client sent a username and password: `data.valid` (true when they match proxyauth) says whether they are accepted. */
  Socks5AuthHook: class Socks5AuthHook extends Hook<[data: Socks5AuthData]> {},
  /** A client connected. Setting `client.error` closes the connection. */
  ClientConnectedHook: class ClientConnectedHook extends Hook<[client: Client]> {},
  /** A client connection closed. */
  ClientDisconnectedHook: class ClientDisconnectedHook extends Hook<[client: Client]> {},
  /** pryx is about to connect to a server; `data.server.address` may be rewritten, `data.server.error` set to refuse. */
  ServerConnectHook: class ServerConnectHook extends Hook<[data: ServerConnectionHookData]> {},
  /** A server connection was established. */
  ServerConnectedHook: class ServerConnectedHook extends Hook<[data: ServerConnectionHookData]> {},
  /** A server connection closed. */
  ServerDisconnectedHook: class ServerDisconnectedHook extends Hook<[data: ServerConnectionHookData]> {},
  /** Connecting to a server failed; `data.server.error` says why. */
  ServerConnectErrorHook: class ServerConnectErrorHook extends Hook<[data: ServerConnectionHookData]> {},
  /**
   * A tunnel's (or a reverse listener's) first bytes arrived: `data.layer` is what pryx took
   * them for ("tls", "http" or "tcp"); setting it decides instead, "tcp" relaying the bytes as
   * they are (a TLS connection then passes through undecrypted).
   */
  NextLayerHook: class NextLayerHook extends Hook<[data: NextLayerData]> {},

  /** A WebSocket connection was established (after the 101). */
  WebsocketStartHook: class WebsocketStartHook extends Hook<[flow: HTTPFlow]> {},
  /** A WebSocket message arrived; it is the last of `flow.websocket.messages`. `drop()` it to not forward it. */
  WebsocketMessageHook: class WebsocketMessageHook extends Hook<[flow: HTTPFlow]> {},
  /** The WebSocket connection closed. */
  WebsocketEndHook: class WebsocketEndHook extends Hook<[flow: HTTPFlow]> {},

  /** A raw TCP flow started. */
  TcpStartHook: class TcpStartHook extends Hook<[flow: TCPFlow]> {},
  /** TCP data arrived; it is the last of `flow.messages`. */
  TcpMessageHook: class TcpMessageHook extends Hook<[flow: TCPFlow]> {},
  /** The TCP flow ended normally. Every TCP flow gets tcp_end or tcp_error. */
  TcpEndHook: class TcpEndHook extends Hook<[flow: TCPFlow]> {},
  /** The TCP flow failed; `flow.error` says why. */
  TcpErrorHook: class TcpErrorHook extends Hook<[flow: TCPFlow]> {},

  /** A UDP flow started: the first datagram from a client address arrived. */
  UdpStartHook: class UdpStartHook extends Hook<[flow: UDPFlow]> {},
  /** A datagram arrived; it is the last of `flow.messages`. Emptying its content drops it. */
  UdpMessageHook: class UdpMessageHook extends Hook<[flow: UDPFlow]> {},
  /** The UDP flow ended (idle for udp_timeout seconds, or pryx stopped). Every UDP flow gets udp_end or udp_error. */
  UdpEndHook: class UdpEndHook extends Hook<[flow: UDPFlow]> {},
  /** The UDP flow failed (its server could not be reached); `flow.error` says why. */
  UdpErrorHook: class UdpErrorHook extends Hook<[flow: UDPFlow]> {},

  /** A DNS query arrived. `flow.request.succeed(records)`/`fail(rcode)` or setting `flow.response` answers it. */
  DnsRequestHook: class DnsRequestHook extends Hook<[flow: DNSFlow]> {},
  /** A DNS response is about to be sent to the client. */
  DnsResponseHook: class DnsResponseHook extends Hook<[flow: DNSFlow]> {},
  /** Resolving failed; `flow.error` says why. */
  DnsErrorHook: class DnsErrorHook extends Hook<[flow: DNSFlow]> {},
} as const;

type HookClasses = typeof HOOK_CLASSES;
type HookClassName = keyof HookClasses;

/** CamelCase → snake_case at the type level, the same rule as `snakeCase` below. */
type Snake<S extends string, First extends boolean = true> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : First extends true ? Lowercase<H> : `_${Lowercase<H>}`}${Snake<T, false>}`
  : S;

type NameOf<K extends string> = K extends `${infer N}Hook` ? Snake<N> : never;

export type HookName = NameOf<HookClassName>;

type ClassOf<N extends HookName> = { [K in HookClassName]: NameOf<K> extends N ? HookClasses[K] : never }[HookClassName];

/** The arguments each hook is called with. */
export type HookArgs = { [N in HookName]: InstanceType<ClassOf<N>>["args"] };

/**
 * An addon: an object whose methods are named after hooks. Every method is optional;
 * a method may be async, and the flow waits for it.
 */
export type Addon = {
  [N in HookName]?: (...args: HookArgs[N]) => void | Promise<void>;
} & {
  /** Shown in errors and the event log; defaults to the script's file name or the class name. */
  name?: string;
  /** Nested addons, called after this one (as mitmproxy's `addons` attribute). */
  addons?: Addon[];
};

export function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}

/** The hook name of a class name, by the seed's rule. */
export function hookNameOf(className: string): string {
  return snakeCase(className.replace(/Hook$/, ""));
}

export const HOOK_NAMES: readonly HookName[] = Object.keys(HOOK_CLASSES).map((k) => hookNameOf(k) as HookName);

const KNOWN = new Set<string>(HOOK_NAMES);
export function isHookName(name: string): name is HookName {
  return KNOWN.has(name);
}
