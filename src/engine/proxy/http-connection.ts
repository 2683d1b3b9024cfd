import type net from "node:net";
import { Duplex } from "node:stream";
import { Http1Parser, type MessageHead } from "../http1/parser.ts";
import { Headers } from "../flow/headers.ts";
import { HTTPFlow, Request, Response, defaultReason } from "../flow/http.ts";
import { FlowError, FlowKilled } from "../flow/flow.ts";
import { Client as ClientConn, Server, formatAddress, type Address, type Client } from "../flow/connection.ts";
import { forwardedFields, framedBody, isChunked, chunk as chunkOf, lastChunk, plainResponse, requestHead, responseHead } from "../http1/serialize.ts";
import { Incoming } from "./incoming.ts";
import { Upstream, UpstreamError } from "./upstream.ts";
import type { ProxyContext } from "./context.ts";
import type { Tunnel } from "./tunnel.ts";

/** Where requests on this connection go when they do not name a host (inside a tunnel, or reverse mode). */
export interface ConnectionTarget {
  scheme: "http" | "https";
  host: string;
  port: number;
  /** Reverse mode rewrites the Host header to the target's, as mitmproxy does with keep_host_header off. */
  rewriteHost: boolean;
}

const ONBOARDING_HOST = "pryx.it";

/** A failure that already has the status and text the client should see. */
class ClientFacingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One client connection speaking HTTP/1.1: parses requests, runs each exchange through the
 * hooks in the seed's order (requestheaders, request, [server_connect, server_connected],
 * responseheaders, response | error), forwards exactly what was received or edited, and
 * keeps both sides alive between requests.
 */
export class HttpConnection {
  private readonly parser: Http1Parser;
  private readonly queue: Incoming[] = [];
  private current: Incoming | undefined;
  private processing = false;
  private readonly upstreams = new Map<string, Upstream>();
  private closed = false;
  /** The socket was handed to a tunnel or relay: this handler no longer owns it. */
  private detached = false;
  private liveFlow: HTTPFlow | undefined;
  private responseStarted = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly socket: net.Socket,
    readonly client: Client,
    private readonly target: ConnectionTarget | undefined,
    private readonly tunnel: Tunnel,
  ) {
    this.parser = new Http1Parser("request", {
      onHead: (head) => {
        this.current = new Incoming(head);
        this.queue.push(this.current);
        return undefined;
      },
      onBody: (c) => this.current?.push(c),
      onComplete: (trailers) => {
        this.current?.finish(trailers);
        this.current = undefined;
      },
    });
  }

  /** Starts reading; `initial` holds bytes already read from the socket (after a CONNECT, say). */
  start(initial?: Buffer): void {
    this.socket.on("data", (d: Buffer) => this.feed(d));
    this.socket.on("end", () => this.onClientGone("client closed the connection"));
    this.socket.on("close", () => this.onClientGone("client disconnected"));
    this.socket.on("error", () => undefined);
    if (initial && initial.length) this.feed(initial);
  }

  private feed(d: Buffer): void {
    if (this.closed) return;
    const r = this.parser.execute(d);
    if (r.kind === "error") {
      this.ctx.log.warn(`${formatAddress(this.client.peername)}: ${r.error.message}`);
      this.closed = true;
      if (!this.responseStarted) this.socket.end(plainResponse(r.error.status, defaultReason(r.error.status), `pryx: ${r.error.message}`, true));
      else this.socket.destroy();
      return;
    }
    if (r.kind === "upgrade") {
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
          this.closeAfterResponse();
          return;
        }
        if (this.queue.length <= 1 && !this.closed) this.socket.resume();
      }
    } finally {
      this.processing = false;
    }
  }

  private closeAfterResponse(): void {
    this.closed = true;
    if (!this.socket.destroyed) this.socket.end();
    this.closeUpstreams();
  }

  /** Runs one request/response exchange. Returns whether the client connection stays open. */
  private async exchange(inc: Incoming): Promise<boolean> {
    const head = inc.head;
    if (head.method === "CONNECT") return this.connect(inc);
    let request: Request;
    try {
      request = this.buildRequest(head);
    } catch (err) {
      const e = err as ClientFacingError;
      this.socket.write(plainResponse(e.status, defaultReason(e.status), `pryx: ${e.message}`, true));
      return false;
    }
    const flow = new HTTPFlow(this.client, new Server([request.host, request.port]), request);
    this.liveFlow = flow;
    this.responseStarted = false;
    this.ctx.store.add(flow);
    let keepAlive = head.keepAlive && !inc.upgradeRest;
    try {
      await this.runRequest(flow, inc);
      const upgraded = await this.runResponse(flow, inc);
      if (upgraded) return false;
      const res = flow.response as Response;
      if (res.headers.get("connection")?.toLowerCase().includes("close")) keepAlive = false;
    } catch (err) {
      keepAlive = await this.failFlow(flow, err) && keepAlive;
    } finally {
      flow.live = false;
      this.liveFlow = undefined;
      this.ctx.notify(flow);
    }
    return keepAlive && !this.closed;
  }

  private buildRequest(head: MessageHead): Request {
    const headers = Headers.fromRaw(head.rawHeaders);
    const common = { method: head.method, http_version: head.httpVersion, headers, content: undefined, timestamp_start: Date.now() / 1000 };
    if (!head.url.startsWith("/") && head.url !== "*") {
      let u: URL;
      try {
        u = new URL(head.url);
      } catch {
        throw new ClientFacingError(400, `invalid request target ${JSON.stringify(head.url)}`);
      }
      const scheme = u.protocol.replace(/:$/, "");
      if (scheme !== "http" && scheme !== "https") throw new ClientFacingError(400, `unsupported scheme ${scheme} in ${head.url}`);
      const port = u.port ? Number(u.port) : scheme === "https" ? 443 : 80;
      // Keep the path exactly as sent (URL would normalise it).
      const afterAuthority = head.url.slice(head.url.indexOf("//") + 2);
      const slash = afterAuthority.search(/[/?]/);
      const rawPath = slash === -1 ? "/" : afterAuthority.slice(slash);
      return new Request({ ...common, scheme, host: u.hostname.replace(/^\[|\]$/g, ""), port, path: rawPath.startsWith("?") ? `/${rawPath}` : rawPath });
    }
    if (!this.target) throw new ClientFacingError(400, "this is a proxy: send requests with an absolute URL (for example curl -x http://HOST:PORT http://example.com/)");
    const req = new Request({ ...common, scheme: this.target.scheme, host: this.target.host, port: this.target.port, path: head.url });
    if (this.target.rewriteHost && req.headers.has("host")) req.headers.set("host", req.hostHeader);
    return req;
  }

  private async runRequest(flow: HTTPFlow, inc: Incoming): Promise<void> {
    const { addons } = this.ctx;
    const expect = flow.request.headers.get("expect");
    if (expect?.toLowerCase() === "100-continue" && !inc.complete) {
      // Answer for the server so the client sends its body; the server sees no Expect (as mitmproxy does).
      this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      flow.request.headers.delete("expect");
    }
    await addons.trigger("requestheaders", flow);
    await this.waitIfIntercepted(flow);
    if (flow.request.stream && !flow.response) {
      await this.streamRequest(flow, inc);
      return;
    }
    await inc.whenComplete();
    if (this.closed && !inc.complete) throw new Error("client disconnected");
    flow.request.raw_content = inc.body();
    if (inc.trailers.length) flow.request.trailers = Headers.fromRaw(inc.trailers);
    flow.request.timestamp_end = Date.now() / 1000;
    this.ctx.notify(flow);
    if (!flow.response) {
      await addons.trigger("request", flow);
      await this.waitIfIntercepted(flow);
    }
    if (!flow.response && this.ctx.tls && flow.request.pretty_host === ONBOARDING_HOST) {
      const page = this.ctx.tls.onboarding(flow.request.path);
      flow.response = new Response({ status_code: page.status, headers: page.headers, content: page.body });
      flow.response.timestamp_end = Date.now() / 1000;
    }
  }

  private async waitIfIntercepted(flow: HTTPFlow): Promise<void> {
    if (!flow.intercepted) return;
    this.ctx.notify(flow);
    await flow.waitForResume();
    this.ctx.notify(flow);
  }

  /** Streams the request body to the server as it arrives (flow.request.stream). */
  private async streamRequest(flow: HTTPFlow, inc: Incoming): Promise<void> {
    const up = await this.upstreamFor(flow);
    const req = flow.request;
    const chunked = isChunked(req.headers);
    up.write(requestHead(req, forwardedFields(req.headers, false), this.requestTarget(flow)));
    await new Promise<void>((resolve) => {
      inc.stream((c) => {
        if (!up.write(chunked ? chunkOf(c) : c)) {
          this.socket.pause();
          up.rawSocket?.once("drain", () => this.socket.resume());
        }
      });
      void inc.whenComplete().then(() => {
        if (chunked) up.write(lastChunk(inc.trailers.length ? Headers.fromRaw(inc.trailers) : undefined));
        resolve();
      });
    });
    req.timestamp_end = Date.now() / 1000;
    flow.metadata["pryx.requestSent"] = true;
    this.pendingUpstream = up;
  }

  private pendingUpstream: Upstream | undefined;

  private requestTarget(flow: HTTPFlow): string {
    const req = flow.request;
    if (this.ctx.options.get<string[]>("mode").some((m) => m.startsWith("upstream:")) && req.scheme === "http") return req.url;
    return req.path;
  }

  private async upstreamFor(flow: HTTPFlow): Promise<Upstream> {
    const req = flow.request;
    const tlsUp = req.scheme === "https";
    const address: Address = [req.host, req.port];
    const key = `${formatAddress(address)}|${tlsUp ? "tls" : "tcp"}`;
    const existing = this.upstreams.get(key);
    if (existing && !existing.closed && !existing.busy) {
      flow.server_conn = existing.server;
      return existing;
    }
    const up = new Upstream(this.ctx, this.client, address, tlsUp, req.pretty_host);
    flow.server_conn = up.server;
    await up.connect();
    this.upstreams.set(up.key, up);
    this.ctx.notify(flow);
    return up;
  }

  /** Gets the response (from the server, or as set by an addon) and sends it. Returns true when the connection was upgraded. */
  private async runResponse(flow: HTTPFlow, inc: Incoming): Promise<boolean> {
    const { addons } = this.ctx;
    if (flow.response) {
      // Answered by an addon or an edit in `request`: no server, straight to the response hook.
      await addons.trigger("response", flow);
      await this.waitIfIntercepted(flow);
      this.sendResponse(flow);
      return false;
    }
    const sent = this.pendingUpstream;
    this.pendingUpstream = undefined;
    let up = sent ?? (await this.upstreamFor(flow));
    let result: UpstreamResult;
    try {
      result = await this.roundTrip(flow, up, sent !== undefined);
    } catch (err) {
      // A reused keep-alive connection the server had already closed: try once on a fresh one.
      if (!(err instanceof StaleConnection) || sent) throw err;
      this.upstreams.delete(up.key);
      up = await this.upstreamFor(flow);
      result = await this.roundTrip(flow, up, false);
    }
    if (result === "upgraded") return this.relayUpgrade(flow, inc, up);
    await addons.trigger("response", flow);
    await this.waitIfIntercepted(flow);
    if (!(flow.response as Response | undefined)?.stream) this.sendResponse(flow);
    return false;
  }

  /** Sends the request (unless already streamed) and reads the response, firing responseheaders. */
  private roundTrip(flow: HTTPFlow, up: Upstream, alreadySent: boolean): Promise<UpstreamResult> {
    const req = flow.request;
    const isHead = req.method === "HEAD";
    const upgrading = req.headers.has("upgrade");
    return new Promise<UpstreamResult>((resolve, reject) => {
      let response: Response | undefined;
      let streaming = false;
      let headDone: Promise<void> = Promise.resolve();
      const body: Buffer[] = [];
      let bodyLen = 0;
      let gotAny = false;
      up.startExchange(
        {
          onHead: (head) => {
            gotAny = true;
            if (head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101) {
              // Interim responses (100 Continue, 103 Early Hints) go straight to the client.
              this.socket.write(responseHead(new Response({ status_code: head.statusCode, reason: head.statusMessage, http_version: head.httpVersion, headers: Headers.fromRaw(head.rawHeaders) })));
              return;
            }
            response = new Response({ status_code: head.statusCode, reason: head.statusMessage, http_version: head.httpVersion, headers: Headers.fromRaw(head.rawHeaders) });
            flow.response = response;
            this.ctx.notify(flow);
            up.rawSocket?.pause();
            headDone = this.ctx.addons.trigger("responseheaders", flow).then(() => {
              if (response?.stream) {
                streaming = true;
                this.responseStarted = true;
                this.socket.write(responseHead(response));
                for (const b of body.splice(0)) this.writeBodyChunk(response, b);
              }
              up.rawSocket?.resume();
            });
          },
          onBody: (c) => {
            if (streaming && response) this.writeBodyChunk(response, c);
            else {
              const copy = Buffer.from(c);
              body.push(copy);
              bodyLen += copy.length;
            }
          },
          onComplete: (trailers) => {
            if (!response) return; // the end of an interim response
            const res = response;
            void headDone.then(() => {
              if (trailers.length) res.trailers = Headers.fromRaw(trailers);
              res.timestamp_end = Date.now() / 1000;
              if (streaming) {
                if (isChunked(res.headers)) this.socket.write(lastChunk(res.trailers));
                res.raw_content = undefined;
              } else {
                res.raw_content = body.length === 1 ? (body[0] as Buffer) : Buffer.concat(body, bodyLen);
              }
              const upgraded = res.status_code === 101 && upgrading;
              if (upgraded) {
                resolve("upgraded");
                return;
              }
              up.endExchange();
              if (!up.closed && !(res.headers.get("connection") ?? "").toLowerCase().includes("close")) {
                // keep for reuse
              } else {
                up.close();
                this.upstreams.delete(up.key);
              }
              resolve("done");
            }, reject);
          },
          onError: (err) => {
            up.endExchange();
            this.upstreams.delete(up.key);
            if (!gotAny && !alreadySent && up.server.timestamp_tcp_setup && flow.metadata["pryx.reused"]) reject(new StaleConnection(err.message));
            else reject(err instanceof UpstreamError ? err : new UpstreamError(`server ${formatAddress(up.server.address)}: ${err.message}`));
          },
        },
        isHead,
      );
      if (!alreadySent) {
        flow.metadata["pryx.reused"] = up.server.timestamp_tcp_setup !== undefined && this.wasUsed.has(up);
        this.wasUsed.add(up);
        const fields = forwardedFields(req.headers, upgrading);
        up.write([requestHead(req, fields, this.requestTarget(flow)), ...framedBody(req.headers, req.raw_content, req.trailers)]);
      }
    });
  }

  private readonly wasUsed = new WeakSet<Upstream>();

  private writeBodyChunk(res: Response, c: Buffer): void {
    const ok = isChunked(res.headers) ? chunkOf(c).every((b) => this.socket.write(b)) : this.socket.write(c);
    if (!ok) {
      // Streaming: hold the server until the client catches up.
      const up = [...this.upstreams.values()].find((u) => u.busy);
      up?.rawSocket?.pause();
      this.socket.once("drain", () => up?.rawSocket?.resume());
    }
  }

  private sendResponse(flow: HTTPFlow): void {
    const res = flow.response as Response;
    const req = flow.request;
    this.responseStarted = true;
    const noBody = req.method === "HEAD" || res.status_code === 204 || res.status_code === 304;
    const out = [responseHead(res)];
    if (!noBody) out.push(...framedBody(res.headers, res.raw_content, res.trailers));
    this.socket.cork();
    for (const b of out) this.socket.write(b);
    this.socket.uncork();
    const delimitedByClose = !noBody && !res.headers.has("content-length") && !isChunked(res.headers);
    if (delimitedByClose) this.closed = true;
  }

  /** After a 101 Switching Protocols, bytes flow both ways untouched. */
  private relayUpgrade(flow: HTTPFlow, inc: Incoming, up: Upstream): boolean {
    this.sendResponse(flow);
    const server = up.detach();
    this.upstreams.delete(up.key);
    if (!server) return true;
    this.closed = true;
    this.detached = true;
    this.tunnel.relayRaw(this.socket, server, inc.upgradeRest, up.rest);
    return true;
  }

  /** Records the error, fires `error`, answers 502 when nothing was sent yet. Returns whether the connection can go on. */
  private async failFlow(flow: HTTPFlow, err: unknown): Promise<boolean> {
    const killed = err instanceof FlowKilled;
    const msg = killed ? (flow.error?.msg ?? "Connection killed.") : (err as Error).message;
    if (!killed) flow.error = new FlowError(msg);
    await this.ctx.addons.trigger("error", flow);
    if (killed) {
      this.closed = true;
      this.socket.destroy();
      return false;
    }
    if (this.socket.destroyed || this.closed) return false;
    if (this.responseStarted) {
      this.socket.destroy();
      return false;
    }
    const status = err instanceof ClientFacingError ? err.status : 502;
    this.responseStarted = true;
    this.socket.write(plainResponse(status, defaultReason(status), `pryx: ${msg}`, false));
    return true;
  }

  private onClientGone(reason: string): void {
    if (this.closed && this.socket.destroyed && !this.liveFlow) {
      void this.disconnected();
      return;
    }
    this.closed = true;
    const flow = this.liveFlow;
    if (flow && flow.live && !flow.error) {
      flow.error = new FlowError(reason);
      if (flow.intercepted) flow.resume();
    }
    for (const inc of this.queue) if (!inc.complete) inc.finish([]);
    if (this.socket.destroyed) void this.disconnected();
  }

  private disconnectedFired = false;
  private async disconnected(): Promise<void> {
    if (this.disconnectedFired) return;
    this.disconnectedFired = true;
    this.closeUpstreams();
    this.parser.close();
    this.client.timestamp_end = Date.now() / 1000;
    this.ctx.connections.delete(this);
    await this.ctx.addons.trigger("client_disconnected", this.client);
  }

  private closeUpstreams(): void {
    for (const up of this.upstreams.values()) up.close();
    this.upstreams.clear();
  }

  /** CONNECT: http_connect decides; a 2xx (or no response) opens the tunnel. */
  private async connect(inc: Incoming): Promise<boolean> {
    const head = inc.head;
    const [host, portText] = splitAuthority(head.url);
    const port = Number(portText);
    const request = new Request({ method: "CONNECT", scheme: "http", host, port, path: "", authority: head.url, http_version: head.httpVersion, headers: Headers.fromRaw(head.rawHeaders), content: new Uint8Array(0) });
    const flow = new HTTPFlow(this.client, new Server([host, port]), request);
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
      this.socket.end(plainResponse(400, "Bad Request", `pryx: invalid CONNECT target ${JSON.stringify(head.url)}: expected host:port`, true));
      return false;
    }
    await this.ctx.addons.trigger("http_connect", flow);
    const res = flow.response;
    if (res && (res.status_code < 200 || res.status_code >= 300)) {
      // A refused tunnel is worth seeing in the flow list.
      flow.live = false;
      this.ctx.store.add(flow);
      this.sendResponse(flow);
      return false;
    }
    this.socket.write(res ? responseHead(res) : "HTTP/1.1 200 Connection established\r\n\r\n");
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    this.socket.removeAllListeners("close");
    this.closed = true;
    this.detached = true;
    this.closeUpstreams();
    this.parser.close();
    this.disconnectedFired = true;
    this.ctx.connections.delete(this);
    this.tunnel.open(this.socket, this.client, { host, port }, inc.upgradeRest ?? Buffer.alloc(0));
    return false;
  }

  /** Runs a replayed flow's exchange: request hook, server, response hooks. */
  async replay(flow: HTTPFlow): Promise<void> {
    this.ctx.store.add(flow);
    this.liveFlow = flow;
    const inc = new Incoming({ httpVersion: flow.request.http_version, rawHeaders: [], method: flow.request.method, url: flow.request.path, statusCode: 0, statusMessage: "", upgrade: false, keepAlive: false });
    inc.finish([]);
    try {
      await this.ctx.addons.trigger("request", flow);
      await this.waitIfIntercepted(flow);
      await this.runResponse(flow, inc);
    } catch (err) {
      flow.error = err instanceof FlowKilled ? flow.error : new FlowError((err as Error).message);
      await this.ctx.addons.trigger("error", flow);
    } finally {
      flow.live = false;
      this.liveFlow = undefined;
      this.closeUpstreams();
      this.ctx.notify(flow);
    }
  }

  close(reason: string): void {
    const flow = this.liveFlow;
    if (flow && !flow.error) flow.error = new FlowError(reason);
    this.socket.destroy();
  }
}

type UpstreamResult = "done" | "upgraded";

class StaleConnection extends Error {}

export function splitAuthority(authority: string): [string, string] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(authority) ?? /^([^:]+):(\d+)$/.exec(authority);
  return m ? [m[1] as string, m[2] as string] : [authority, ""];
}

/** A socket that swallows writes: replays have no client to answer. */
class NullSocket extends Duplex {
  override _read(): void {}
  override _write(_c: unknown, _e: BufferEncoding, cb: () => void): void {
    cb();
  }
}

/** Sends a copy of `flow`'s request again as a new flow marked is_replay, through the same hooks. */
export async function replayFlow(ctx: ProxyContext, tunnel: Tunnel, original: HTTPFlow): Promise<HTTPFlow> {
  const client = new ClientConn(["replay", 0], ["replay", 0], "replay");
  const conn = new HttpConnection(ctx, new NullSocket() as unknown as net.Socket, client, undefined, tunnel);
  const request = original.request.clone();
  request.timestamp_start = Date.now() / 1000;
  request.timestamp_end = request.timestamp_start;
  const flow = new HTTPFlow(client, new Server([request.host, request.port]), request);
  flow.is_replay = "request";
  await conn.replay(flow);
  return flow;
}
