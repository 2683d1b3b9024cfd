import net from "node:net";
import tls from "node:tls";
import { FlowError, KILLED_MESSAGE } from "../flow/flow.ts";
import { TCPFlow, TCPMessage } from "../flow/tcp.ts";
import { ClientHello, ClientHelloData, LAYER_NAMES, NextLayerData, Server, TlsData, formatAddress, type Client, type LayerName } from "../flow/connection.ts";
import { openServer, secureEagerServer, serverClosed, useEagerServer } from "./upstream.ts";
import { resetOrDestroy } from "./reset.ts";
import { upstreamAlpn } from "./pool.ts";
import { logTlsKeys } from "./key-log.ts";
import { clientFacts } from "./client-facts.ts";
import { clientChain } from "./peer-chain.ts";
import { parseClientHello, parseFullClientHello, type FullClientHello } from "./client-hello.ts";
import { Http2Connection } from "./h2-connection.ts";
import { clientDisconnected } from "./client-gone.ts";
import { waitIfIntercepted } from "./paused.ts";
import type { ProxyContext, TlsProvider } from "./context.ts";
import type { ConnectionTarget } from "./http-connection.ts";
import { noSharedVersion } from "./tls-settings.ts";
import { endWhenIdle } from "./idle-timeout.ts";
import { now } from "../flow/now.ts";

export type Target = { host: string; port: number };

/** Runs a readied tunnel on the client's socket once its CONNECT has been answered. */
export type TunnelStart = (socket: net.Socket, initial: Buffer) => void;

export type HttpStarter = (socket: net.Socket, client: Client, target: ConnectionTarget, initial: Buffer | undefined) => void;

/** The ALPN names of the HTTP/1 side. */
const HTTP1_ALPN = ["http/1.1", "http/1.0"];

/**
 * The protocol pryx agrees with an intercepted client by ALPN: h2 (with http2 on), else an
 * HTTP/1 one (http/1.0 too: curl --http1.0 offers only it), else the client's own first choice,
 * whose bytes its first ones then decide on (byDecryptedBytes); refusing it
 * (no_application_protocol) ended the handshake.
 */
export function chooseAlpn(offers: readonly string[], http2: boolean): string | undefined {
  if (http2 && offers.includes("h2")) return "h2";
  // h2 with http2 off is refused, as before: its bytes would be neither HTTP/1 nor a relay's.
  return HTTP1_ALPN.find((p) => offers.includes(p)) ?? offers.find((p) => p !== "h2");
}

/** The start of an HTTP/1 request line. */
export const HTTP_START = /^[A-Z]{3,10} [^ ]/;
/** HTTP/2's connection preface: h2c with prior knowledge, which pryx relays as TCP, as mitmproxy does (it cannot read it as HTTP/1). */
const H2_PREFACE = "PRI * HTTP/2.0\r\n";
/** How long a client of a host allow_hosts may yet allow by name may stay silent before its server is taken to speak first. */
const SERVER_FIRST_MS = 300;
/**
 * How long any tunnel's client may stay silent after the 200 before pryx connects its server
 * (lazy connections): an SMTP, IMAP, SSH or database client waits for its server to speak, and
 * the tunnel would hang until the client gave up. From then on whichever side speaks first
 * decides, as with mitmproxy's default eager connections: a greeting is relayed as TCP, and a
 * client slow to start its handshake (a phone far away) is still intercepted, on the connection
 * already open. Short, since a greeting is held back that long; local clients speak within a
 * millisecond or two.
 */
const SILENT_CLIENT_MS = 100;
/** After an early connection for a silent client failed, how long the client may still take to speak. */
const SILENT_AFTER_FAILED_CONNECT_MS = 1000;
/** Whether `host:port` matches any of the regexes (mitmproxy matches ignore_hosts against the address). */
export function hostMatches(patterns: readonly string[], host: string, port: number): boolean {
  const addr = `${host}:${port}`;
  return patterns.some((p) => compiled(p).test(addr));
}

// Runs for every tunnel: compile each pattern once (the options' validation already refused bad ones).
const patternCache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern, "i");
    patternCache.set(pattern, re);
  }
  return re;
}

/** OpenSSL's messages carry file names and codes; keep the words a user can act on. */
export function tlsReason(err: Error): string {
  const first = err.message.split("\n")[0] ?? err.message;
  const m = /routines:[^:]*:([^:]+):/.exec(first);
  return m ? (m[1] as string) : first;
}

/**
 * What a failed client handshake most likely means: a certificate the client refused (an alert
 * naming the CA or the certificate, or a close mid-handshake, which is how Node's client refuses
 * one) asks whether it trusts pryx's CA; a TLS version neither side shares names the options.
 * Anything else (bytes that are no TLS pryx can answer) gets no guess.
 */
function handshakeHint(err: Error): string | undefined {
  if (noSharedVersion(err)) return "the client offers no TLS version that tls_version_client_min and tls_version_client_max allow";
  // "unknown ca" and every certificate alert ("bad certificate", "certificate unknown"…).
  if (/unknown ca|certificate|closed the connection during the handshake/i.test(err.message)) return "is the pryx CA trusted by the client?";
  return undefined;
}

/**
 * What happens after a CONNECT was accepted, or a client connected to a reverse proxy: the
 * first bytes decide. A TLS ClientHello is intercepted with a certificate for the host (unless
 * ignore_hosts/allow_hosts say to pass it through), plain HTTP becomes HTTP flows, and anything
 * else is relayed as raw TCP (with `rawtcp` off, as mitmproxy's, it is taken for HTTP).
 */
export class Tunnel {
  constructor(
    private readonly ctx: ProxyContext,
    private readonly startHttp: HttpStarter,
  ) {}

  /**
   * Readies a CONNECT tunnel before it is answered. A host passed through gets its server
   * connection first, as with mitmproxy's eager connections: a server that is down is then
   * a 502 the client sees at once, not a 200 followed by a close. The error is the reason the
   * server could not be reached; the TCP flow has recorded it and tcp_error has fired.
   */
  async prepare(client: Client, target: Target): Promise<{ start: TunnelStart } | { error: string }> {
    if (!this.passesThrough(target)) {
      if (this.ctx.options.get<string>("connection_strategy") !== "eager") return { start: (socket, initial) => this.sniff(socket, client, target, initial) };
      const eager = await this.connectEagerly(client, target);
      if ("error" in eager) return eager;
      return { start: (socket, initial) => this.sniffEager(socket, client, target, initial, eager.socket) };
    }
    const tcpHost = !this.ignored(target);
    if (!tcpHost && !this.ctx.options.get<boolean>("show_ignored_hosts")) return this.prepareUnrecorded(client, target);
    const conn = await this.connectTcp(client, target);
    if ("error" in conn) return conn;
    if (tcpHost) return { start: (socket, initial) => this.startTcpHost(socket, client, target, initial, conn) };
    return { start: (socket, initial) => this.relay(socket, conn.flow, conn.server, target, initial) };
  }

  /**
   * The server a hook's `context.server` names before any request: the eager connection's
   * (connection_strategy=eager: connected, with its address), else one to come. An addon that
   * keys on it (tls_passthrough.py) sees the same server each time it asks.
   */
  private contextServer(client: Client, target: { host: string; port: number }): Server {
    const eager = this.ctx.eagerServers.peek(client)?.server;
    return eager && eager.address?.[0] === target.host && eager.address[1] === target.port ? eager : new Server([target.host, target.port]);
  }

  /**
   * Passed-through hosts (ignore_hosts) are relayed without looking at the first bytes: a
   * protocol whose server speaks first (SMTP, SSH, many databases) would otherwise wait forever
   * for a client that waits for the server. tcp_hosts waits a moment (startTcpHost).
   */
  private passesThrough(target: Target): boolean {
    return this.ignored(target) || hostMatches(this.ctx.options.get<string[]>("tcp_hosts"), target.host, target.port);
  }

  /**
   * Not intercepted, by ignore_hosts on the address (tcp_hosts asks for a TCP flow on purpose).
   * allow_hosts is decided at the ClientHello, whose name may be the one it allows.
   */
  private ignored(target: Target): boolean {
    return hostMatches(this.ctx.options.get<string[]>("ignore_hosts"), target.host, target.port);
  }

  /**
   * show_ignored_hosts off: an ignored host's bytes go through untouched, with no flow and no TCP
   * hooks, so a long download or video stream keeps nothing in memory. The server connection's
   * own hooks still fire, and a server that is down is still the CONNECT's 502.
   */
  private async prepareUnrecorded(client: Client, target: Target): Promise<{ start: TunnelStart } | { error: string }> {
    const opened = await this.openBeforeAnswer(client, target);
    if ("error" in opened) return opened;
    return { start: (socket, initial) => this.relayUnrecorded(socket, opened.socket, client, initial) };
  }

  /** An ignored host's bytes both ways, untouched and unrecorded (show_ignored_hosts off). */
  private relayUnrecorded(socket: net.Socket, server: net.Socket, client: Client, initial: Buffer): void {
    socket.allowHalfOpen = server.allowHalfOpen = true;
    const close = (): void => {
      socket.destroy();
      server.destroy();
    };
    endWhenIdle(socket, server, this.ctx.options.get<number>("tcp_timeout"), () => false, close);
    socket.once("close", () => void clientDisconnected(this.ctx.addons, client));
    this.relayRaw(socket, server, initial, undefined);
  }

  /**
   * A connection ignored by the name its ClientHello asks for (its first bytes read): passed
   * through as one ignored by address is, recorded as a TCP flow unless show_ignored_hosts is off.
   */
  private async passThroughAfterHello(socket: net.Socket, client: Client, target: Target, first: Buffer): Promise<void> {
    if (this.ctx.options.get<boolean>("show_ignored_hosts")) return this.relayTcp(socket, client, target, first);
    const opened = await this.openBeforeAnswer(client, target);
    if ("error" in opened) {
      socket.destroy();
      return clientDisconnected(this.ctx.addons, client);
    }
    this.relayUnrecorded(socket, opened.socket, client, first);
  }

  /**
   * ignore_hosts and allow_hosts by the name a ClientHello asks for, as mitmproxy matches them
   * against the SNI as well as the address: a client that connects by IP (and every one in
   * transparent mode) is passed through by the name a rule gives.
   */
  private ignoredByName(sni: string | undefined, target: Target): boolean {
    const { options } = this.ctx;
    const allow = options.get<string[]>("allow_hosts");
    const names = sni ? [target.host, sni] : [target.host];
    if (names.some((n) => hostMatches(options.get<string[]>("ignore_hosts"), n, target.port))) return true;
    return allow.length > 0 && !names.some((n) => hostMatches(allow, n, target.port));
  }

  /**
   * tcp_hosts, mitmproxy's "generic TCP SSL proxy mode": a TCP flow whatever the protocol, its TLS
   * intercepted when the client starts one (MQTT over TLS, IMAPS: the flow holds the decrypted
   * stream, not ciphertext). Its server is connected already, so whichever side speaks first
   * decides: a server that greets first (SMTP, SSH) is relayed over plain TCP, however long a
   * client takes to start its handshake otherwise.
   */
  private startTcpHost(socket: net.Socket, client: Client, target: Target, initial: Buffer, conn: { flow: TCPFlow; server: net.Socket }): void {
    const dest: ConnectionTarget = { scheme: "https", host: target.host, port: target.port, rewriteHost: false };
    const relayPlain = (first: Buffer): void => this.relay(socket, conn.flow, conn.server, target, first);
    const decide = (first: Buffer): void => {
      if (!this.isTls(first)) return relayPlain(first);
      this.interceptTls(socket, client, first, dest, parseClientHello(first), (decrypted) => void this.relaySecured(decrypted, client, target, conn));
    };
    if (initial.length) return decide(initial);
    // A client gone before either spoke ends the flow through the relay, which reports it.
    this.firstToSpeak(socket, conn.server, { client: decide, server: () => relayPlain(Buffer.alloc(0)), gone: () => relayPlain(Buffer.alloc(0)) });
  }

  /** The decrypted client of a tcp_hosts flow, relayed over TLS started on its server connection (a failed handshake ends the flow with tcp_error). */
  private async relaySecured(decrypted: tls.TLSSocket, client: Client, target: Target, conn: { flow: TCPFlow; server: net.Socket }): Promise<void> {
    let server: net.Socket;
    try {
      server = await useEagerServer(this.ctx, client, { server: conn.flow.server_conn, socket: conn.server }, true, []);
    } catch (err) {
      decrypted.destroy();
      return void (await this.failTcp(conn.flow, err as Error));
    }
    this.relay(decrypted, conn.flow, server, target, Buffer.alloc(0));
  }

  private sniff(socket: net.Socket, client: Client, target: Target, initial: Buffer): void {
    // A host allow_hosts names by no address (ignore_hosts's passed through before this) may yet be
    // allowed by its ClientHello; a client that stays silent (its server speaks first) is not, and
    // goes through as ignored hosts do.
    if (this.ignoredByName(undefined, target)) return this.onFirstBytes(socket, client, initial, (first) => this.byFirstBytes(socket, client, target, first), SERVER_FIRST_MS);
    this.onFirstBytes(socket, client, initial, (first) => {
      if (first.length) this.byFirstBytes(socket, client, target, first);
      else void this.connectForSilentClient(socket, client, target);
    }, SILENT_CLIENT_MS);
  }

  /**
   * A lazy tunnel's client that has said nothing yet: its server is connected as an eager one
   * would be, and whichever side speaks first decides (`sniffEager`). A server that cannot be
   * reached leaves the decision to the client's first bytes, whose request or relay then fails
   * with that reason, without connecting (and firing server_connect) a second time.
   */
  private async connectForSilentClient(socket: net.Socket, client: Client, target: Target): Promise<void> {
    const where = formatAddress([target.host, target.port]);
    this.ctx.log.debug(`${formatAddress(client.peername)}: the client said nothing for ${SILENT_CLIENT_MS} ms after the CONNECT: connecting to ${where}, whose server may speak first`);
    // The client's socket stays paused meanwhile: what it sends waits in it for the decision.
    const eager = await this.connectEagerly(client, target);
    // A client that closed meanwhile is destroyed by then.
    if (socket.destroyed) {
      this.ctx.eagerServers.drop(client);
      return clientDisconnected(this.ctx.addons, client);
    }
    // Unreachable: a client still silent a while later gets the TCP flow that records why.
    if ("error" in eager) {
      this.ctx.eagerServers.putFailed(client, eager.server);
      return this.onFirstBytes(socket, client, Buffer.alloc(0), (first) => this.byFirstBytes(socket, client, target, first), SILENT_AFTER_FAILED_CONNECT_MS);
    }
    this.sniffEager(socket, client, target, Buffer.alloc(0), eager.socket);
  }

  private byFirstBytes(socket: net.Socket, client: Client, target: Target, first: Buffer): void {
    // Not TLS, so no name to allow it by: allow_hosts passes it through, as mitmproxy's does.
    if (!this.isTls(first) && this.ignoredByName(undefined, target)) return void this.passThroughAfterHello(socket, client, target, first);
    const plain: ConnectionTarget = { scheme: "http", host: target.host, port: target.port, rewriteHost: false };
    const secure: ConnectionTarget = { ...plain, scheme: "https" };
    const start = first.subarray(0, 16).toString("latin1");
    const taken: LayerName = this.isTls(first) ? "tls" : start.startsWith(H2_PREFACE) ? "tcp" : this.httpOrTcp(first);
    this.nextLayer(socket, client, target, first, taken, (layer) => {
      if (layer === "tls") this.onClientHello(socket, client, target, first, secure);
      else if (layer === "http") this.startPlainHttp(socket, client, plain, first);
      else void this.relayTcp(socket, client, target, first);
    });
  }

  /** Bytes that start an HTTP/1 request are HTTP; others a TCP relay, unless rawtcp is off. */
  private httpOrTcp(first: Buffer): LayerName {
    return HTTP_START.test(first.subarray(0, 16).toString("latin1")) || !this.ctx.options.get<boolean>("rawtcp") ? "http" : "tcp";
  }

  /**
   * next_layer: an addon sees what the first bytes were taken for and may decide otherwise.
   * Without an addon for the hook, no detour.
   */
  private nextLayer(socket: net.Socket, client: Client, target: Target, first: Buffer, taken: LayerName, start: (layer: LayerName) => void): void {
    if (!this.ctx.addons.wants("next_layer")) return start(taken);
    const data = new NextLayerData({ client, server: this.contextServer(client, target) }, first, taken);
    void this.ctx.addons.trigger("next_layer", data).then(() => {
      // Gone while the hook ran: no handler owns the client yet, so it is reported here.
      if (socket.destroyed) return void clientDisconnected(this.ctx.addons, client);
      start(this.checkedLayer(data.layer, taken));
    });
  }

  /** A layer an addon set that pryx cannot start is logged, and what the bytes were taken for starts. */
  private checkedLayer(layer: unknown, taken: LayerName): LayerName {
    if (!(LAYER_NAMES as readonly unknown[]).includes(layer)) {
      this.ctx.log.warn(`next_layer: unknown layer ${JSON.stringify(layer)} (it is one of ${LAYER_NAMES.join(", ")}); the connection goes on as ${taken}`);
      return taken;
    }
    if (layer === "tls" && !this.ctx.tls) {
      this.ctx.log.warn(`next_layer: "tls" asked for, but pryx has no CA to intercept with; the connection goes on as ${taken}`);
      return taken;
    }
    return layer as LayerName;
  }

  /**
   * A ClientHello in a tunnel: tls_clienthello may pass the connection through (a TCP relay, as
   * ignore_hosts does), else it is intercepted. Without an addon for the hook, no detour.
   */
  private onClientHello(socket: net.Socket, client: Client, target: Target, first: Buffer, secure: ConnectionTarget): void {
    // Read once: whole (cipher suites, extensions) only for an addon that asks for it.
    const wanted = this.ctx.addons.wants("tls_clienthello");
    const hello = wanted ? parseFullClientHello(first) : parseClientHello(first);
    if (this.ignoredByName(hello?.sni, target)) return void this.passThroughAfterHello(socket, client, target, first);
    if (!wanted) return this.interceptTls(socket, client, first, secure, hello);
    const data = new ClientHelloData({ client, server: this.contextServer(client, target) }, new ClientHello(hello as FullClientHello | undefined, first));
    void this.ctx.addons.trigger("tls_clienthello", data).then(() => {
      // Gone while the hook ran: no handler owns the client yet, so it is reported here.
      if (socket.destroyed) return void clientDisconnected(this.ctx.addons, client);
      if (data.ignore_connection) void this.relayTcp(socket, client, target, first);
      else this.interceptTls(socket, client, first, secure, hello);
    });
  }

  /**
   * connection_strategy=eager, as mitmproxy's: the server connection opens before the CONNECT is
   * answered, so a server that is down is the CONNECT's 502 rather than a tunnel that fails at
   * its first request; the tunnel's first request (or TCP relay) then uses it.
   */
  private async connectEagerly(client: Client, target: Target): Promise<{ socket: net.Socket } | { error: string; server: Server }> {
    const opened = await this.openBeforeAnswer(client, target);
    if ("error" in opened) return opened;
    // Until the tunnel takes it, a reset must not be an unhandled error; its users listen then.
    opened.socket.on("error", () => undefined);
    this.ctx.eagerServers.put(client, opened);
    return opened;
  }

  /** A TCP connection to the tunnel's server before the CONNECT is answered: its failure is the 502's reason. */
  private async openBeforeAnswer(client: Client, target: Target): Promise<{ server: Server; socket: net.Socket } | { error: string; server: Server }> {
    const server = new Server([target.host, target.port]);
    try {
      return { server, socket: await this.openTcp(client, server) };
    } catch (err) {
      return { error: (err as Error).message, server };
    }
  }

  /** TCP to the tunnel's server (through the upstream proxy in upstream mode); server_disconnected when it closes. */
  private async openTcp(client: Client, server: Server, secure = false): Promise<net.Socket> {
    // Over TLS, the server is offered the protocol the client agreed with pryx (an MQTT broker may require it).
    const socket = await openServer(this.ctx, client, server, secure, secure && client.alpn ? [client.alpn] : [], true);
    socket.on("close", () => serverClosed(this.ctx, client, server));
    return socket;
  }

  /**
   * With an eager server connection, whichever side speaks first decides: the client's first
   * bytes as without one, or a server that greets first (SMTP, SSH, FTP) makes a TCP relay,
   * which mitmproxy's eager strategy is for; lazily, such a tunnel would wait on both ends.
   */
  private sniffEager(socket: net.Socket, client: Client, target: Target, initial: Buffer, server: net.Socket): void {
    // Whatever the tunnel turns out to carry, a server connection it never took closes with it.
    socket.once("close", () => this.ctx.eagerServers.drop(client));
    if (initial.length) return this.byFirstBytes(socket, client, target, initial);
    this.firstToSpeak(socket, server, {
      client: (first) => this.byFirstBytes(socket, client, target, first),
      server: () => void this.relayTcp(socket, client, target, Buffer.alloc(0)),
      gone: () => void clientDisconnected(this.ctx.addons, client),
    });
  }

  /**
   * Waits for the first side of a tunnel to speak when both are connected: the client's first
   * bytes (its socket paused; a FIN counts, as nothing), or the server's greeting (given back to
   * the server's socket, the client's paused), or a client that closes first. The server is left
   * paused either way: whoever takes it resumes it.
   */
  private firstToSpeak(socket: net.Socket, server: net.Socket, on: { client: (first: Buffer) => void; server: () => void; gone: () => void }): void {
    const settle = (then: () => void) => (): void => {
      for (const [emitter, event, listener] of listeners) emitter.off(event, listener);
      socket.pause();
      server.pause();
      then();
    };
    const clientFirst = (first: Buffer): void => settle(() => on.client(first))();
    const listeners: [net.Socket, string, (chunk: Buffer) => void][] = [
      [socket, "data", clientFirst],
      [socket, "end", () => clientFirst(Buffer.alloc(0))],
      [socket, "close", settle(on.gone)],
      [server, "data", (greeting) => settle(() => (server.unshift(greeting), on.server()))()],
    ];
    for (const [emitter, event, listener] of listeners) emitter.once(event, listener);
    socket.resume();
    server.resume();
  }

  /**
   * A reverse-proxy listener, as mitmproxy's: a client may speak TLS to it (intercepted with a
   * certificate for its SNI, else for the target's host) or plain HTTP. Either way the requests
   * go to the reverse target, whose scheme is how pryx talks to the server, not to the client.
   */
  openReverse(socket: net.Socket, client: Client, target: ConnectionTarget): void {
    this.onFirstBytes(socket, client, Buffer.alloc(0), (first) => {
      this.nextLayer(socket, client, target, first, this.isTls(first) ? "tls" : "http", (layer) => {
        if (layer === "tls") this.interceptTls(socket, client, first, target);
        else if (layer === "http") this.startPlainHttp(socket, client, target, first);
        // The client's bytes as they are, to the server's port: TLS passes through end to end.
        else void this.relayTcp(socket, client, target, first);
      });
    });
  }

  /**
   * A reverse:tcp or reverse:tls listener, as mitmproxy's: every connection is a TCP flow to the
   * target, over TLS for tls. The server may speak first, so with tcp nothing waits for the
   * client. With tls a client's TLS is intercepted (a certificate for its SNI, else the target's
   * host) and the decrypted bytes are relayed; a client speaking plain bytes is relayed as well.
   */
  openReverseStream(socket: net.Socket, client: Client, target: Target, secure: boolean): void {
    if (!secure) return void this.relayTcp(socket, client, target, Buffer.alloc(0), false);
    const dest: ConnectionTarget = { scheme: "https", host: target.host, port: target.port, rewriteHost: true };
    this.onFirstBytes(socket, client, Buffer.alloc(0), (first) => {
      if (this.isTls(first)) this.interceptTls(socket, client, first, dest, parseClientHello(first), (decrypted) => void this.relayTcp(decrypted, client, target, Buffer.alloc(0), true));
      else void this.relayTcp(socket, client, target, first, true);
    });
  }

  /**
   * Calls `decide` with the bytes read so far, or with the first chunk the client sends, the socket paused.
   * No handler owns the client until then, so a client that leaves first is reported here.
   */
  onFirstBytes(socket: net.Socket, client: Client, initial: Buffer, decide: (first: Buffer) => void, waitMs?: number): void {
    const gone = (): void => void clientDisconnected(this.ctx.addons, client);
    let timer: NodeJS.Timeout | undefined;
    const paused = (first: Buffer): void => {
      clearTimeout(timer);
      socket.off("data", paused);
      socket.off("close", gone);
      socket.pause();
      decide(first);
    };
    if (initial.length) paused(initial);
    else {
      socket.once("close", gone);
      socket.once("data", paused);
      socket.resume();
      // `waitMs`: a client that says nothing in that time is decided on with no bytes.
      if (waitMs !== undefined) timer = setTimeout(() => paused(Buffer.alloc(0)), waitMs);
    }
  }

  private isTls(first: Buffer): boolean {
    return first[0] === 0x16 && this.ctx.tls !== undefined;
  }

  private startPlainHttp(socket: net.Socket, client: Client, dest: ConnectionTarget, first: Buffer): void {
    socket.resume();
    this.startHttp(socket, client, dest, first);
  }

  /**
   * `dest` is where the decrypted requests go; the certificate is for the SNI, else for its host.
   * `stream`: what takes the decrypted socket instead of HTTP (a reverse:tls relay), offered no ALPN.
   */
  private interceptTls(socket: net.Socket, client: Client, first: Buffer, dest: ConnectionTarget, hello = parseClientHello(first), stream?: (decrypted: tls.TLSSocket) => void): void {
    const provider = this.ctx.tls;
    if (!provider) return;
    client.sni = hello?.sni;
    if (hello?.sni) clientFacts(client).helloName = hello.sni;
    client.alpn_offers = hello?.alpn ?? [];
    // Without an addon for tls_start_client, no detour.
    if (!this.ctx.addons.wants("tls_start_client")) return this.answerClientHello(provider, socket, client, first, dest, hello !== undefined, stream);
    const data = new TlsData(client, { client, server: this.contextServer(client, dest) });
    void this.ctx.addons.trigger("tls_start_client", data).then(() => {
      if (socket.destroyed) return void clientDisconnected(this.ctx.addons, client);
      // A name the handler chose is the certificate's, whatever the ClientHello's SNI.
      this.answerClientHello(provider, socket, client, first, dest, hello !== undefined || client.sni !== undefined, stream);
    });
  }

  /** The handshake with the client: `named`, the certificate's name (client.sni, else dest's host) is final. */
  private answerClientHello(provider: TlsProvider, socket: net.Socket, client: Client, first: Buffer, dest: ConnectionTarget, named: boolean, stream?: (decrypted: tls.TLSSocket) => void): void {
    // Before the certificate is made: the server's handshake then runs while pryx signs.
    const offersH2 = this.ctx.options.get<boolean>("http2") && client.alpn_offers.includes("h2");
    if (!stream) secureEagerServer(this.ctx, client, clientFacts(client).helloName ?? dest.host, upstreamAlpn(offersH2));
    // Give the ClientHello back to the socket: TLSSocket reads what is buffered before the handle.
    socket.unshift(first);
    // With the name read from the ClientHello, the certificate is handed over up front and the
    // handshake runs without a pause for an SNICallback; the callback is kept for a ClientHello
    // that the first bytes do not hold whole.
    let sni = client.sni;
    let context: tls.SecureContext | undefined;
    try {
      context = provider.contextFor(sni ?? dest.host);
    } catch {
      // A name no certificate can be made for: the SNICallback below reports it as a handshake failure.
      sni = undefined;
    }
    const selectBySni = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
      sni = servername;
      try {
        cb(null, provider.contextFor(servername));
      } catch (err) {
        cb(err as Error);
      }
    };
    const askClientCert = this.ctx.options.get<boolean>("request_client_cert");
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context ?? provider.contextFor(dest.host),
      ...(stream ? {} : { ALPNCallback: ({ protocols }: { protocols: string[] }) => chooseAlpn(protocols, this.ctx.options.get<boolean>("http2")) }),
      ...(named && context ? {} : { SNICallback: selectBySni }),
      // mitmproxy's request_client_cert: ask for a certificate, take whatever comes (or none).
      ...(askClientCert ? { requestCert: true, rejectUnauthorized: false } : {}),
    });
    logTlsKeys(tlsSocket);
    const tlsData = (): TlsData => new TlsData(client, { client, server: this.contextServer(client, dest) });
    const onFail = (err: Error): void => {
      tlsSocket.off("close", onEarlyClose);
      const hint = handshakeHint(err);
      client.error = `client TLS handshake failed: ${tlsReason(err)}`;
      this.ctx.log.warn(`${formatAddress(client.peername)}: client TLS handshake failed for ${sni ?? dest.host}: ${tlsReason(err)}${hint ? ` — ${hint}` : ""}`);
      tlsSocket.destroy();
      socket.destroy();
      // No HTTP connection owns a client whose handshake failed: it is reported here, after tls_failed_client.
      void this.ctx.addons.trigger("tls_failed_client", tlsData()).then(() => clientDisconnected(this.ctx.addons, client));
    };
    // Node's TLS client checks the certificate after its side of the handshake and, rejecting
    // it, just closes: no alert, no error here, only a close before the handshake completed.
    const onEarlyClose = (): void => onFail(new Error("the client closed the connection during the handshake"));
    tlsSocket.once("error", onFail);
    tlsSocket.once("close", onEarlyClose);
    tlsSocket.once("secure", () => {
      tlsSocket.off("error", onFail);
      tlsSocket.off("close", onEarlyClose);
      client.tls = true;
      client.tls_established = true;
      client.sni = sni;
      client.alpn = tlsSocket.alpnProtocol || undefined;
      client.tls_version = tlsSocket.getProtocol() ?? undefined;
      client.cipher = tlsSocket.getCipher()?.name;
      client.timestamp_tls_setup = now();
      if (askClientCert) client.certificate_list = clientChain(tlsSocket);
      const serve = (): void => {
        if (tlsSocket.destroyed) return void clientDisconnected(this.ctx.addons, client);
        if (stream) stream(tlsSocket);
        else if (tlsSocket.alpnProtocol === "h2") new Http2Connection(this.ctx, tlsSocket, client, dest).start();
        else if (tlsSocket.alpnProtocol && HTTP1_ALPN.includes(tlsSocket.alpnProtocol)) this.startHttp(tlsSocket, client, dest, undefined);
        else this.byDecryptedBytes(tlsSocket, client, dest);
      };
      // The requests wait for the hook, as in mitmproxy; without an addon for it, no detour.
      if (this.ctx.addons.wants("tls_established_client")) void this.ctx.addons.trigger("tls_established_client", tlsData()).then(serve);
      else serve();
    });
    // No resume(): the TLSSocket reads the buffered ClientHello on its own; a flowing socket would drop it.
  }

  /**
   * A client that agreed no HTTP protocol by ALPN (it offered none, as openssl s_client, or only
   * others, as an MQTT or IMAP client may): its first decrypted bytes decide, as a plain
   * tunnel's do, and what is not HTTP is relayed as TCP over TLS to the server, as mitmproxy
   * relays it. Before, all of it was read as HTTP and answered with a 400.
   */
  private byDecryptedBytes(decrypted: tls.TLSSocket, client: Client, dest: ConnectionTarget): void {
    const decide = (first: Buffer): void => {
      this.nextLayer(decrypted, client, dest, first, this.httpOrTcp(first), (layer) => {
        if (layer === "tcp") void this.relayTcp(decrypted, client, dest, first, dest.scheme === "https");
        else {
          // A server connection opened while the client was silent is no HTTP connection.
          this.ctx.eagerServers.drop(client);
          this.startPlainHttp(decrypted, client, dest, first);
        }
      });
    };
    this.onFirstBytes(decrypted, client, Buffer.alloc(0), (first) => (first.length ? decide(first) : void this.connectForSilentTlsClient(decrypted, client, dest, decide)), SILENT_CLIENT_MS);
  }

  /**
   * byDecryptedBytes' client said nothing after its handshake: its server may speak first (IMAPS,
   * SMTPS, POP3S), as a plain tunnel's may (connectForSilentClient). The server is connected
   * over TLS (with connection_strategy=eager, on the connection opened at the CONNECT when it
   * can serve, else it is closed first), and the first side to speak decides: the server's
   * greeting is relayed as TCP on that connection, the client's bytes decide as they would have.
   * A server that cannot be reached leaves it to the client, whose relay then fails with the reason.
   */
  private async connectForSilentTlsClient(decrypted: tls.TLSSocket, client: Client, dest: ConnectionTarget, decide: (first: Buffer) => void): Promise<void> {
    const { server, socket } = (await this.securedAtClientHello(client, dest)) ?? (await this.openForSilentClient(client, dest));
    if (decrypted.destroyed) {
      this.ctx.eagerServers.drop(client);
      socket?.destroy();
      return clientDisconnected(this.ctx.addons, client);
    }
    if (!socket) {
      this.ctx.eagerServers.putFailed(client, server);
      return this.onFirstBytes(decrypted, client, Buffer.alloc(0), decide);
    }
    socket.on("error", () => undefined);
    // Where relayTcp's connectTcp takes it from, as an eager connection (the CONNECT's own, its
    // TLS done, replaces its entry: the same connection).
    this.ctx.eagerServers.put(client, { server, socket });
    this.firstToSpeak(decrypted, socket, {
      client: decide,
      server: () => void this.relayTcp(decrypted, client, dest, Buffer.alloc(0), dest.scheme === "https"),
      gone: () => {
        this.ctx.eagerServers.drop(client);
        void clientDisconnected(this.ctx.addons, client);
      },
    });
  }

  /**
   * connection_strategy=eager: the connection opened at the CONNECT, whose TLS began at the
   * ClientHello with the client's SNI, once its handshake is done. Opening another beside it left
   * it open, unused, until the server closed it. Its handshake offered HTTP/1.1, whose request it
   * was begun for: a client that agreed its own protocol (an MQTT broker may require it offered)
   * has it closed instead, and gets one that offers that protocol; so does a handshake that failed.
   */
  private async securedAtClientHello(client: Client, dest: ConnectionTarget): Promise<{ server: Server; socket: net.Socket } | undefined> {
    const early = this.ctx.eagerServers.peek(client);
    if (!early) return undefined;
    const address = early.server.address;
    const secured = client.alpn === undefined && address?.[0] === dest.host && address[1] === dest.port ? early.secured?.socket : undefined;
    const socket = await secured?.catch(() => undefined);
    if (socket) return { server: early.server, socket };
    this.ctx.eagerServers.drop(client);
    return undefined;
  }

  /** A connection to `dest`'s server, over TLS when its scheme is https (no `socket` when it failed, the reason in `server.error`). */
  private async openForSilentClient(client: Client, dest: ConnectionTarget): Promise<{ server: Server; socket?: net.Socket }> {
    const server = new Server([dest.host, dest.port]);
    return { server, socket: await this.openTcp(client, server, dest.scheme === "https").catch(() => undefined) };
  }

  /** A raw TCP relay recorded as a TCPFlow with tcp_start, tcp_message, tcp_end or tcp_error; `secure`: TLS to the server. */
  private async relayTcp(socket: net.Socket, client: Client, target: Target, first: Buffer, secure = false): Promise<void> {
    // TCP carries half-closes (a client that sends, shuts its side and waits for the answer):
    // set before anything async, or Node answers the client's FIN with its own and drops the reply.
    socket.allowHalfOpen = true;
    const conn = await this.connectTcp(client, target, secure);
    if ("error" in conn) {
      socket.destroy();
      await clientDisconnected(this.ctx.addons, client);
    } else this.relay(socket, conn.flow, conn.server, target, first);
  }

  /** Starts a TCP flow and connects to its server; a failure ends the flow with tcp_error. */
  private async connectTcp(client: Client, target: Target, secure = false): Promise<{ flow: TCPFlow; server: net.Socket } | { error: string }> {
    const { addons, store } = this.ctx;
    const failed = this.ctx.eagerServers.takeFailed(client, [target.host, target.port]);
    const eager = failed ? undefined : this.ctx.eagerServers.take(client, [target.host, target.port]);
    const serverConn = failed ?? eager?.server ?? new Server([target.host, target.port]);
    const flow = new TCPFlow(client, serverConn);
    store.add(flow);
    await addons.trigger("tcp_start", flow);
    if (failed) return { error: await this.failTcp(flow, new Error(failed.error)) };
    if (eager) return { flow, server: eager.socket };
    try {
      return { flow, server: await this.openTcp(client, serverConn, secure) };
    } catch (err) {
      return { error: await this.failTcp(flow, err as Error) };
    }
  }

  /** A TCP flow whose server could not be reached (or secured): ended with tcp_error; the reason is returned. */
  private async failTcp(flow: TCPFlow, err: Error): Promise<string> {
    flow.error = new FlowError(err.message);
    flow.live = false;
    this.ctx.notify(flow);
    await this.ctx.addons.trigger("tcp_error", flow);
    return err.message;
  }

  private relay(socket: net.Socket, flow: TCPFlow, server: net.Socket, target: Target, first: Buffer): void {
    const { addons } = this.ctx;
    // Both sides carry half-closes (relayTcp sets the client's earlier still, before its await).
    socket.allowHalfOpen = server.allowHalfOpen = true;
    let chain = Promise.resolve();
    let queued = 0;
    const onChunk = (from_client: boolean, data: Buffer): void => {
      const src = from_client ? socket : server;
      const dst = from_client ? server : socket;
      const msg = new TCPMessage(from_client, Buffer.from(data));
      // With no hook that has work (no script, no intercept filter) and none queued, the chunk
      // goes straight through; otherwise every message passes the hooks, in order.
      if (queued === 0 && !addons.wants("tcp_message")) {
        flow.messages.push(msg);
        dst.write(data);
        this.ctx.notify(flow);
        return;
      }
      queued++;
      src.pause();
      chain = chain.then(async () => {
        // A message joins the list when its turn comes, so the last one is always the one the
        // hooks see and the intercept filter holds (what the console's tcp-message edits), as in
        // mitmproxy, whose held message stops the whole connection.
        flow.messages.push(msg);
        await addons.trigger("tcp_message", flow);
        try {
          await waitIfIntercepted(this.ctx, flow);
        } catch (err) {
          // Killed while the message was held: the connection goes, as in mitmproxy.
          void finish(err as Error);
          return;
        } finally {
          queued--;
        }
        if (msg.content.length) dst.write(msg.content);
        this.ctx.notify(flow);
        src.resume();
      });
    };
    socket.on("data", (d: Buffer) => onChunk(true, d));
    server.on("data", (d: Buffer) => onChunk(false, d));
    endWhenIdle(socket, server, this.ctx.options.get<number>("tcp_timeout"), () => queued > 0, (err) => void finish(err));
    // inject.tcp: bytes pryx makes up, taken as the peer they seem to come from sent them, through
    // tcp_message like received ones (mitmproxy spoofs their arrival the same way).
    this.ctx.injectors.add(flow.id, "tcp", (toClient, content) => onChunk(!toClient, content));
    // X on the open connection (not held at a message) drops it at once.
    flow.onKill(() => void finish(new Error(KILLED_MESSAGE)));
    // The flow ends once: when each side has sent its FIN (relayed to the other after the data
    // before it), or at the first error or close without a FIN. Our own destroy() afterwards is no error.
    let settled = false;
    let ends = 0;
    /** `resetBy`: the side that reset its connection, whose reset the other side gets too. */
    const finish = async (err?: Error, resetBy?: net.Socket): Promise<void> => {
      if (settled || (!err && ++ends < 2)) return;
      settled = true;
      this.ctx.injectors.delete(flow.id);
      flow.onKill(undefined);
      if (err) flow.error = new FlowError(err.message);
      // A message held by the intercept filter goes nowhere now: let the chain end.
      if (err && flow.intercepted) flow.resume();
      await chain;
      flow.live = false;
      // Both sides ended (or go now): the flow is saved with them CLOSED, as mitmproxy's is.
      flow.client_conn.connected = flow.server_conn.connected = false;
      if (err) {
        // A reset passes on as a reset: closed with a FIN, a cut-off stream looked whole to the other side.
        for (const sock of [socket, server]) {
          if (resetBy && sock !== resetBy && !sock.destroyed) resetOrDestroy(sock);
          else sock.destroy();
        }
      }
      this.ctx.notify(flow);
      await addons.trigger(flow.error ? "tcp_error" : "tcp_end", flow);
      // After the flow's last hook, as mitmproxy orders them; the client's socket may still be flushing our FIN.
      const gone = (): void => void clientDisconnected(addons, flow.client_conn);
      if (socket.closed) gone();
      else socket.once("close", gone);
    };
    const onEnd = (to: net.Socket): void => {
      void chain.then(() => to.end());
      void finish();
    };
    const failed = (sock: net.Socket, who: string) => (e: Error & { code?: string }): void => {
      const reset = e.code === "ECONNRESET";
      void finish(new Error(reset ? `${who} reset the connection (ECONNRESET)` : `${who}: ${e.message}`), reset ? sock : undefined);
    };
    socket.on("error", failed(socket, "client"));
    server.on("error", failed(server, `server ${formatAddress([target.host, target.port])}`));
    socket.on("close", () => void (socket.readableEnded ? undefined : finish(new Error("client connection closed"))));
    server.on("close", () => void (server.readableEnded ? undefined : finish(new Error(`server ${formatAddress([target.host, target.port])} closed the connection`))));
    if (first.length) onChunk(true, first);
    // The client may have sent its FIN, or gone, while tcp_start and the server connection were awaited.
    if (socket.readableEnded) onEnd(server);
    else socket.on("end", () => onEnd(server));
    server.on("end", () => onEnd(socket));
    if (socket.destroyed && !socket.readableEnded) void finish(new Error("client connection closed"));
    socket.resume();
    // An eager server connection was paused until now (a fresh one flows already).
    server.resume();
  }

  /** Bytes both ways, untouched (after an HTTP Upgrade). */
  relayRaw(client: net.Socket, server: net.Socket, clientRest: Buffer | undefined, serverRest: Buffer | undefined): void {
    if (clientRest?.length) server.write(clientRest);
    if (serverRest?.length) client.write(serverRest);
    client.pipe(server);
    server.pipe(client);
    const close = (): void => {
      client.destroy();
      server.destroy();
    };
    client.on("error", close);
    server.on("error", close);
    client.on("close", close);
    server.on("close", close);
    client.resume();
    server.resume();
  }
}
