import http2 from "node:http2";
import { H2_HEADER_LIMITS } from "./h2-limits.ts";
import { Duplex } from "node:stream";
import type tls from "node:tls";
import { Headers } from "../flow/headers.ts";
import { HTTPFlow, Request, type Response } from "../flow/http.ts";
import { FlowError } from "../flow/flow.ts";
import { Server, formatAddress, type Client } from "../flow/connection.ts";
import { Incoming } from "./incoming.ts";
import { UpstreamPool } from "./pool.ts";
import { ClientFacingError, HttpExchange, errorHook, type ClientWriter } from "./exchange.ts";
import { fromH2Raw, toH2Fields } from "./h2-headers.ts";
import { h2ErrorName } from "./h2-errors.ts";
import type { ConnectionTarget } from "./http-connection.ts";
import { acceptedBasic } from "./proxy-credentials.ts";
import type { ProxyContext } from "./context.ts";
import { clientDisconnected } from "./client-gone.ts";
import { now } from "../flow/now.ts";
import { FRAME_GOAWAY, FRAME_RST_STREAM, SentFrames, type SentFrame } from "./h2-frame-watch.ts";

/**
 * A JS-level duplex over the TLS socket. http2 sessions otherwise take over the socket's
 * native handle, which fails for a TLSSocket layered on a socket whose first bytes were
 * already read in JS (the tunnel peeked at the ClientHello): the session never sees data.
 */
function jsBridge(socket: tls.TLSSocket, sent: (chunk: Buffer) => void): Duplex {
  const bridge = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      sent(chunk);
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on("data", (c: Buffer) => {
    if (!bridge.push(c)) socket.pause();
  });
  socket.on("end", () => bridge.push(null));
  socket.on("close", () => bridge.destroy());
  socket.on("error", (e) => bridge.destroy(e));
  return bridge;
}

/**
 * A response relayed to an HTTP/2 client has the headers the flow has: Node's respond() adds a
 * `date` of its own otherwise, which the server never sent and the flow view does not show.
 */
const RELAYED = { sendDate: false } as http2.ServerStreamResponseOptions;

/** Whether two authorities are one, written with or without their scheme's default port. */
function sameAuthority(a: string, b: string): boolean {
  return a.toLowerCase().replace(/:(443|80)$/, "") === b.toLowerCase().replace(/:(443|80)$/, "");
}

/** Writes one response to an HTTP/2 client stream. */
class H2Writer implements ClientWriter {
  started = false;
  /** Node refuses a :status past RFC 9110's range, which HTTP/1's three digits go beyond. */
  readonly maxStatus = 599;

  constructor(private readonly stream: http2.ServerHttp2Stream) {}

  get gone(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  interim(res: Response): void {
    // With its fields: a 103's Link headers are what it is for.
    if (!this.gone) this.stream.additionalHeaders(toH2Fields(res.headers, { ":status": res.status_code }));
  }

  continue100(): void {
    // curl waits for it (a second) before it sends the body, over HTTP/2 as over HTTP/1.1.
    if (!this.gone) this.stream.additionalHeaders({ ":status": 100 });
  }

  whole(flow: HTTPFlow): void {
    const res = flow.response as Response;
    if (this.gone) return;
    this.started = true;
    const noBody = flow.request.method === "HEAD" || res.status_code === 204 || res.status_code === 304;
    const body = noBody ? undefined : res.raw_content;
    const fields = toH2Fields(res.headers, { ":status": res.status_code });
    if (!noBody && res.plainHeaders.has("transfer-encoding")) fields["content-length"] = String(body?.length ?? 0);
    if (!noBody && (res.trailers?.flat.length ?? 0) > 0) {
      this.respondWithTrailers(fields, res);
      this.stream.end(body);
      return;
    }
    this.stream.respond(fields, { endStream: !body || body.length === 0, ...RELAYED });
    if (body && body.length) this.stream.end(body);
  }

  head(flow: HTTPFlow): void {
    const res = flow.response as Response;
    if (this.gone) return;
    this.started = true;
    // A streamed body's trailers (gRPC's status among them) are known only at its end.
    this.respondWithTrailers(toH2Fields(res.headers, { ":status": res.status_code }), res);
  }

  /** Responds leaving the stream open after the body for the response's trailers (none is an empty set), as HTTP/2 sends them. */
  private respondWithTrailers(fields: http2.OutgoingHttpHeaders, res: Response): void {
    this.stream.respond(fields, { waitForTrailers: true, ...RELAYED });
    this.stream.once("wantTrailers", () => {
      if (this.gone) return;
      try {
        this.stream.sendTrailers(res.trailers ? toH2Fields(res.trailers, {}) : {});
      } catch {
        // A field Node will not send (an addon's trailer whose name is no token): thrown in this
        // event, out of the exchange's reach, it left the stream open for good. Reset, the client knows.
        this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
  }

  chunk(_res: Response, data: Buffer): boolean {
    return this.gone ? true : this.stream.write(data);
  }

  onDrain(fn: () => void): void {
    this.stream.once("drain", fn);
  }

  end(): void {
    if (!this.gone) this.stream.end();
  }

  error(status: number, text: string): void {
    if (this.gone) return;
    this.started = true;
    this.stream.respond({ ":status": status, "content-type": "text/plain; charset=utf-8" });
    this.stream.end(`${text}\n`);
  }

  /** Only this stream ends: the connection's other streams go on. */
  abort(): void {
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/**
 * Why a client's stream closed before its exchange was over. nghttp2 itself resets a stream
 * whose DATA does not add up to its content-length (RFC 9113 8.1.1) with PROTOCOL_ERROR: that
 * is said as what the client sent, not as the client's own reset.
 */
function streamEndedEarly(rstCode: number, declared: string | undefined, received: number): string {
  if (rstCode === http2.constants.NGHTTP2_PROTOCOL_ERROR && declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) !== received) {
    return `the client's request body did not match its Content-Length (${declared.trim()}; ${received} bytes came before the stream was reset, PROTOCOL_ERROR, as RFC 9113 8.1.1 has it)`;
  }
  // Any other code may be nghttp2's own, for something else the client got wrong.
  if (rstCode !== http2.constants.NGHTTP2_CANCEL && rstCode !== http2.constants.NGHTTP2_NO_ERROR) return `the stream was reset (${h2ErrorName(rstCode)})`;
  return "client reset the stream";
}

/**
 * A client connection that negotiated h2: every stream is its own exchange, run
 * concurrently, so an intercepted stream does not hold up the others.
 */
export class Http2Connection {
  private readonly pool: UpstreamPool;
  private readonly live = new Set<HTTPFlow>();
  private session: http2.ServerHttp2Session | undefined;
  private disconnected = false;
  /** Streams the session gave pryx, still open (or just closed): a reset of any other is nghttp2's own. */
  private readonly seen = new Set<number>();
  /** Node's word for what broke the connection, when it gave one (a bad connection preface). */
  private sessionError: Error | undefined;
  /** The error code of a GOAWAY the session sent: said when the session is over, with Node's error, which comes after it. */
  private goawaySent: number | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly socket: tls.TLSSocket,
    readonly client: Client,
    private readonly target: ConnectionTarget,
  ) {
    this.pool = new UpstreamPool(ctx, client, true, target.rewriteHost ? undefined : [target.host, target.port]);
  }

  start(): void {
    // A plain-text h2 server over the already-decrypted socket: TLS was done by the tunnel.
    const server = http2.createServer(H2_HEADER_LIMITS);
    server.on("session", (session) => {
      this.session = session;
      session.on("error", (err: Error) => (this.sessionError = err));
      session.on("close", () => {
        if (this.goawaySent !== undefined) this.ctx.log.warn(`${formatAddress(this.client.peername)}: closed the HTTP/2 connection with GOAWAY (${h2ErrorName(this.goawaySent)}): ${this.goawayReason()}`);
        this.onClose();
      });
      this.closeWhenIdle(session);
    });
    server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
      const id = stream.id as number;
      this.seen.add(id);
      // Later: the stream's own RST_STREAM is written after its close is known.
      stream.once("close", () => setImmediate(() => this.seen.delete(id)));
      void this.onStream(stream, headers, raw);
    });
    this.ctx.connections.add(this);
    const frames = new SentFrames((f) => this.onSentFrame(f));
    server.emit("connection", jsBridge(this.socket, (c) => frames.push(c)));
  }

  /**
   * A stream nghttp2 refused before Node handed it over (RFC 9113 8.1.1's malformed requests: a
   * :path with a space, a missing or unknown pseudo-header; a stream past the concurrency
   * limit) leaves no flow: said in the event log at least, never lost silently.
   */
  private onSentFrame(frame: SentFrame): void {
    if (frame.type === FRAME_RST_STREAM && frame.head.length >= 4 && !this.seen.has(frame.streamId)) {
      const who = formatAddress(this.client.peername);
      const code = frame.head.readUInt32BE(0);
      const why = code === http2.constants.NGHTTP2_PROTOCOL_ERROR ? "a malformed request (RFC 9113 8.1.1: a bad or missing pseudo-header such as a :path with a space, or a forbidden field)" : "a request it could not take";
      this.ctx.log.warn(`${who}: HTTP/2 stream ${frame.streamId} was refused (${h2ErrorName(code)}) before pryx saw it: ${why}; no flow was recorded`);
    } else if (frame.type === FRAME_GOAWAY && frame.head.length >= 8) {
      const code = frame.head.readUInt32BE(4);
      if (code !== http2.constants.NGHTTP2_NO_ERROR) this.goawaySent = code;
    }
  }

  /**
   * tcp_timeout for an HTTP/2 connection, as for HTTP/1 ones: with no frame either way for that
   * long and no stream in progress (a paused one counts), it is closed with a GOAWAY.
   */
  private closeWhenIdle(session: http2.ServerHttp2Session): void {
    const seconds = this.ctx.options.get<number>("tcp_timeout");
    if (!(seconds > 0)) return;
    session.on("timeout", () => {
      if (this.live.size > 0) {
        session.setTimeout(seconds * 1000);
        return;
      }
      this.ctx.log.info(`${formatAddress(this.client.peername)}: closing the HTTP/2 connection, idle for ${seconds} s (tcp_timeout)`);
      session.close();
    });
    session.setTimeout(seconds * 1000);
  }

  private goawayReason(): string {
    const said = this.sessionError?.message;
    if (said === undefined) return "the client broke the protocol";
    // A client that negotiated h2 and then spoke something else (HTTP/1.1, TLS to a TLS-terminating hop).
    if (/bad client magic/i.test(said)) return `the client negotiated HTTP/2 (ALPN h2) but did not begin with its connection preface (Node: ${said})`;
    return said;
  }

  private async onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): Promise<void> {
    stream.on("error", () => undefined);
    // A reverse proxy's streams need proxyauth's credentials, as its HTTP/1 requests do.
    const check = this.target.rewriteHost ? this.ctx.credentials.for(this.ctx.options.get<string | undefined>("proxyauth")) : undefined;
    const accepted = check && acceptedBasic(check, String(headers["authorization"] ?? ""));
    if (accepted) this.ctx.credentials.remember(this.client, accepted);
    if (check && !accepted) {
      stream.respond({ ":status": 401, "www-authenticate": 'Basic realm="pryx"', "content-type": "text/plain" });
      stream.end("pryx: authentication required\n");
      return;
    }
    // RFC 9113 8.3.1: a Host header that names another authority than :authority makes the
    // request malformed (mitmproxy refuses it too); taken as it was, it rewrote :authority.
    const hostHeader = headers["host"];
    if (headers[":authority"] !== undefined && hostHeader !== undefined && !sameAuthority(String(hostHeader), String(headers[":authority"]))) {
      stream.respond({ ":status": 400, "content-type": "text/plain" });
      stream.end(`pryx: the Host header (${String(hostHeader)}) names another authority than :authority (${String(headers[":authority"])}); RFC 9113 8.3.1 makes such a request malformed\n`);
      return;
    }
    const authority = String(headers[":authority"] ?? headers["host"] ?? `${this.target.host}:${this.target.port}`);
    // As in HTTP/1 inside a tunnel: the server is the one the CONNECT named (the client may
    // have resolved the name itself); the authority stays in request.authority (no Host header is
    // made up: mitmproxy's flow has the headers the client sent) and the SNI.
    // A reverse target speaks its own scheme, whatever the client used to reach pryx.
    const request = new Request({
      method: String(headers[":method"] ?? "GET"),
      scheme: this.target.rewriteHost ? this.target.scheme : String(headers[":scheme"] ?? "https"),
      host: this.target.host,
      port: this.target.port,
      path: String(headers[":path"] ?? "/"),
      http_version: "HTTP/2.0",
      headers: Headers.fromRaw(fromH2Raw(raw)),
      content: undefined,
      authority,
      timestamp_start: now(),
    });
    if (this.target.rewriteHost && !this.ctx.options.get<boolean>("keep_host_header")) {
      // Reverse mode, as over HTTP/1: the server is asked for its own name, not pryx's.
      request.authority = request.hostHeader;
      if (request.plainHeaders.has("host")) request.plainHeaders.set("host", request.hostHeader);
    }
    // pryx's own credentials are not the server's business.
    if (check) request.plainHeaders.delete("authorization");
    const flow = new HTTPFlow(this.client, new Server([request.host, request.port]), request);
    this.ctx.credentials.stamp(flow);
    const body = new Incoming({ httpVersion: "HTTP/2.0", rawHeaders: [], method: request.method, url: request.path, statusCode: 0, statusMessage: "", upgrade: false, keepAlive: true });
    // A CONNECT stream (RFC 9113 8.5) is a tunnel, whose bytes never end as a body does: taken as a
    // request, it waited for that end until the client gave up. pryx opens no tunnel inside an
    // HTTP/2 connection (mitmproxy refuses the connection): refused at once, with its flow.
    const tunnel = request.method === "CONNECT";
    if (tunnel) body.abort(new ClientFacingError(501, `CONNECT ${authority} inside an HTTP/2 connection is not supported; send the CONNECT over HTTP/1.1`));
    else {
      // HTTP/2 flow control then holds this stream alone when its server reads slowly.
      body.source = stream;
      stream.on("data", (c: Buffer) => body.push(c));
      // A request's trailers (gRPC clients send none, but HTTP/2 allows them) come before its end.
      let trailers: string[] = [];
      stream.on("trailers", (_h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => (trailers = raw ? fromH2Raw(raw) : []));
      stream.on("end", () => body.finish(trailers));
    }
    const exchange = new HttpExchange(this.ctx, flow, body, new H2Writer(stream), this.pool);
    stream.on("close", () => {
      if (!body.complete) body.abort();
      if (flow.live && !flow.error) {
        flow.error = new FlowError(streamEndedEarly(stream.rstCode, request.plainHeaders.get("content-length"), body.length));
        exchange.cancel();
        if (flow.intercepted) flow.resume();
      }
    });
    this.live.add(flow);
    await exchange.run();
    this.live.delete(flow);
    // The answer is whole; the tunnel's side the client keeps open is closed, not left holding a stream (RFC 9113 8.1).
    if (tunnel && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  private onClose(): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.pool.release();
    this.ctx.connections.delete(this);
    // mitmproxy's order, as over HTTP/1: the error hook of each flow the client left in progress
    // (its stream's close set the error), then client_disconnected. The exchanges' own error
    // hooks came after it.
    const failed = [...this.live].filter((f) => f.error);
    void Promise.all(failed.map((f) => errorHook(this.ctx, f))).then(() => clientDisconnected(this.ctx.addons, this.client));
  }

  close(reason: string): void {
    for (const f of this.live) if (!f.error) f.error = new FlowError(reason);
    this.session?.destroy();
    this.socket.destroy();
  }
}
