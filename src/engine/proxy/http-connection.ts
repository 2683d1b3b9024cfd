import type net from "node:net";
import { Duplex } from "node:stream";
import { Http1Parser, LENIENT_INBOUND, type MessageHead } from "../http1/parser.ts";
import { acceptedBasic, authHeaders } from "./proxy-credentials.ts";
import { Headers } from "../flow/headers.ts";
import { HTTPFlow, Request, Response, defaultReason, http1HostField } from "../flow/http.ts";
import { FlowError } from "../flow/flow.ts";
import { Client, Server, formatAddress, parseAuthority, type Address } from "../flow/connection.ts";
import { isOwnAddress } from "./own-address.ts";
import { framedBody, isChunked, responseHasNoBody, chunk as chunkOf, lastChunk, plainResponse, responseHead } from "../http1/serialize.ts";
import { Incoming } from "./incoming.ts";
import { UpstreamPool } from "./pool.ts";
import { ClientFacingError, HttpExchange, errorHook, type ClientWriter } from "./exchange.ts";
import { resetOrDestroy } from "./reset.ts";
import { H1Upstream } from "./upstream.ts";
import { WebSocketRelay } from "./websocket.ts";
import type { ProxyContext } from "./context.ts";
import type { UpstreamChannel } from "./channel.ts";
import type { Tunnel } from "./tunnel.ts";
import { clientDisconnected } from "./client-gone.ts";
import { clientFacts } from "./client-facts.ts";
import { targetHostProblem } from "../flow/host-name.ts";
import { HeadDeadline, headTimeoutMessage } from "./head-deadline.ts";
import { recordUnsent, type UnsentEnd } from "./unsent-flow.ts";
import { now } from "../flow/now.ts";

/** Where requests on this connection go when they do not name a host (inside a tunnel, or reverse mode). */
export interface ConnectionTarget {
  scheme: "http" | "https";
  host: string;
  port: number;
  /** Reverse mode rewrites the Host header to the target's, as mitmproxy does with keep_host_header off. */
  rewriteHost: boolean;
}

/** Writes responses to an HTTP/1.1 client socket. */
class H1Writer implements ClientWriter {
  started = false;
  /** Set when the response's framing means the connection must close after it. */
  closeAfter = false;
  readonly maxStatus = 999;

  constructor(private readonly socket: net.Socket) {}

  get gone(): boolean {
    return this.socket.destroyed;
  }

  interim(res: Response): void {
    this.socket.write(responseHead(res));
  }

  continue100(): void {
    this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
  }

  whole(flow: HTTPFlow): void {
    const res = flow.response as Response;
    const noBody = responseHasNoBody(flow.request.method, res.status_code);
    const fields = this.fieldsFor(res, noBody);
    this.started = true;
    this.socket.cork();
    this.socket.write(responseHead(res, fields));
    if (!noBody) for (const b of framedBody(isChunked(res.headers), res.raw_content, res.trailers)) this.socket.write(b);
    this.socket.uncork();
    if (!noBody && !res.plainHeaders.has("content-length") && !isChunked(res.plainHeaders)) this.closeAfter = true;
  }

  /** An HTTP/2 response has no framing headers; an HTTP/1.1 client needs a length. */
  private fieldsFor(res: Response, noBody: boolean): readonly string[] {
    if (!res.http_version.startsWith("HTTP/2") || noBody || res.plainHeaders.has("content-length")) return res.plainHeaders.flat;
    return [...res.plainHeaders.flat, "content-length", String(res.raw_content?.length ?? 0)];
  }

  head(flow: HTTPFlow): void {
    this.started = true;
    const res = flow.response as Response;
    if (res.http_version.startsWith("HTTP/2") && !res.plainHeaders.has("content-length")) {
      res.plainHeaders.set("transfer-encoding", "chunked");
    }
    this.socket.write(responseHead(res));
    if (!res.plainHeaders.has("content-length") && !isChunked(res.plainHeaders)) this.closeAfter = true;
  }

  chunk(res: Response, data: Buffer): boolean {
    return isChunked(res.plainHeaders) ? chunkOf(data).map((b) => this.socket.write(b)).every(Boolean) : this.socket.write(data);
  }

  onDrain(fn: () => void): void {
    this.socket.once("drain", fn);
  }

  end(res: Response): void {
    if (isChunked(res.plainHeaders)) this.socket.write(lastChunk(res.trailers));
  }

  error(status: number, text: string, close = false): void {
    this.started = true;
    this.socket.write(plainResponse(status, defaultReason(status), text, close));
  }

  abort(): void {
    // Mid-response, a FIN would end a body without Content-Length as if it were whole.
    if (this.started) resetOrDestroy(this.socket);
    else this.socket.destroy();
  }
}

/** A CONNECT request's flow request: its target as the authority, no body. */
function connectRequest(head: MessageHead, host: string, port: number): Request {
  return new Request({ method: "CONNECT", scheme: "http", host, port, path: "", authority: head.url, http_version: head.httpVersion, headers: Headers.fromRaw(head.rawHeaders), content: new Uint8Array(0) });
}

/**
 * One client connection speaking HTTP/1.1: parses requests with llhttp, runs each through
 * an HttpExchange in order (pipelined requests wait their turn), keeps the connection alive
 * between requests, and hands CONNECT tunnels and upgrades over to the Tunnel.
 */
export class HttpConnection {
  private readonly parser: Http1Parser;
  private readonly queue: Incoming[] = [];
  private current: Incoming | undefined;
  private processing = false;
  private readonly pool: UpstreamPool;
  private closed = false;
  /**
   * The answer to bytes that were no request (or no request body), held until the requests before
   * them are answered (mitmproxy answers those first): nothing after them is read.
   */
  private afterQueue: Buffer | undefined;
  /** The socket was handed to a tunnel or relay: this handler no longer owns it. */
  private detached = false;
  private liveFlow: HTTPFlow | undefined;
  /** The last request asked for an h2c upgrade, which pryx took out of it. */
  private h2cDropped = false;
  private writer: H1Writer;
  /** The WebSocket this connection became, if it did: a shutdown closes it with a close frame. */
  private relay: WebSocketRelay | undefined;
  private readonly headDeadline: HeadDeadline;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly socket: net.Socket,
    readonly client: Client,
    private readonly target: ConnectionTarget | undefined,
    private readonly tunnel: Tunnel,
  ) {
    this.pool = new UpstreamPool(ctx, client, false, target && !target.rewriteHost ? [target.host, target.port] : undefined);
    this.writer = new H1Writer(socket);
    this.headDeadline = new HeadDeadline(() => ctx.options.get<number>("http_head_timeout"), (seconds) => void this.headTimedOut(seconds));
    this.parser = new Http1Parser("request", {
      onHead: (head) => {
        if (head.upgrade && withoutH2cUpgrade(head)) {
          this.h2cDropped = true;
          this.ctx.log.info(`${formatAddress(this.client.peername)}: HTTP/2 cleartext upgrade (h2c) is not supported: the request goes on as HTTP/1.1, as in mitmproxy`);
        }
        this.current = new Incoming(head);
        this.current.source = this.socket;
        this.queue.push(this.current);
        return undefined;
      },
      onBody: (c) => this.current?.push(c),
      onComplete: (trailers) => {
        this.current?.finish(trailers);
        this.current = undefined;
      },
    }, undefined, ctx.options.get<boolean>("validate_inbound_headers") ? 0 : LENIENT_INBOUND);
  }

  /** Starts reading; `initial` holds bytes already read from the socket (after a CONNECT, say). */
  start(initial?: Buffer): void {
    this.socket.on("data", (d: Buffer) => this.feed(d));
    this.socket.on("end", () => this.onClientGone("client closed the connection"));
    this.socket.on("close", () => this.onClientGone("client disconnected"));
    this.socket.on("error", () => undefined);
    this.socket.on("timeout", () => this.onIdle());
    this.armIdle();
    if (initial && initial.length) this.feed(initial);
  }

  /**
   * mitmproxy's tcp_timeout for a client connection waiting for its next request: closed after
   * that long with nothing sent either way. The socket's timer is set once: Node starts it again
   * at every read and write, even after it has fired. A request in progress (a paused one, a
   * long poll) is never cut: the timer fires and is ignored, and the response restarts it.
   */
  private armIdle(): void {
    const seconds = this.ctx.options.get<number>("tcp_timeout");
    if (seconds > 0) this.socket.setTimeout(seconds * 1000);
  }

  private onIdle(): void {
    if (this.closed || this.processing || this.current || this.queue.length) return;
    this.ctx.log.info(`${formatAddress(this.client.peername)}: closing the connection, idle for ${this.ctx.options.get<number>("tcp_timeout")} s (tcp_timeout)`);
    this.closed = true;
    this.socket.destroy();
  }

  private feed(d: Buffer): void {
    if (this.closed || this.afterQueue) return;
    const r = this.parser.execute(d);
    this.headDeadline.update(r.kind === "ok" && this.parser.midHead);
    if (r.kind === "error") {
      const hint = r.error.lenientWouldPass ? " (--set validate_inbound_headers=false lets such requests through)" : "";
      this.ctx.log.warn(`${formatAddress(this.client.peername)}: ${r.error.message}${hint}`);
      // Pipelined requests read whole before the bad bytes still get their answers.
      this.afterQueue = plainResponse(r.error.status, defaultReason(r.error.status), `pryx: ${r.error.message}`, true);
      // A request whose head was read and whose body was not is a flow failing with this error, as
      // mitmproxy's is: its exchange fires `error` and answers the same 400 (the connection then
      // closes, so the answer above is not sent too), or closes the connection if its response began.
      // So is a refused head whose request line is one, read leniently (mitmproxy's "headers that we
      // can show in the UI"); a head with no request line to read stays a log line.
      const failure = new ClientFacingError(r.error.status, r.error.message, true);
      const cutShort = this.current;
      this.current = undefined;
      cutShort?.abort(failure);
      if (r.head) this.queue.push(Incoming.refused(r.head, failure));
      void this.process();
      return;
    }
    if (r.kind === "upgrade" && this.h2cDropped) {
      // No upgrade after all (its headers are gone): llhttp goes on parsing what follows.
      this.h2cDropped = false;
      const last = this.queue[this.queue.length - 1];
      if (last && !last.complete) last.finish([]);
      if (r.rest.length) return this.feed(r.rest);
    } else if (r.kind === "upgrade") {
      const last = this.queue[this.queue.length - 1];
      if (last) {
        last.upgradeRest = r.rest;
        // A CONNECT or Upgrade request has no body for the parser: it completes at its head.
        if (!last.complete) last.finish([]);
      }
      this.socket.pause();
    }
    if (this.queue.length > 1) this.socket.pause();
    void this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length && !this.closed) {
        const inc = this.queue[0] as Incoming;
        const keepOpen = await this.exchange(inc);
        this.queue.shift();
        if (this.detached) return;
        if (!keepOpen) {
          this.closed = true;
          if (!this.socket.destroyed) this.socket.end();
          this.pool.release();
          return;
        }
        if (this.queue.length <= 1 && !this.closed) this.socket.resume();
      }
      if (this.afterQueue && !this.closed) {
        this.closed = true;
        this.socket.end(this.afterQueue);
        // A client that never closes its side (a slowloris does not) holds the socket no longer than this.
        setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
      }
    } finally {
      this.processing = false;
    }
  }

  /** Runs one request/response exchange. Returns whether the client connection stays open. */
  private async exchange(inc: Incoming): Promise<boolean> {
    const head = inc.head;
    // An explicit proxy's requests, and a reverse proxy's, need proxyauth's credentials; those
    // inside a CONNECT tunnel were authorized with it.
    const reverse = this.target?.rewriteHost === true;
    // A refused head gets its refusal, whatever else it lacks or asks for.
    if (!inc.headRefused && (!this.target || reverse) && !this.authorized(head, reverse)) {
      const h = authHeaders(reverse);
      const body = `pryx: ${reverse ? "" : "proxy "}authentication required\n`;
      const response = new Response({ status_code: h.status, reason: h.reason, headers: [[h.ask, 'Basic realm="pryx"'], ["Content-Type", "text/plain"]], content: Buffer.from(body) });
      const answered = await this.answerUnsent(this.requestOf(head), true, { response }, () =>
        this.socket.write(`HTTP/1.1 ${h.status} ${h.reason}\r\n${h.ask}: Basic realm="pryx"\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
      );
      return answered && head.keepAlive && inc.complete;
    }
    if (head.method === "CONNECT" && !inc.headRefused) {
      if (!reverse) return this.connect(inc);
      // A reverse proxy tunnels nowhere but to its target: answered, a CONNECT made it an open proxy to any host and port.
      const body = `pryx: this is a reverse proxy to ${this.reverseTarget()}: it takes no CONNECT\n`;
      const response = new Response({ status_code: 502, reason: defaultReason(502), headers: [["Content-Type", "text/plain"]], content: Buffer.from(body) });
      await this.answerUnsent(this.requestOf(head), true, { response }, () => this.socket.write(plainResponse(502, defaultReason(502), body.trimEnd(), true)));
      return false;
    }
    let request: Request;
    try {
      request = this.buildRequest(head);
    } catch (err) {
      // A refused head that names no request (no absolute URL, a CONNECT) has no flow: it was logged as refused, and is answered so.
      const e = inc.headRefused && inc.failure ? inc.failure : (err as ClientFacingError);
      // Said on pryx's side too: a client's failure in a CI log had no trace in the proxy's.
      if (e === err) this.ctx.log.info(`${formatAddress(this.client.peername)}: answered ${e.status}: ${e.message}`);
      this.socket.write(plainResponse(e.status, defaultReason(e.status), `pryx: ${e.message}`, true));
      return false;
    }
    if (inc.headRefused && inc.failure) {
      const e = inc.failure;
      await this.answerUnsent(request, true, { error: e.message }, () => this.socket.write(plainResponse(e.status, defaultReason(e.status), `pryx: ${e.message}`, true)));
      return false;
    }
    const flow = new HTTPFlow(this.client, new Server([request.host, request.port]), request);
    this.ctx.credentials.stamp(flow);
    this.liveFlow = flow;
    this.writer = new H1Writer(this.socket);
    const result = await new HttpExchange(this.ctx, flow, inc, this.writer, this.pool).run();
    this.liveFlow = undefined;
    if (result.kind === "upgraded") {
      this.relayUpgrade(flow, inc, result.channel);
      return false;
    }
    return result.keepAlive && head.keepAlive && !this.writer.closeAfter && !this.closed;
  }

  /**
   * The head being read missed its deadline: the client is answered 408 once the requests before
   * it are, and the connection closes. When its request line came, the request is a flow failing
   * with the reason, so dump and the console show who was cut off and what they asked for.
   */
  private async headTimedOut(seconds: number): Promise<void> {
    if (this.closed || this.detached || this.afterQueue || !this.parser.midHead) return;
    if (this.socket.isPaused()) {
      // Reading waits while earlier requests take their turn: the rest of the head may be here unread.
      this.headDeadline.restart();
      return;
    }
    const why = headTimeoutMessage(seconds);
    this.ctx.log.warn(`${formatAddress(this.client.peername)}: ${why}: answered 408 Request Timeout, closing the connection`);
    this.afterQueue = plainResponse(408, defaultReason(408), `pryx: ${why}`, true);
    const line = this.parser.pendingRequestLine;
    const startedAt = this.headDeadline.startedAt;
    this.headDeadline.stop();
    const request = line ? this.requestOf({ httpVersion: line.version, rawHeaders: [], method: line.method, url: line.target, statusCode: 0, statusMessage: "", upgrade: false, keepAlive: false }) : undefined;
    if (request && startedAt !== undefined) request.timestamp_start = startedAt;
    // The 408 waits in afterQueue: process() sends it once the requests before it are answered.
    await this.answerUnsent(request, false, { error: why }, () => void this.process());
  }

  /**
   * Answers a request pryx sends to no server (refused for its credentials, a CONNECT to a reverse
   * proxy, a refused or unfinished head) with `reply`, once its flow has been through its hooks, so
   * dump, -w and the console show why a client stopped working, as mitmproxy records such
   * requests. A head that makes no request (no target to name) has no flow. Returns false when
   * the flow was killed on the way: the connection is closed unanswered, as a kill closes it.
   */
  private async answerUnsent(request: Request | undefined, headRead: boolean, end: UnsentEnd, reply: () => void): Promise<boolean> {
    const recorded = request && recordUnsent(this.ctx, this.client, request, headRead, end, (flow) => (this.unsentFlow = flow));
    this.unsentHooks = recorded;
    try {
      if (recorded && !(await recorded)) {
        this.closed = true;
        this.socket.destroy();
        return false;
      }
    } finally {
      this.unsentFlow = this.unsentHooks = undefined;
    }
    reply();
    return true;
  }

  /** An unsent request's flow while its hooks run: a client that leaves meanwhile is reported after them (its `error` first). */
  private unsentFlow: HTTPFlow | undefined;
  private unsentHooks: Promise<boolean> | undefined;

  /** The request a head makes, to record it as a flow; undefined when it names no target. */
  private requestOf(head: MessageHead): Request | undefined {
    try {
      if (head.method !== "CONNECT") return this.buildRequest(head);
      const target = parseAuthority(head.url);
      return target?.port ? connectRequest(head, target.host, target.port) : undefined;
    } catch {
      return undefined;
    }
  }

  /** With --proxyauth, the request must carry Basic credentials it accepts (see `authHeaders`); they are remembered for the client's flows. */
  private authorized(head: MessageHead, reverse: boolean): boolean {
    const check = this.ctx.credentials.for(this.ctx.options.get<string | undefined>("proxyauth"));
    if (!check) return true;
    const accepted = acceptedBasic(check, Headers.fromRaw(head.rawHeaders).get(authHeaders(reverse).answer));
    if (accepted) this.ctx.credentials.remember(this.client, accepted);
    else this.ctx.credentials.forget(this.client);
    return accepted !== undefined;
  }

  /**
   * pryx's own credentials (proxyauth) are nobody else's business: not the server's, nor the
   * flow's, where they would be saved, exported and replayed. mitmproxy removes them too. A
   * request inside a CONNECT tunnel carries none of pryx's: its headers are left alone.
   */
  private dropCredentials(req: Request): Request {
    const reverse = this.target?.rewriteHost === true;
    if ((!this.target || reverse) && this.ctx.options.get<string | undefined>("proxyauth")) req.plainHeaders.delete(authHeaders(reverse).answer);
    return req;
  }

  private buildRequest(head: MessageHead): Request {
    // llhttp reads a request line without a version as HTTP/0.9, which has no headers: relayed as
    // HTTP/1.1 it would reach the server without a Host. mitmproxy refuses it too.
    if (head.httpVersion === "HTTP/0.9") throw new ClientFacingError(400, `bad request line: no HTTP version (HTTP/0.9 is not supported); send "${head.method} ${head.url} HTTP/1.1"`);
    const headers = Headers.fromRaw(head.rawHeaders);
    const at = now();
    const reverse = this.target?.rewriteHost === true;
    const absolute = !head.url.startsWith("/") && head.url !== "*";
    if (absolute && !reverse) {
      const t = parseAbsoluteTarget(head.url);
      return this.dropCredentials(new Request({ method: head.method, http_version: head.httpVersion, headers, content: undefined, timestamp_start: at, scheme: t.scheme, host: t.host, port: t.port, path: t.path }));
    }
    if (!this.target) {
      // A device whose DNS sends the onboarding host to pryx asks pryx itself for the page: served, as mitmproxy serves mitm.it so.
      const onboarding = this.ctx.options.get<boolean>("onboarding") ? this.ctx.options.get<string>("onboarding_host") : undefined;
      const named = headers.get("host")?.replace(/:\d+$/, "").toLowerCase();
      if (onboarding !== undefined && named === onboarding.toLowerCase() && !absolute) {
        return this.dropCredentials(new Request({ method: head.method, http_version: head.httpVersion, headers, content: undefined, timestamp_start: at, scheme: "http", host: onboarding, port: 80, path: head.url }));
      }
      // A client sent here by DNS or a hosts file asks in origin form: its Host names the server,
      // as mitmproxy routes it. A Host naming pryx itself is a browser pointed at the proxy: told how.
      const byHost = !absolute ? hostHeaderServer(headers.get("host"), this.ctx.boundAddresses()) : undefined;
      if (byHost) return this.dropCredentials(new Request({ method: head.method, http_version: head.httpVersion, headers, content: undefined, timestamp_start: at, scheme: "http", host: byHost.host, port: byHost.port, path: head.url }));
      throw new ClientFacingError(400, "this is a proxy: send requests with an absolute URL (for example curl -x http://HOST:PORT http://example.com/)");
    }
    const { scheme, host, port } = this.target;
    // Reverse mode sends every request to its target, as mitmproxy does: an absolute URL's host went where it named (an open proxy).
    const path = absolute ? parseAbsoluteTarget(head.url).path : head.url;
    const req = new Request({ method: head.method, http_version: head.httpVersion, headers, content: undefined, timestamp_start: at, scheme, host, port, path });
    // The target's Host, unless keep_host_header keeps the client's; a request without one (HTTP/1.0) gets the target's either way.
    if (reverse && (!this.ctx.options.get<boolean>("keep_host_header") || !req.plainHeaders.has("host"))) req.plainHeaders.set("host", req.hostHeader);
    this.dropCredentials(req);
    return req;
  }

  private reverseTarget(): string {
    const t = this.target as ConnectionTarget;
    return `${t.scheme}://${formatAddress([t.host, t.port])}`;
  }

  /** After a 101 Switching Protocols, bytes flow both ways untouched. */
  private relayUpgrade(flow: HTTPFlow, inc: Incoming, channel: unknown): void {
    this.socket.setTimeout(0);
    this.socket.removeAllListeners("timeout");
    this.closed = true;
    this.detached = true;
    if (!(channel instanceof H1Upstream)) {
      flow.live = false;
      this.socket.destroy();
      return;
    }
    const rest = channel.rest;
    // The exchange decided (the websocket option) when the 101 came: a flow with a WebSocket is read as one.
    const server = channel.detach(flow.websocket !== undefined);
    if (flow.websocket) {
      this.relay = new WebSocketRelay(this.ctx, flow, this.socket, server);
      void this.relay.start(inc.upgradeRest, rest);
      return;
    }
    flow.live = false;
    this.ctx.notify(flow);
    this.tunnel.relayRaw(this.socket, server, inc.upgradeRest, rest);
  }

  private onClientGone(reason: string): void {
    this.closed = true;
    this.headDeadline.stop();
    // Before the flow's error hook, which comes ahead of client_disconnected.
    this.client.connected = false;
    const flow = this.liveFlow;
    if (flow && flow.live && !flow.error) {
      // The live flow's request is the queue's first; what it lacked says more than the client's going.
      const inc = this.queue[0];
      flow.error = new FlowError(inc?.failure?.message ?? (inc && !inc.complete ? `${reason} before the request body was complete` : reason));
      if (flow.intercepted) flow.resume();
      this.failedByClient = flow;
    }
    for (const inc of this.queue) if (!inc.complete) inc.abort();
    if (!this.socket.destroyed && reason !== "client disconnected") return;
    // mitmproxy's order: the flow's error, then the client's going, then the server connections'.
    const failed = this.failedByClient;
    if (failed) {
      // Its server connection, in the middle of the exchange, is closed with the client's (see
      // `disconnected`): mitmproxy closes it before the error hook, and saves the flow so.
      failed.server_conn.connected = false;
      void errorHook(this.ctx, failed).then(() => this.disconnected());
    } else if (this.unsentHooks) {
      // A paused one is let go: its client will not read the answer.
      if (this.unsentFlow?.intercepted) this.unsentFlow.resume();
      const after = (): Promise<void> => this.disconnected();
      void this.unsentHooks.then(after, after);
    } else void this.disconnected();
  }

  /** The flow the client left in progress (its half-close and its close are two events). */
  private failedByClient: HTTPFlow | undefined;

  private disconnectedFired = false;
  private async disconnected(): Promise<void> {
    if (this.disconnectedFired) return;
    this.disconnectedFired = true;
    this.pool.release();
    this.parser.close();
    this.ctx.connections.delete(this);
    await clientDisconnected(this.ctx.addons, this.client);
  }

  /** CONNECT: http_connect decides; a 2xx (or no response) opens the tunnel once the tunnel is ready. */
  private async connect(inc: Incoming): Promise<boolean> {
    const head = inc.head;
    const target = parseAuthority(head.url);
    const host = target?.host ?? "";
    const port = target?.port ?? 0;
    const problem = !host || port <= 0 || port > 65535 ? `invalid CONNECT target ${JSON.stringify(head.url)}: expected host:port` : targetHostProblem(host);
    if (problem) {
      this.ctx.log.info(`${formatAddress(this.client.peername)}: answered 400: ${problem}`);
      this.socket.end(plainResponse(400, "Bad Request", `pryx: ${problem}`, true));
      return false;
    }
    const request = this.dropCredentials(connectRequest(head, host, port));
    const passedOn = request.plainHeaders.get("proxy-authorization");
    if (passedOn) clientFacts(this.client).proxyAuth = passedOn;
    const flow = new HTTPFlow(this.client, new Server([host, port]), request);
    await this.ctx.addons.trigger("http_connect", flow);
    const res = flow.response;
    if (res && (res.status_code < 200 || res.status_code >= 300)) {
      await this.ctx.addons.trigger("http_connect_error", flow);
      // A refused tunnel is worth seeing in the flow list.
      flow.live = false;
      this.ctx.store.add(flow);
      this.writer.whole(flow);
      return false;
    }
    const tunnel = await this.tunnel.prepare(this.client, { host, port });
    if ("error" in tunnel) {
      const text = `pryx: ${tunnel.error}`;
      flow.response = new Response({ status_code: 502, headers: [["Content-Type", "text/plain"]], content: Buffer.from(text) });
      await this.ctx.addons.trigger("http_connect_error", flow);
      this.socket.end(plainResponse(502, "Bad Gateway", text, true));
      return false;
    }
    // As mitmproxy's: the 200 is a response of the flow's by the time http_connected sees it. An
    // accepted CONNECT's flow is not kept, so without an addon for the hook nothing is built.
    if (this.ctx.addons.wants("http_connected")) {
      flow.response = res ?? new Response({ status_code: 200, reason: "Connection established", content: new Uint8Array(0) });
      await this.ctx.addons.trigger("http_connected", flow);
    }
    this.socket.write(res ? responseHead(res) : "HTTP/1.1 200 Connection established\r\n\r\n");
    for (const ev of ["data", "end", "close", "timeout"]) this.socket.removeAllListeners(ev);
    this.socket.setTimeout(0);
    this.closed = true;
    this.detached = true;
    this.pool.release();
    this.parser.close();
    this.disconnectedFired = true;
    this.ctx.connections.delete(this);
    tunnel.start(this.socket, inc.upgradeRest ?? Buffer.alloc(0));
    return false;
  }

  close(reason: string): void {
    if (this.relay) return this.relay.goAway(reason);
    const flow = this.liveFlow;
    if (flow && !flow.error) flow.error = new FlowError(reason);
    this.socket.destroy();
  }
}

/** How long a connection pryx ended stays open for its last bytes to reach a client that does not close its side. */
const CLOSE_GRACE_MS = 1000;

// ASCII controls and space only, not \s: a target's bytes >= 0x80 arrive as latin1 characters,
// and \s would match 0x85 and 0xa0, which are common in UTF-8.
const ABSOLUTE = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^/?#:@\x00-\x20\x7f]+)(?::(\d{1,5}))?([/?][^\x00-\x20\x7f#]*)?$/i;

/**
 * Splits an absolute-form request target (RFC 9112 3.2.2). The path is kept exactly as
 * sent: WHATWG URL parsing would normalise it (and is slow on this per-request path).
 */
export function parseAbsoluteTarget(url: string): { scheme: "http" | "https"; host: string; port: number; path: string } {
  const m = ABSOLUTE.exec(url);
  if (!m) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
    throw new ClientFacingError(400, scheme && !/^https?$/i.test(scheme) ? `unsupported scheme ${scheme} in ${url}` : `invalid request target ${JSON.stringify(url)}`);
  }
  const scheme = (m[1] as string).toLowerCase() as "http" | "https";
  const port = m[3] ? Number(m[3]) : scheme === "https" ? 443 : 80;
  if (port < 1 || port > 65535) throw new ClientFacingError(400, `invalid port in request target ${JSON.stringify(url)}`);
  const host = (m[2] as string).replace(/^\[|\]$/g, "");
  const problem = targetHostProblem(host);
  if (problem) throw new ClientFacingError(400, problem);
  const rawPath = m[4] ?? "/";
  return { scheme, host, port, path: rawPath.startsWith("?") ? `/${rawPath}` : rawPath };
}

/** A socket that swallows writes: replays have no client to answer. */
class NullSocket extends Duplex {
  override _read(): void {}
  override _write(_c: unknown, _e: BufferEncoding, cb: () => void): void {
    cb();
  }
}

/**
 * A replay has no client whose version the request keeps: it says what went on the wire, HTTP/1.1
 * when an HTTP/2 request's server (or a plain-text one) speaks only that.
 */
class ReplayPool extends UpstreamPool {
  override async acquire(flow: HTTPFlow, fresh = false): Promise<UpstreamChannel> {
    const channel = await super.acquire(flow, fresh);
    // HTTP/1.0 goes out as such (see requestHead); anything else as the channel's version.
    if (channel.httpVersion === "HTTP/2.0" || !flow.request.http_version.startsWith("HTTP/1")) {
      if (channel.httpVersion !== "HTTP/2.0") {
        // Made HTTP/1.1, an HTTP/2 request carries the Host that goes on the wire in place of its
        // authority, as mitmproxy's Http1Client converts one: the replay's flow says what was sent.
        const host = http1HostField(flow.request);
        if (host !== undefined) flow.request.plainHeaders.insert(0, "Host", host);
        flow.request.authority = "";
      }
      flow.request.http_version = channel.httpVersion;
    }
    return channel;
  }
}

/**
 * Sends a copy of `flow`'s request again as a new flow marked is_replay, through the same hooks.
 * `id` is the new flow's, when the replay was promised under it before it was sent (replay.client's queue).
 */
export async function replayFlow(ctx: ProxyContext, original: HTTPFlow, id?: string): Promise<HTTPFlow> {
  const client = new Client(["replay", 0], ["replay", 0], "replay");
  const request = original.request.clone();
  request.timestamp_start = now();
  request.timestamp_end = request.timestamp_start;
  const flow = new HTTPFlow(client, new Server([request.host, request.port]), request, id);
  flow.is_replay = "request";
  const done = new Incoming({ httpVersion: request.http_version, rawHeaders: [], method: request.method, url: request.path, statusCode: 0, statusMessage: "", upgrade: false, keepAlive: false });
  done.finish([]);
  // An HTTP/2 request is offered to the server as h2 again, falling back to HTTP/1.1 as a client's would.
  const pool = new ReplayPool(ctx, client, request.http_version === "HTTP/2.0");
  await new HttpExchange(ctx, flow, done, new H1Writer(new NullSocket() as unknown as net.Socket), pool).runReplay();
  pool.release();
  return flow;
}

/**
 * Takes an h2c upgrade out of a request head (Upgrade: h2c, HTTP2-Settings, their Connection
 * tokens), as mitmproxy does: `curl --http2 http://…` then gets its answer over HTTP/1.1, where
 * the server's 101 left the rest of the exchange unrecorded, and a server that refuses h2c
 * answered 400. Returns whether the head asked for h2c; another Upgrade (a WebSocket's) is left as it is.
 */
function withoutH2cUpgrade(head: MessageHead): boolean {
  const raw = head.rawHeaders;
  let h2c = false;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === "upgrade" && (raw[i + 1] as string).trim().toLowerCase() === "h2c") h2c = true;
  }
  if (!h2c) return false;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === "upgrade" || name === "http2-settings") continue;
    if (name === "connection") {
      const tokens = (raw[i + 1] as string).split(",").map((t) => t.trim()).filter((t) => t && !["upgrade", "http2-settings"].includes(t.toLowerCase()));
      if (tokens.length) kept.push(raw[i] as string, tokens.join(", "));
      continue;
    }
    kept.push(raw[i] as string, raw[i + 1] as string);
  }
  head.rawHeaders = kept;
  head.upgrade = false;
  return true;
}

/** The server an origin-form request's Host names, unless it names none or pryx itself. */
function hostHeaderServer(host: string | undefined, bound: readonly Address[]): { host: string; port: number } | undefined {
  const authority = host === undefined ? undefined : parseAuthority(host.trim());
  if (!authority || authority.host === "") return undefined;
  const server = { host: authority.host, port: authority.port ?? 80 };
  return isOwnAddress([server.host, server.port], bound) ? undefined : server;
}
