import { Headers } from "../flow/headers.ts";
import { Response, type HTTPFlow, type Request } from "../flow/http.ts";
import { FlowError, FlowKilled } from "../flow/flow.ts";
import type { MessageHead } from "../http1/parser.ts";
import type { ProxyContext } from "./context.ts";
import type { RequestBody, UpstreamChannel } from "./channel.ts";
import type { UpstreamPool } from "./pool.ts";
import { NotProcessed, UpstreamError, serverName, tlsErrorText } from "./upstream.ts";
import { ClientFacingError } from "./client-facing-error.ts";
import { formatAddress } from "../flow/connection.ts";
import { modifiedRequestBody, streamFunctionTail, throughStreamFunction } from "./stream-function.ts";
import { isWebSocketUpgrade } from "./websocket.ts";
import { WebSocketData } from "../flow/websocket.ts";
import { waitIfIntercepted } from "./paused.ts";
import { responseHasNoBody } from "../http1/serialize.ts";
import { announcedSize, bodySizes, firstThreshold, sizeVerdict, type BodySizes } from "../builtins/body-size.ts";
import { now } from "../flow/now.ts";
import { checkSendableRequest, checkSendableResponse, receivedHead, type ReceivedHead } from "../flow/sendable.ts";

/** How a response reaches the client, whichever protocol the client speaks. */
export interface ClientWriter {
  /** Whether any response byte has been sent (then an error can only close the connection). */
  readonly started: boolean;
  /** The client went away. */
  readonly gone: boolean;
  /** The highest status code the client's protocol carries (HTTP/2's, as Node sends it, stops at 599). */
  readonly maxStatus: number;
  /** An interim 1xx response (not 101). */
  interim(res: Response): void;
  /** Answers Expect: 100-continue on the server's behalf. */
  continue100(): void;
  /** A complete, buffered response. */
  whole(flow: HTTPFlow): void;
  /** Streaming: the head now, then chunks, then the end. `chunk` returns false when the client is behind. */
  head(flow: HTTPFlow): void;
  chunk(res: Response, data: Buffer): boolean;
  onDrain(fn: () => void): void;
  end(res: Response): void;
  /** A response made by the proxy (errors); `close` says the connection ends after it. */
  error(status: number, text: string, close?: boolean): void;
  /** Closes the client connection (a kill, or an error after the response started). */
  abort(): void;
}

export type ExchangeResult = { kind: "done"; keepAlive: boolean } | { kind: "upgraded"; channel: UpstreamChannel } | { kind: "failed"; keepAlive: boolean };

/** Whether a response's Connection header asks to close the connection after it (a token list). */
function saysClose(res: Response): boolean {
  return (res.plainHeaders.get("connection") ?? "").split(",").some((t) => t.trim().toLowerCase() === "close");
}

/**
 * Whether the server connection ends after this message, by mitmproxy's connection_close: a
 * "close" option, or HTTP/1.0 without "keep-alive". Either side's message decides.
 */
function endsConnection(m: Request | Response): boolean {
  const options = (m.plainHeaders.get("connection") ?? "").split(",").map((t) => t.trim().toLowerCase());
  return options.includes("close") || (m.http_version === "HTTP/1.0" && !options.includes("keep-alive"));
}

export { ClientFacingError };

/** A failure on a reused connection before any of the response came; `cause` is what to report. */
class StaleConnection extends Error {
  constructor(override readonly cause: UpstreamError) {
    super(cause.message);
  }
}

/** Methods a proxy may send again after a failure (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/**
 * One request/response exchange with the seed's hook order: requestheaders, request,
 * [server_connect, server_connected], responseheaders, response — or error. Intercepted
 * flows wait here, holding only their own exchange. Protocol-neutral: the client side is
 * a ClientWriter and the server side an UpstreamChannel, HTTP/1.1 or HTTP/2 alike.
 */
/**
 * A message whose stream function may change its body's length: the announced length would be
 * wrong, so an HTTP/1.1 one goes chunked (HTTP/2 frames need none).
 */
function lengthMayChange(m: Request | Response): void {
  if (!m.plainHeaders.has("content-length")) return;
  m.plainHeaders.delete("content-length");
  if (m.http_version === "HTTP/1.1") m.plainHeaders.set("transfer-encoding", "chunked");
}

export class HttpExchange {
  /** The channel the request went to, for cancel(). */
  private channel: UpstreamChannel | undefined;
  /** The request body as the server gets it, when a stream function changes it on the way. */
  private sent: RequestBody | undefined;
  private cancelled = false;
  /** The server's response is complete and its channel handed back (it may serve another flow now). */
  private upstreamDone = false;
  /** stream_large_bodies and body_size_limit as they were when the exchange began. */
  private readonly sizes: BodySizes;
  /** Each side's head as it came, before the hooks: an unsendable value still the peer's is said to be the peer's. */
  private clientHead: ReceivedHead | undefined;
  private serverHead: ReceivedHead | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly flow: HTTPFlow,
    private readonly body: RequestBody,
    private readonly writer: ClientWriter,
    private readonly pool: UpstreamPool,
  ) {
    this.sizes = bodySizes(ctx.options);
  }

  async run(): Promise<ExchangeResult> {
    const { flow, ctx } = this;
    ctx.store.add(flow);
    flow.onKill(() => this.killInTransit());
    let result: ExchangeResult | undefined;
    try {
      const streamed = await this.readRequest();
      result = await this.respond(streamed);
      return result;
    } catch (err) {
      result = { kind: "failed", keepAlive: await this.fail(err) };
      return result;
    } finally {
      flow.onKill(undefined);
      // An upgraded flow lives on (WebSocket messages); whoever relays it ends it.
      if (result?.kind !== "upgraded") flow.live = false;
      ctx.notify(flow);
    }
  }

  /**
   * The client gave up on this exchange (an HTTP/2 stream reset): the server's side of it
   * is stopped too, instead of being read to its end (forever, for a stream of events), and
   * a request still paused or waiting is never sent.
   */
  cancel(): void {
    this.cancelled = true;
    if (!this.upstreamDone) this.channel?.cancel(this.flow);
  }

  /**
   * `X` on a flow that is not paused. mitmproxy only notices at the flow's next hook (and not
   * at all while it waits on its server: mitmproxy#4711); here the client's connection is
   * closed at once, as the flow then says, and the server's side of the exchange is stopped.
   */
  private killInTransit(): void {
    this.cancel();
    this.writer.abort();
  }

  /** Replays skip reading: the request is already complete. */
  async runReplay(): Promise<void> {
    const { flow, ctx } = this;
    ctx.store.add(flow);
    flow.onKill(() => this.killInTransit());
    try {
      await ctx.addons.trigger("request", flow);
      await this.waitIfIntercepted();
      await this.respond(undefined);
    } catch (err) {
      await this.fail(err);
    } finally {
      flow.onKill(undefined);
      flow.live = false;
      ctx.notify(flow);
    }
  }

  /** Returns the channel the request body was streamed to, when it was. */
  private async readRequest(): Promise<UpstreamChannel | undefined> {
    const { flow, ctx, body } = this;
    const req = flow.request;
    // A body already refused as malformed will not come: no 100 Continue asks for it.
    if (req.plainHeaders.get("expect")?.toLowerCase() === "100-continue" && !body.complete && !body.aborted) {
      // A declared length over body_size_limit is refused now, before the client sends it all
      // for nothing (RFC 9110 10.1.1), rather than after a 100 Continue.
      if (sizeVerdict(this.sizes, announcedSize(req.plainHeaders)) === "limit") {
        throw new ClientFacingError(413, `Request body exceeds body_size_limit (${this.sizes.limit} bytes).`, true);
      }
      // Answer for the server so the client sends its body; the server sees no Expect (as mitmproxy does).
      this.writer.continue100();
      req.plainHeaders.delete("expect");
    }
    // stream_large_bodies by a declared length is decided before requestheaders, as mitmproxy's
    // StreamBodies addon decides it there: the hook sees `stream` set (and may unset it).
    if (sizeVerdict(this.sizes, announcedSize(req.plainHeaders)) === "stream") req.stream = true;
    this.clientHead = receivedHead("the client", req);
    await ctx.addons.trigger("requestheaders", flow);
    await this.waitIfIntercepted();
    // A request whose body so far was refused as malformed goes to no server, even streamed: it
    // fails here with its 400.
    if (body.failure) throw body.failure;
    await this.checkRequestSize();
    let streamedTo: UpstreamChannel | undefined;
    if (req.stream && !flow.response) {
      this.logStreaming("request to");
      body.keepStreamed = ctx.options.get<boolean>("store_streamed_bodies");
      if (typeof req.stream === "function") {
        this.sent = modifiedRequestBody(body, req.stream, (err) => this.streamFailed("request", err));
        lengthMayChange(req);
      }
      streamedTo = await this.acquire();
      this.pending = this.exchangeOn(streamedTo, true);
      // Awaited in respond(); until then a failure must not count as unhandled.
      this.pending.catch(() => undefined);
    }
    await body.whenComplete();
    // A malformed body fails the flow with its 400 (the `error` hook, not `request`, as mitmproxy's RequestProtocolError).
    if (!body.complete) throw body.failure ?? new Error("client disconnected");
    if (!streamedTo || body.keepStreamed) req.raw_content = body.body();
    if (body.trailers.length) req.trailers = Headers.fromRaw(body.trailers);
    req.timestamp_end = now();
    ctx.notify(flow);
    // A streamed request may have its server's answer already (a 401 sent early, a gRPC
    // stream's replies): that response is the server's, and the request still gets its hook.
    if (streamedTo || !flow.response) {
      await ctx.addons.trigger("request", flow);
      await this.waitIfIntercepted();
    }
    if (!streamedTo && !flow.response && ctx.tls && ctx.options.get<boolean>("onboarding") && req.pretty_host === ctx.options.get<string>("onboarding_host")) {
      const page = ctx.tls.onboarding(req.path);
      flow.response = new Response({ status_code: page.status, headers: page.headers, content: page.body });
      flow.response.timestamp_end = now();
    }
    return streamedTo;
  }

  /**
   * mitmproxy's check_body_size for the request, after its requestheaders hooks: by the
   * Content-Length, or (chunked, or HTTP/2 without one) by what arrives while it is buffered.
   * Over body_size_limit the flow fails with 413; over stream_large_bodies it streams.
   */
  private async checkRequestSize(): Promise<void> {
    const { body, sizes } = this;
    const req = this.flow.request;
    const threshold = firstThreshold(sizes);
    if (threshold === undefined) return;
    let expected = body.complete ? body.length : announcedSize(req.plainHeaders);
    for (;;) {
      const verdict = sizeVerdict(sizes, expected);
      if (verdict === "limit") {
        const rest = !body.complete;
        // The rest of the body is read and dropped, not kept; the connection closes after the answer.
        body.stream(() => undefined);
        throw new ClientFacingError(413, `Request body exceeds body_size_limit (${sizes.limit} bytes).`, rest);
      }
      if (verdict === "stream") req.stream = true;
      // Streamed (by an addon or here), a body is not checked again, as in mitmproxy.
      if (req.stream || body.complete) return;
      await body.whenCompleteOrOver(threshold);
      // The client went mid-body: readRequest reports it.
      if (body.aborted) return;
      expected = body.length;
    }
  }

  private pending: Promise<"done" | "upgraded"> | undefined;

  private waitIfIntercepted(): Promise<void> {
    return waitIfIntercepted(this.ctx, this.flow);
  }

  private async respond(streamedTo: UpstreamChannel | undefined): Promise<ExchangeResult> {
    const { flow, ctx, writer } = this;
    // With the request streamed to a server, a response here is that server's, sent or being sent.
    if (flow.response && !streamedTo) {
      // Answered by an addon or an edit: no server, straight to the response hook.
      await ctx.addons.trigger("response", flow);
      await this.waitIfIntercepted();
      // A revert while paused can undo the edit that made the response: the request then goes
      // to the server, as it would have without the edit.
      if (flow.response) {
        this.sendWhole();
        return { kind: "done", keepAlive: true };
      }
    }
    // A client that left while its request waited (paused, or in a slow hook) is answered by no
    // one: the request goes to no server. Its going is the flow's error already (the connection
    // records it, and resumes a paused flow, at the client's FIN, before its socket is destroyed).
    if (!streamedTo && (writer.gone || flow.error)) throw new Error("the client went away before the request was sent");
    let channel = streamedTo ?? (await this.acquire());
    let outcome: "done" | "upgraded";
    try {
      outcome = await (this.pending ?? this.exchangeOn(channel, false));
    } catch (err) {
      // A kept-alive connection the server had already closed: once more on a fresh one, but
      // only a request that may be repeated (RFC 9110 9.2.2: a proxy must not retry a POST on its
      // own; the server may have acted on it), and never one whose client has gone.
      // A request the server did not process at all (RFC 9113 8.7) may be sent again whatever its method.
      const refused = err instanceof StaleConnection && err.cause instanceof NotProcessed;
      if (!(err instanceof StaleConnection) || streamedTo || this.cancelled || writer.gone || !(refused || IDEMPOTENT.has(flow.request.method))) throw err instanceof StaleConnection ? err.cause : err;
      if (refused) ctx.log.info(`${formatAddress(flow.client_conn.peername)}: ${err.message}; sending ${flow.request.method} ${flow.request.pretty_url} again on a new connection`);
      // A session that refused one stream may still carry others: the pool keeps it, to close in its time.
      if (!refused) this.pool.forget(channel);
      channel = await this.pool.acquire(flow, true);
      // Once: a second failure is the flow's.
      outcome = await this.exchangeOn(channel, false).catch((again: unknown) => {
        throw again instanceof StaleConnection ? again.cause : again;
      });
    }
    if (outcome === "upgraded") {
      await this.upgradedResponse(channel);
      this.sendWhole();
      return { kind: "upgraded", channel };
    }
    const res = flow.response as Response | undefined;
    if (!res) throw new UpstreamError("no response");
    flow.responseReceived();
    await ctx.addons.trigger("response", flow);
    await this.waitIfIntercepted();
    // The response sent is the flow's as it is now (edited, reverted or replaced by an addon);
    // an addon that dropped it gets the server's sent instead of a crash.
    flow.response ??= res;
    if (!res.stream) this.sendWhole();
    const keepAlive = !saysClose(flow.response);
    return { kind: "done", keepAlive };
  }

  /** A server connection for the request, as the hooks left it: one that cannot be sent fails the flow (its 502) instead. */
  private acquire(): Promise<UpstreamChannel> {
    checkSendableRequest(this.flow.request, this.clientHead);
    return this.pool.acquire(this.flow);
  }

  /** The whole response to the client, as the hooks left it: one that cannot be sent fails the flow (a 502) instead. */
  private sendWhole(): void {
    checkSendableResponse(this.flow.response as Response, this.writer.maxStatus, this.serverHead);
    this.writer.whole(this.flow);
  }

  /**
   * The 101 gets its `response` hook (and can be intercepted) like any response. As in
   * mitmproxy, `flow.websocket` is set first, so addons and `~websocket` know a WebSocket
   * follows. The server socket waits, paused; a kill closes it.
   */
  private async upgradedResponse(channel: UpstreamChannel): Promise<void> {
    const { flow, ctx } = this;
    if (isWebSocketUpgrade(flow.request.headers) && ctx.options.get<boolean>("websocket")) flow.websocket = new WebSocketData();
    try {
      await ctx.addons.trigger("response", flow);
      await this.waitIfIntercepted();
    } catch (err) {
      channel.close();
      throw err;
    }
  }

  /** Sends the request on `channel` and reads the response, firing responseheaders. */
  private exchangeOn(channel: UpstreamChannel, streamBody: boolean): Promise<"done" | "upgraded"> {
    const { flow, ctx, writer } = this;
    const req = flow.request;
    const upgrading = req.plainHeaders.has("upgrade");
    if (this.cancelled) return Promise.reject(new UpstreamError("client cancelled the request"));
    this.channel = channel;
    return new Promise((resolve, reject) => {
      let response: Response | undefined;
      let streaming = false;
      let headDone: Promise<void> = Promise.resolve();
      const parts: Buffer[] = [];
      let size = 0;
      let gotAny = false;
      /** The exchange gave up on the response (a kill, or body_size_limit): what still comes is not used. */
      let abandoned = false;
      let headersDone = false;
      const threshold = firstThreshold(this.sizes);
      // store_streamed_bodies: what is streamed is kept too, the flow's body once complete.
      const kept: Buffer[] | undefined = ctx.options.get<boolean>("store_streamed_bodies") ? [] : undefined;
      /** False when the response cannot be sent (a status an addon set…): the flow fails, as over body_size_limit. */
      const startStreaming = (res: Response): boolean => {
        try {
          checkSendableResponse(res, writer.maxStatus, this.serverHead);
        } catch (err) {
          abandoned = true;
          channel.cancel(flow);
          reject(err);
          return false;
        }
        streaming = true;
        this.logStreaming("response from");
        if (typeof res.stream === "function") lengthMayChange(res);
        writer.head(flow);
        for (const b of parts.splice(0)) {
          kept?.push(b);
          this.forward(channel, res, b);
        }
        return true;
      };
      /** mitmproxy's check_body_size for the response: false when it is over body_size_limit (the flow fails with 502). */
      const checkSize = (res: Response, expected: number | undefined): boolean => {
        const verdict = sizeVerdict(this.sizes, expected);
        if (verdict === "limit") {
          abandoned = true;
          channel.cancel(flow);
          reject(new ClientFacingError(502, `Response body exceeds body_size_limit (${this.sizes.limit} bytes).`));
          return false;
        }
        if (verdict === "stream") res.stream = true;
        return true;
      };
      channel.send(
        flow,
        {
          onHead: (head: MessageHead) => {
            gotAny = true;
            const headers = Headers.fromRaw(head.rawHeaders);
            if (head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101) {
              writer.interim(new Response({ status_code: head.statusCode, reason: head.statusMessage, http_version: head.httpVersion, headers }));
              return;
            }
            // The reason as the server sent it: none for HTTP/2 (mitmproxy's flow has ""), and an
            // HTTP/1 server's own, an empty one too, not a standard phrase put in its place.
            const res = new Response({ status_code: head.statusCode, reason: head.statusMessage, http_version: head.httpVersion, headers });
            response = res;
            flow.response = res;
            this.serverHead = receivedHead("the server", res);
            ctx.notify(flow);
            channel.pauseResponse(flow);
            // As for the request: a declared length over stream_large_bodies is streaming before responseheaders.
            if (!responseHasNoBody(flow.request.method, res.status_code) && sizeVerdict(this.sizes, announcedSize(res.plainHeaders)) === "stream") res.stream = true;
            headDone = ctx.addons.trigger("responseheaders", flow).then(() => {
              if (flow.killed) {
                // Killed in responseheaders: nothing of the response goes to the client, and the
                // server connection, left mid-response, cannot serve another request.
                abandoned = true;
                this.pool.forget(channel);
                channel.close();
                reject(new FlowKilled());
                return;
              }
              const expected = responseHasNoBody(flow.request.method, res.status_code) ? 0 : (announcedSize(res.plainHeaders) ?? size);
              if (threshold !== undefined && !checkSize(res, expected)) return;
              headersDone = true;
              if (res.stream && !startStreaming(res)) return;
              channel.resumeResponse(flow);
            });
          },
          onBody: (c) => {
            if (streaming && response) {
              kept?.push(Buffer.from(c));
              this.forward(channel, response, c);
            }
            else {
              const copy = Buffer.from(c);
              parts.push(copy);
              size += copy.length;
              // Unframed or chunked: checked again once it has grown past a threshold.
              if (response && headersDone && !abandoned && threshold !== undefined && size > threshold && checkSize(response, size) && response.stream) startStreaming(response);
            }
          },
          onComplete: (trailers) => {
            const res = response;
            if (!res) return;
            void headDone.then(() => {
              if (abandoned) return;
              if (trailers.length) res.trailers = Headers.fromRaw(trailers);
              res.timestamp_end = now();
              if (streaming) {
                for (const b of parts.splice(0)) this.forward(channel, res, b);
                // What a stream function held back (a partial line) goes before the end, as mitmproxy's last call gives it.
                const tail = typeof res.stream === "function" ? streamFunctionTail(res.stream, (err) => this.streamFailed("response", err)) : undefined;
                if (tail?.length) writer.chunk(res, tail);
                writer.end(res);
                if (kept) res.raw_content = Buffer.concat(kept);
              } else res.raw_content = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
              if (res.status_code === 101 && upgrading) {
                resolve("upgraded");
                return;
              }
              const keepAlive = !endsConnection(req) && !endsConnection(res);
              this.upstreamDone = true;
              channel.finish(keepAlive);
              if (!keepAlive) this.pool.forget(channel);
              resolve("done");
            }, reject);
          },
          onError: (err) => {
            // Already closed or cancelled, and the flow already failed.
            if (abandoned) return;
            const multiplexed = channel.httpVersion === "HTTP/2.0";
            if (multiplexed) {
              // One stream's failure is its own: closing the session failed the streams beside it,
              // and a stale-connection retry sent their requests (a PUT) to the server again.
              channel.cancel(flow);
              if (channel.closed) this.pool.forget(channel);
            } else {
              this.pool.forget(channel);
              channel.close();
            }
            // A server gone silent (its 504) is said as it is, and not tried again as a stale connection would be.
            if (err instanceof ClientFacingError) return void reject(err);
            const reported = err instanceof UpstreamError ? err : new UpstreamError(`${serverName(flow.server_conn)}: ${tlsErrorText(err)}`);
            // Tried again on a new connection only when the whole connection went before any answer
            // (a stale keep-alive, a session going away), not when the server reset this stream.
            const stale = !gotAny && !streamBody && ((channel.reused && (!multiplexed || channel.closed)) || reported instanceof NotProcessed);
            reject(stale ? new StaleConnection(reported) : reported);
          },
        },
        streamBody ? { expectNoBody: req.method === "HEAD", streamBody: this.sent ?? this.body } : { expectNoBody: req.method === "HEAD" },
      );
    });
  }

  /** A chunk through the response's stream function, if it has one; one that throws is logged and the chunk goes as it came. */
  private modified(res: Response, c: Buffer): Buffer {
    if (typeof res.stream !== "function") return c;
    return throughStreamFunction(res.stream, c, (err) => this.streamFailed("response", err));
  }

  /** mitmproxy's line: the body goes through as it comes, and the flow will not hold it. */
  private logStreaming(what: "request to" | "response from"): void {
    this.ctx.log.info(`${formatAddress(this.flow.client_conn.peername)}: Streaming ${what} ${this.flow.request.pretty_host}.`);
  }

  private streamFailed(which: "request" | "response", err: Error): void {
    this.ctx.log.error(`${which}.stream function failed on ${this.flow.request.pretty_url}: ${err.message}; the chunk went unchanged`);
  }

  private forward(channel: UpstreamChannel, res: Response, c: Buffer): void {
    if (!this.writer.chunk(res, this.modified(res, c))) {
      // Streaming: hold the server until the client catches up.
      channel.pauseResponse(this.flow);
      this.writer.onDrain(() => channel.resumeResponse(this.flow));
    }
  }

  /** Records the error, fires `error`, answers 502 when nothing was sent yet. Returns whether the connection can go on. */
  private async fail(err: unknown): Promise<boolean> {
    const { flow, ctx, writer } = this;
    const killed = err instanceof FlowKilled || flow.killed;
    // A cause recorded first wins: when the client went away and pryx closed the server's
    // side, the server "closing early" is a consequence, not what happened.
    if (!killed && !flow.error) flow.error = new FlowError(err instanceof Error ? err.message : String(err));
    await errorHook(ctx, flow);
    if (killed || writer.gone) {
      writer.abort();
      return false;
    }
    if (writer.started) {
      writer.abort();
      return false;
    }
    const status = err instanceof ClientFacingError ? err.status : 502;
    const close = err instanceof ClientFacingError && err.close;
    writer.error(status, `pryx: ${flow.error?.msg ?? "error"}`, close);
    return !close;
  }
}

const erred = new WeakSet<HTTPFlow>();

/** The flow's `error` hook, once: a client that goes away fires it before its connection's hooks, and the exchange's own failure that follows does not fire it again. */
export function errorHook(ctx: ProxyContext, flow: HTTPFlow): Promise<void> {
  if (erred.has(flow)) return Promise.resolve();
  erred.add(flow);
  return ctx.addons.trigger("error", flow);
}
