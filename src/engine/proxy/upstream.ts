import net from "node:net";
import tls from "node:tls";
import { ClientFacingError } from "./client-facing-error.ts";
import { DEFAULT_MAX_HEADER_SIZE, Http1Parser, LENIENT_RESPONSES, type MessageHead } from "../http1/parser.ts";
import { Server, ServerConnectionHookData, TlsData, formatAddress, type Address, type Client } from "../flow/connection.ts";
import { HTTPFlow, Request, http1HostField } from "../flow/http.ts";
import { isOwnAddress } from "./own-address.ts";
import { logTlsKeys } from "./key-log.ts";
import { forwardedFields, framedBody, isChunked, chunk as chunkOf, lastChunk, requestHead } from "../http1/serialize.ts";
import { Headers } from "../flow/headers.ts";
import type { ProxyContext } from "./context.ts";
import { streamBodyInto, type RequestBody, type ResponseSink, type UpstreamChannel } from "./channel.ts";
import { noSharedVersion, upstreamTls } from "./tls-settings.ts";
import { peerChain } from "./peer-chain.ts";
import { upstreamProxyUrl } from "../modes.ts";
import { forgetSession, keepSessions, sessionFor } from "./tls-sessions.ts";
import { clientFacts } from "./client-facts.ts";
import { withRelayableExtensions } from "./websocket.ts";
import type { EagerServer } from "./eager.ts";
import { wireHost } from "../flow/host-name.ts";
import { fdShortageCode, fdShortageText } from "./fd-shortage.ts";
import { now } from "../flow/now.ts";

export class UpstreamError extends Error {}

/**
 * The server said it did not process the request at all (HTTP/2's REFUSED_STREAM, RFC 9113 8.7),
 * so sending it again is safe whatever its method.
 */
export class NotProcessed extends UpstreamError {}

/** A server as its errors name it: through an upstream proxy, that proxy too (it may be what failed). */
export function serverName(server: Server): string {
  const address = formatAddress(server.address) || "?";
  return server.via ? `server ${address} (through upstream proxy ${formatAddress(server.via)})` : `server ${address}`;
}

/** A server that took a request and sent nothing for tcp_timeout: the client's 504 (`close`: its connection cannot go on). */
export function serverSilent(server: Server, seconds: number, close = false): ClientFacingError {
  return new ClientFacingError(504, `${serverName(server)} sent nothing for ${seconds} s after the request (tcp_timeout)`, close);
}

/** A server's TLS handshake failed (its certificate, most often): a warning, as mitmproxy logs it, not a connection that merely failed. */
class UpstreamTlsError extends UpstreamError {}

const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Opens the connection to `server.address`, firing server_connect before (an addon may
 * rewrite the address or refuse with `server.error`) and server_connected or
 * server_connect_error after. With TLS, records the negotiated facts and the certificate chain.
 */
export async function openServer(ctx: ProxyContext, client: Client, server: Server, useTls: boolean, alpn: string[], tunnel = false): Promise<net.Socket> {
  const data = await serverConnectHook(ctx, client, server);
  const [host, port] = server.address as Address;
  const via = upstreamProxyOf(client.proxy_mode);
  server.via = via;
  let socket: net.Socket;
  try {
    socket = await withTimeout(dial(ctx, client, server, host, port, useTls, alpn, tunnel || useTls ? via : undefined), host, port, useTls);
  } catch (err) {
    return connectFailed(ctx, data, err);
  }
  server.peername = [socket.remoteAddress ?? host, socket.remotePort ?? port];
  server.sockname = [socket.localAddress ?? "", socket.localPort ?? 0];
  socket.setNoDelay(true);
  await ctx.addons.trigger("server_connected", data);
  return socket;
}

/**
 * server_connect before a server connection (TCP or UDP) opens: an addon may rewrite the
 * address, or refuse it with `server.error` (then a log line, server_connect_error and an UpstreamError).
 */
export async function serverConnectHook(ctx: ProxyContext, client: Client, server: Server): Promise<ServerConnectionHookData> {
  const data = new ServerConnectionHookData(server, client);
  await ctx.addons.trigger("server_connect", data);
  if (!server.error && server.address && isOwnAddress(server.address, ctx.boundAddresses())) {
    const message = `${formatAddress(server.address)} is pryx itself: a request for it would come back to pryx without end. Send pryx requests for other servers (a URL with their host)`;
    return connectFailed(ctx, data, new UpstreamError(message));
  }
  if (server.error) {
    // mitmproxy's line: the event log says so once here, whatever carries the error on (a 502, a SOCKS5 reply).
    ctx.log.info(`${formatAddress(client.peername)}: server connection to ${formatAddress(server.address)} killed before connect: ${server.error}`);
    await ctx.addons.trigger("server_connect_error", data);
    throw new UpstreamError(`connection to ${formatAddress(server.address)} refused by an addon: ${server.error}`);
  }
  server.timestamp_start = now();
  return data;
}

/**
 * A server connection that could not be made (or secured): the server keeps the reason, and, as
 * mitmproxy's connection handler does, the event log says which client's connection failed, not
 * only the flow that carries the error (a tunnel or a TCP relay has no 502); then
 * server_connect_error.
 */
export async function connectFailed(ctx: ProxyContext, data: ServerConnectionHookData, err: unknown): Promise<never> {
  const { server, client } = data;
  server.error = (err as Error).message;
  ctx.log.write(err instanceof UpstreamTlsError ? "warn" : "info", `${formatAddress(client.peername)}: error establishing server connection: ${server.error}`);
  await ctx.addons.trigger("server_connect_error", data);
  throw new UpstreamError(server.error);
}

/** The upstream proxy of an `upstream:URL` mode, if the client came in through one; its port defaults to its scheme's, as mitmproxy's does. */
export function upstreamProxyOf(mode: string): Address | undefined {
  const u = upstreamProxyUrl(mode);
  if (!u) return undefined;
  return [u.hostname.replace(/^\[|\]$/g, ""), u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80];
}

/**
 * An `upstream:https://` proxy is spoken to over TLS (verified as a server is, `-k` skipping it),
 * as mitmproxy does; then CONNECT or the request goes inside it.
 */
async function secureToProxy(ctx: ProxyContext, client: Client, sock: net.Socket, proxy: Address): Promise<net.Socket> {
  if (upstreamProxyUrl(client.proxy_mode)?.protocol !== "https:") return sock;
  const [host] = proxy;
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket: sock, host, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"], ...upstreamTls(ctx.options, host).connection().options });
    t.once("secureConnect", () => {
      t.off("error", onError);
      resolve(t);
    });
    const onError = (err: Error & { code?: string }): void => {
      t.destroy();
      reject(new UpstreamTlsError(`upstream proxy ${formatAddress(proxy)}: ${describeConnectError(err, host, proxy[1], true)}`));
    };
    t.once("error", onError);
  });
}

function withTimeout<T>(p: Promise<T>, host: string, port: number, useTls: boolean): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError(describeConnectError(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }), host, port, useTls))), CONNECT_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** `localAddress`: connect_addr, the address pryx's connections to servers leave from. */
function tcpConnect(host: string, port: number, localAddress: string | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // getaddrinfo takes the name as bytes: an IDN is looked up by its punycode, as a browser does.
    const sock = net.connect({ host: wireHost(host), port, ...(localAddress ? { localAddress } : {}) });
    sock.once("connect", () => {
      sock.off("error", reject);
      resolve(sock);
    });
    sock.once("error", (err: Error & { code?: string }) => {
      sock.destroy();
      reject(err);
    });
  });
}

/**
 * TCP to the server (or to the upstream proxy, then CONNECT through it, firing
 * http_connect_upstream so an addon can add credentials), then TLS when asked.
 */
async function dial(ctx: ProxyContext, client: Client, server: Server, host: string, port: number, useTls: boolean, alpn: string[], connectVia: Address | undefined): Promise<net.Socket> {
  const target: Address = connectVia ?? server.via ?? [host, port];
  let sock: net.Socket;
  try {
    sock = await tcpConnect(target[0], target[1], ctx.options.get<string | undefined>("connect_addr"));
  } catch (err) {
    const e = err as Error & { code?: string };
    const short = fdShortageCode(e);
    if (short) ctx.fdShortage.report(short, `${formatAddress(client.peername)}: connecting to ${formatAddress(target)}`);
    const msg = describeConnectError(e, target[0], target[1], false);
    throw new UpstreamError(server.via ? `upstream proxy ${formatAddress(server.via)}: ${msg}` : useTls ? describeConnectError(e, server.sni ?? host, port, useTls) : msg);
  }
  server.timestamp_tcp_setup = now();
  server.connected = true;
  const proxy = connectVia ?? server.via;
  if (proxy) sock = await secureToProxy(ctx, client, sock, proxy);
  if (connectVia) {
    try {
      await connectThrough(ctx, client, sock, host, port);
    } catch (err) {
      sock.destroy();
      throw err;
    }
  }
  if (!useTls) return sock;
  return startTls(ctx, client, server, sock, host, port, alpn);
}

/**
 * A server connection opened before it was needed (connection_strategy=eager), taken for its
 * first request: TLS starts on it now, with the SNI and ALPN that request calls for, unless it
 * began at the client's ClientHello (`secureEagerServer`). Its server_connect and
 * server_connected fired when it opened; a failed handshake is a failed connection as without
 * it (logged, server_connect_error, the request's 502).
 */
export async function useEagerServer(ctx: ProxyContext, client: Client, eager: EagerServer, useTls: boolean, alpn: string[]): Promise<net.Socket> {
  eager.socket.resume();
  if (!useTls) return eager.socket;
  try {
    return await (eager.secured?.socket ?? secureOpened(ctx, client, eager, alpn));
  } catch (err) {
    eager.socket.destroy();
    return connectFailed(ctx, new ServerConnectionHookData(eager.server, client), err);
  }
}

/**
 * Begins TLS on the client's eager server connection while the client's own handshake with
 * pryx runs, with the name and ALPN offers its first request will ask for (`EagerServers.take`
 * checks that it does): a new host's first request then waits for one handshake, not two in a
 * row. As in mitmproxy's eager strategy, the server's handshake and its tls_* hooks come before
 * the request's hooks.
 */
export function secureEagerServer(ctx: ProxyContext, client: Client, name: string, alpn: string[]): void {
  const eager = ctx.eagerServers.peek(client);
  if (!eager || eager.secured) return;
  eager.server.sni = name;
  eager.socket.resume();
  const socket = secureOpened(ctx, client, eager, alpn);
  // Its failure is the request's that takes the connection; a client that never sends one drops it.
  socket.catch(() => undefined);
  eager.secured = { name, alpn: alpn.join(","), socket };
}

function secureOpened(ctx: ProxyContext, client: Client, { server, socket }: EagerServer, alpn: string[]): Promise<net.Socket> {
  const [host, port] = server.address as Address;
  return withTimeout(startTls(ctx, client, server, socket, host, port, alpn), host, port, true);
}

/**
 * TLS to the server on a connected socket; records what was negotiated and the chain. The
 * tls_established_server or tls_failed_server hook has run when it settles. tls_start_server
 * runs first, and the handshake sends the SNI and ALPN offers the server has after it.
 */
const ignoreError = (): void => undefined;

async function startTls(ctx: ProxyContext, client: Client, server: Server, sock: net.Socket, host: string, port: number, offers: string[]): Promise<net.Socket> {
  const hook = (name: "tls_start_server" | "tls_established_server" | "tls_failed_server"): Promise<void> => ctx.addons.trigger(name, new TlsData(server, { client, server }));
  server.alpn_offers = [...offers];
  if (ctx.addons.wants("tls_start_server")) await hook("tls_start_server");
  const alpn = server.alpn_offers;
  return new Promise((resolve, reject) => {
    const sni = server.sni && !net.isIP(server.sni) ? wireHost(server.sni) : undefined;
    const { options, contextName } = upstreamTls(ctx.options, server.sni ?? host).connection();
    const sessionKey = `${contextName}|${sni ?? ""}|${formatAddress([host, port])}|${alpn.join(",")}`;
    const resumable = sessionFor(sessionKey);
    // `host` is the name the certificate is checked against: without it Node checks an IP
    // address's server (which gets no SNI) against "localhost".
    const t = tls.connect({ socket: sock, host: wireHost(server.sni ?? host), servername: sni, ALPNProtocols: alpn, ...options, ...(resumable ? { session: resumable.session } : {}) });
    logTlsKeys(t);
    let chain: readonly string[] | undefined;
    t.once("secureConnect", () => {
      t.off("error", onError);
      // Until its taker listens (after tls_established_server's handlers, or, for an eager
      // connection, at the first request), a reset is no uncaught error: the socket is destroyed,
      // which the taker sees.
      t.on("error", ignoreError);
      server.timestamp_tls_setup = now();
      server.tls = true;
      server.tls_established = true;
      server.tls_version = t.getProtocol() ?? undefined;
      server.cipher = t.getCipher()?.name;
      server.alpn = t.alpnProtocol || undefined;
      chain = resumable && t.isSessionReused() ? resumable.chain : peerChain(t, `${sni ?? ""}@${formatAddress([host, port])}`);
      server.certificate_list = [...chain];
      void hook("tls_established_server").then(() => resolve(t));
    });
    keepSessions(t, sessionKey, () => chain);
    const onError = (err: Error & { code?: string }): void => {
      // A session the server no longer takes must not fail the next connection too.
      if (resumable) forgetSession(sessionKey);
      t.destroy();
      const failed = new UpstreamTlsError(describeConnectError(err, server.sni ?? host, port, true));
      server.error = failed.message;
      void hook("tls_failed_server").then(() => reject(failed));
    };
    t.once("error", onError);
  });
}

/**
 * The Proxy-Authorization for the upstream proxy: `upstream_auth`'s, if set; else the client's
 * own (`given`), which reaches pryx only when proxyauth does not take it, as mitmproxy passes it on.
 */
function upstreamAuthField(ctx: ProxyContext, given: string | undefined): [string, string] | undefined {
  const auth = ctx.options.get<string | undefined>("upstream_auth");
  if (auth) return ["Proxy-Authorization", `Basic ${Buffer.from(auth, "utf8").toString("base64")}`];
  return given ? ["Proxy-Authorization", given] : undefined;
}

/**
 * Whose credentials a connection through the upstream proxy was opened with, for the pool's key:
 * a tunnel CONNECTed with one client's own Proxy-Authorization must not serve a client who gave
 * none, or other ones (the upstream proxy checked them once, at the CONNECT). Empty when every
 * connection carries the same (upstream_auth, or none at all).
 */
export function upstreamCredentialKey(ctx: ProxyContext, client: Client): string {
  // The credentials themselves: the key stays in pryx's memory, which holds them anyway, and a
  // hash of them on every request was work for nothing.
  if (ctx.options.get<string | undefined>("upstream_auth")) return "";
  return clientFacts(client).proxyAuth ?? "";
}

/** Sends CONNECT host:port to the upstream proxy on `sock` and waits for its 2xx. */
async function connectThrough(ctx: ProxyContext, client: Client, sock: net.Socket, host: string, port: number): Promise<void> {
  const authority = formatAddress([wireHost(host), port]);
  const auth = upstreamAuthField(ctx, clientFacts(client).proxyAuth);
  const headers: [string, string][] = [];
  if (ctx.options.get<boolean>("http_connect_send_host_header")) headers.push(["Host", authority]);
  if (auth) headers.push(auth);
  const request = new Request({ method: "CONNECT", scheme: "http", host, port, path: "", authority, headers, content: new Uint8Array(0) });
  const flow = new HTTPFlow(client, new Server([host, port]), request);
  await ctx.addons.trigger("http_connect_upstream", flow);
  const head = Buffer.from(`CONNECT ${authority} HTTP/1.1\r\n${request.headers.toWire()}\r\n`, "latin1");
  const status = await new Promise<string>((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf("\r\n\r\n");
      if (end === -1) return;
      sock.off("data", onData);
      sock.off("error", reject);
      sock.pause();
      if (end + 4 < got.length) sock.unshift(got.subarray(end + 4));
      resolve(got.subarray(0, got.indexOf("\r\n")).toString("latin1"));
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.once("close", () => reject(new UpstreamError(`upstream proxy closed the connection during CONNECT ${authority}`)));
    sock.write(head);
  });
  const code = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(status)?.[1] ?? 0);
  if (code < 200 || code >= 300) throw new UpstreamError(`upstream proxy refused CONNECT ${authority}: ${status.replace(/^HTTP\/\S+ /, "")}`);
}

/** Fires server_disconnected once for a server connection that was established. */
export function serverClosed(ctx: ProxyContext, client: Client, server: Server): void {
  server.connected = false;
  if (server.timestamp_end !== undefined || server.timestamp_tcp_setup === undefined) return;
  server.timestamp_end = now();
  server.closed = true;
  void ctx.addons.trigger("server_disconnected", new ServerConnectionHookData(server, client));
}

/**
 * An HTTP/1.1 connection to a server, owned by one client connection (as in mitmproxy) and
 * reused for that client's following requests to the same address.
 */
export class H1Upstream implements UpstreamChannel {
  readonly httpVersion = "HTTP/1.1" as const;
  private parser: Http1Parser | undefined;
  private sink: ResponseSink | undefined;
  private uses = 0;
  private responseDone = false;
  private expectNoBody = false;
  private interim = false;
  busy = false;
  closed = false;
  /** Bytes the server sent after a 101 response, for the relay. */
  rest: Buffer | undefined;
  /** The server answered 101: what follows is not HTTP. */
  private upgraded = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    readonly server: Server,
    private readonly socket: net.Socket,
  ) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("timeout", () => this.onSilence());
    socket.on("error", (err: Error & { code?: string }) => this.fail(this.described(err)));
    socket.on("close", this.onSocketClose);
    socket.on("end", () => {
      // The server is done with it: a response read to this end is saved with its server CLOSED.
      this.server.connected = false;
      const err = this.endOfInput();
      if (err) this.fail(err);
    });
  }

  get reused(): boolean {
    return this.uses > 1;
  }

  get rawSocket(): net.Socket {
    return this.socket;
  }

  take(): void {
    this.busy = true;
  }

  send(flow: HTTPFlow, sink: ResponseSink, opts: { expectNoBody: boolean; streamBody?: RequestBody }): void {
    this.busy = true;
    this.progress = undefined;
    this.watchSilence(true);
    this.responseDone = false;
    this.uses++;
    this.sink = sink;
    this.expectNoBody = opts.expectNoBody;
    // One parser for the connection's life: llhttp parses successive responses in turn.
    this.parser ??= new Http1Parser("response", {
      onHead: (head: MessageHead) => {
        this.interim = head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101;
        if (!this.interim) this.progress = { body: 0, length: declaredLength(head.rawHeaders) };
        this.sink?.onHead(head);
        return (this.expectNoBody && (head.statusCode < 100 || head.statusCode >= 200)) || undefined;
      },
      onBody: (c) => {
        if (this.progress) this.progress.body += c.length;
        this.sink?.onBody(c);
      },
      onComplete: (trailers) => {
        if (this.interim) {
          this.interim = false;
          return;
        }
        this.responseDone = true;
        this.sink?.onComplete(trailers);
      },
    }, DEFAULT_MAX_HEADER_SIZE, LENIENT_RESPONSES);
    const req = flow.request;
    const upgrading = req.plainHeaders.has("upgrade");
    let fields = forwardedFields(req.headers, upgrading);
    // Of a WebSocket client's extensions, the server is offered those pryx can read: permessage-deflate.
    if (upgrading && (req.plainHeaders.get("upgrade") ?? "").toLowerCase() === "websocket") fields = withRelayableExtensions(fields);
    // HTTP/2 may split the Cookie header into one field per cookie; HTTP/1.1 has one (RFC 9113 8.2.3).
    if (req.http_version.startsWith("HTTP/2")) fields = joinCookies(fields);
    // An HTTP/2 request's authority becomes this hop's Host, on the wire only: the flow keeps the headers its client sent.
    const host = http1HostField(req);
    if (host !== undefined) fields.unshift(["Host", host]);
    const auth = req.scheme === "http" && this.server.via ? upstreamAuthField(this.ctx, req.plainHeaders.get("proxy-authorization")) : undefined;
    if (auth) fields.push(auth);
    const body = opts.streamBody;
    // An HTTP/2 request says where its body ends by ending the stream, and need not carry a
    // Content-Length: in HTTP/1.1 it must have one, or be chunked, or the server takes the body
    // for the next request on the connection (RFC 9112 6.3).
    const unframed = !isChunked(req.plainHeaders) && !req.plainHeaders.has("content-length");
    // Trailers travel only in a chunked body (RFC 9112 7.1.2): a whole request that has them (an
    // HTTP/2 client's) is sent chunked, or they would be dropped on the way to an HTTP/1 server.
    const chunkForTrailers = !body && (req.trailers?.flat.length ?? 0) > 0 && !isChunked(req.plainHeaders);
    if (chunkForTrailers) fields = fields.filter(([n]) => n.toLowerCase() !== "content-length");
    const addChunked = (unframed && body !== undefined) || chunkForTrailers;
    if (unframed && !body && !chunkForTrailers && (req.raw_content?.length ?? 0) > 0) fields.push(["content-length", String(req.raw_content?.length)]);
    if (addChunked) fields.push(["transfer-encoding", "chunked"]);
    const head = requestHead(req, fields, this.requestTarget(flow));
    if (!body) {
      this.socket.cork();
      this.socket.write(head);
      for (const b of framedBody(chunkForTrailers || isChunked(req.headers), req.raw_content, req.trailers)) this.socket.write(b);
      this.socket.uncork();
      return;
    }
    this.socket.write(head);
    const chunked = addChunked || isChunked(req.plainHeaders);
    streamBodyInto(body, (c) => this.socket.write(chunked ? Buffer.concat(chunkOf(c)) : c), this.socket);
    void body.whenComplete().then(() => {
      // The client went mid-body: ending it here (a last chunk) would hand the server a shorter
      // request as whole; closing the connection tells it the request was cut off.
      if (!body.complete) return void this.socket.destroy();
      if (chunked) this.socket.write(lastChunk(body.trailers.length ? Headers.fromRaw(body.trailers) : undefined));
    });
  }

  private requestTarget(flow: HTTPFlow): string {
    const req = flow.request;
    if (req.scheme === "http" && this.server.via) return req.url;
    return req.path;
  }

  finish(keepAlive: boolean): void {
    this.busy = false;
    this.watchSilence(false);
    this.sink = undefined;
    if (!keepAlive) this.close();
  }

  /** One flow at a time on an HTTP/1.1 connection: holding the socket holds just it. */
  pauseResponse(): void {
    this.socket.pause();
    // A response held (intercepted) is the user's to take their time over.
    this.watchSilence(false);
  }

  resumeResponse(): void {
    // An upgraded connection stays paused until its relay takes the socket.
    if (!this.upgraded) this.socket.resume();
    if (this.busy && !this.upgraded) this.watchSilence(true);
  }

  /**
   * A server that takes a request and then sends nothing (nor reads anything) for tcp_timeout
   * seconds is given up: the client gets a 504 saying so, rather than waiting for good (mitmproxy
   * closes such a connection after its 600 s watchdog).
   */
  private watchSilence(on: boolean): void {
    // An upgraded connection's timer is its relay's (tcp_timeout both ways).
    if (this.upgraded) return;
    this.silenceSeconds = on ? this.ctx.options.get<number>("tcp_timeout") : 0;
    this.socket.setTimeout(this.silenceSeconds > 0 ? this.silenceSeconds * 1000 : 0);
  }

  private silenceSeconds = 0;

  private onSilence(): void {
    if (!this.busy || this.upgraded || this.silenceSeconds <= 0) return;
    this.fail(serverSilent(this.server, this.silenceSeconds, true));
  }

  private onData(d: Buffer): void {
    // After a 101 the bytes are the new protocol's (a server's WebSocket greeting): kept for the
    // relay, whatever holds the flow meanwhile (an intercepted 101), never parsed as HTTP.
    if (this.upgraded) {
      this.rest = this.rest ? Buffer.concat([this.rest, d]) : d;
      this.socket.pause();
      return;
    }
    if (!this.parser || !this.busy) {
      // Bytes with no request outstanding break HTTP/1.1: drop the connection.
      this.close();
      return;
    }
    const r = this.parser.execute(d);
    // Bytes after a whole response, in the same read, are no next response: the response stands
    // (as mitmproxy's does) and the connection, which can no longer be trusted, goes.
    if (r.kind === "error" && this.responseDone) this.close();
    else if (r.kind === "error") this.fail(r.error);
    else if (r.kind === "upgrade") {
      this.rest = r.rest;
      this.upgraded = true;
      this.socket.pause();
    }
  }

  /** How far the current response had come: its head's body length and the body bytes since. */
  private progress: { body: number; length: number | undefined } | undefined;

  /** A reset said as what it means for the response in progress, not as the socket's "read ECONNRESET". */
  private described(err: Error & { code?: string }): Error {
    if (err.code !== "ECONNRESET" || !this.busy) return err;
    const p = this.progress;
    const said = p ? `reset the connection after ${p.body}${p.length === undefined ? "" : ` of ${p.length}`} body bytes of its response` : "reset the connection before answering";
    return Object.assign(new Error(`${said} (${err.code})`), { code: err.code });
  }

  private fail(err: Error): void {
    const sink = this.sink;
    this.sink = undefined;
    // The flow's error says what went wrong; server.error is for a connection that could not be
    // made (mitmproxy's: "regular (unexpected) disconnects do not set the error property").
    this.close();
    sink?.onError(err);
  }

  private readonly onSocketClose = (): void => this.onClose();

  private onClose(): void {
    this.closed = true;
    if (this.sink && !this.responseDone) {
      const err = this.endOfInput();
      const sink = this.sink;
      this.sink = undefined;
      if (!this.responseDone) sink?.onError(err ?? this.closedEarly());
    }
    this.parser?.close();
    this.parser = undefined;
    serverClosed(this.ctx, this.client, this.server);
  }

  /**
   * The server closed its side: a body delimited by the close ends here; anything else is a
   * broken response, reported in words a user understands rather than the parser's state.
   */
  private endOfInput(): Error | undefined {
    const err = this.parser?.finish();
    return err ? this.closedEarly() : undefined;
  }

  /** How far the response had come, as a reset's error says it: mitmproxy's names the bytes received and expected too. */
  private closedEarly(): UpstreamError {
    const p = this.progress;
    const got = p ? ` (after ${p.body}${p.length === undefined ? "" : ` of ${p.length}`} body bytes)` : "";
    return new UpstreamError(`${serverName(this.server)} closed the connection before the response was complete${got}`);
  }

  /**
   * Hands the socket over for a relay after an upgrade; the caller now owns it. `reportsClose`:
   * the caller fires server_disconnected itself (`serverClosed`), after its own end hook, as a
   * WebSocket's websocket_end comes before it in mitmproxy.
   */
  detach(reportsClose = false): net.Socket {
    this.socket.removeAllListeners("data");
    if (reportsClose) this.socket.off("close", this.onSocketClose);
    this.parser?.close();
    this.parser = undefined;
    this.sink = undefined;
    this.closed = true;
    return this.socket;
  }

  /** HTTP/1.1 has no way to cancel one exchange but to close its connection. */
  cancel(): void {
    this.close();
  }

  close(): void {
    this.closed = true;
    this.server.connected = false;
    if (!this.socket.destroyed) this.socket.destroy();
    this.parser?.close();
    this.parser = undefined;
  }
}

export function describeConnectError(err: Error & { code?: string }, host: string, port: number, useTls: boolean): string {
  const where = formatAddress([host, port]);
  switch (err.code) {
    case "ECONNREFUSED":
      return `cannot connect to ${where}: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve ${host}: no such host`;
    case "ETIMEDOUT":
      return `cannot connect to ${where}: timed out`;
    case "ECONNRESET":
      return `connection to ${where} was reset`;
    case "EMFILE":
    case "ENFILE":
      return `cannot connect to ${where}: ${fdShortageText(err.code)}`;
    default:
      if (useTls && noSharedVersion(err))
        return `TLS handshake with ${where} failed: the server and pryx share no TLS version (pryx's are set by tls_version_server_min and tls_version_server_max)`;
      if (useTls && /certificate|self.signed|CERT_|unable to verify|altname/i.test(`${err.code ?? ""} ${err.message}`))
        return `TLS verification of ${host} failed: ${err.message} (use -k/--ssl-insecure to skip verification)`;
      if (useTls && /wrong version number|packet length too long|http request/i.test(err.message))
        return `TLS handshake with ${where} failed: the server does not speak TLS (a plain HTTP server, perhaps: try http://)`;
      if (useTls && /no application protocol/i.test(`${err.code ?? ""} ${err.message}`))
        return `TLS handshake with ${where} failed: the server takes none of the protocols pryx offered by ALPN (those the client offered; HTTP/1.1 alone with http2 off)`;
      if (useTls && /^ERR_SSL_/.test(err.code ?? "")) return `TLS handshake with ${where} failed: ${tlsErrorText(err)}`;
      return `cannot connect to ${where}: ${err.message}`;
  }
}

/** OpenSSL's reason out of its error line (`C0B6…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/…`). */
function opensslReason(message: string): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message;
}

/**
 * A TLS error from a server connection in words a user can act on, rather than OpenSSL's line. A
 * TLS 1.3 server asks for a client certificate after the handshake: its "certificate required"
 * alert comes with the first read, so a response's error needs this as well as a handshake's.
 */
export function tlsErrorText(err: Error): string {
  // client_certs may be set already, as a directory with no HOST.pem for this server.
  if (/certificate required/i.test(err.message)) return "the server asks for a client certificate (give one with --set client_certs=FILE, or put HOST.pem for this server in the client_certs directory)";
  const reason = opensslReason(err.message);
  // TLS 1.2 says only "handshake failure" for it, as for a cipher or curve the two do not share.
  if (/alert handshake failure/i.test(reason)) return `${reason} (a server that wants a client certificate says this too: --set client_certs=FILE gives one)`;
  return reason;
}

/** The Cookie fields as one, "; " between them, where the first was. */
function joinCookies(fields: [string, string][]): [string, string][] {
  const cookies = fields.filter(([n]) => n.toLowerCase() === "cookie");
  if (cookies.length < 2) return fields;
  const first = cookies[0] as [string, string];
  const joined: [string, string] = [first[0], cookies.map(([, v]) => v).join("; ")];
  return fields.flatMap((f) => (f === first ? [joined] : f[0].toLowerCase() === "cookie" ? [] : [f]));
}

/** A response head's Content-Length, when it has one number. */
function declaredLength(rawHeaders: readonly string[]): number | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === "content-length") {
      const n = Number(rawHeaders[i + 1]);
      return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    }
  }
  return undefined;
}
