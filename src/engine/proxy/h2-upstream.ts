import http2 from "node:http2";
import { H2_HEADER_LIMITS, H2_UPSTREAM_SETTINGS } from "./h2-limits.ts";
import type net from "node:net";
import { formatAddress, type Client, type Server } from "../flow/connection.ts";
import type { HTTPFlow } from "../flow/http.ts";
import { Headers } from "../flow/headers.ts";
import type { ProxyContext } from "./context.ts";
import { streamBodyInto, type RequestBody, type ResponseSink, type UpstreamChannel } from "./channel.ts";
import { fromH2Raw, toH2Fields } from "./h2-headers.ts";
import { NotProcessed, UpstreamError, serverClosed, serverName, serverSilent } from "./upstream.ts";
import { watchEndStream } from "./h2-end-stream.ts";
import { h2ErrorName } from "./h2-errors.ts";
import type { MessageHead } from "../http1/parser.ts";

/** An HTTP/2 session to a server that offered h2; requests of one client share it as streams. */
export class H2Upstream implements UpstreamChannel {
  readonly httpVersion = "HTTP/2.0" as const;
  private readonly session: http2.ClientHttp2Session;
  private uses = 0;
  private readonly streams = new Set<http2.ClientHttp2Stream>();
  private readonly byFlow = new WeakMap<HTTPFlow, http2.ClientHttp2Stream>();
  closed = false;
  /** The error code of the server's GOAWAY, once it sent one. */
  private goawayCode: number | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    readonly server: Server,
    socket: net.Socket,
  ) {
    const authority = `https://${server.sni ?? formatAddress(server.address)}`;
    this.session = http2.connect(authority, { createConnection: () => socket, ...H2_HEADER_LIMITS, settings: H2_UPSTREAM_SETTINGS });
    this.session.on("error", () => undefined);
    this.session.on("close", () => {
      this.closed = true;
      serverClosed(this.ctx, this.client, this.server);
    });
    this.session.on("goaway", (code: number) => {
      this.closed = true;
      this.goawayCode = code;
    });
    this.keepAlive(ctx.options.get<number>("http2_ping_keepalive"));
  }

  /**
   * mitmproxy's http2_ping_keepalive: a PING after that many idle seconds, and again each period
   * while the session stays idle, so the server (or a NAT on the way) does not drop a session the
   * client will use again. A session left in the shared pool still goes after its 30 s there.
   */
  private keepAlive(seconds: number): void {
    if (seconds <= 0) return;
    const session = this.session;
    session.on("timeout", () => {
      if (this.closed || session.destroyed) return;
      session.ping(() => undefined);
      // Node's session timer fires once per setTimeout, activity or not: armed again for the next period.
      session.setTimeout(seconds * 1000);
    });
    session.setTimeout(seconds * 1000);
  }

  /** Streams share the session: taking it reserves nothing. */
  take(): void {}

  get reused(): boolean {
    return this.uses > 1;
  }

  /** A session multiplexes: it is never busy. */
  readonly busy = false;

  send(flow: HTTPFlow, sink: ResponseSink, opts: { expectNoBody: boolean; streamBody?: RequestBody }): void {
    this.uses++;
    const req = flow.request;
    const body = opts.streamBody;
    const hasBody = body !== undefined || (req.raw_content?.length ?? 0) > 0;
    const requestTrailers = req.trailers?.flat.length ? req.trailers : undefined;
    // A streamed body's trailers are known only at its end: its stream waits for them (an empty
    // set when there are none, as a streamed response's does); a buffered one's only if it has some.
    const waitsForTrailers = body !== undefined || requestTrailers !== undefined;
    // :authority is the Host header where there is one (an HTTP/1 client's, or one an addon set),
    // else an HTTP/2 client's own :authority, which its flow keeps as request.authority.
    const authority = req.plainHeaders.get("host") ?? (req.authority || req.hostHeader);
    const stream = this.session.request(
      toH2Fields(req.headers, { ":method": req.method, ":path": req.path, ":scheme": req.scheme, ":authority": authority }),
      { endStream: !hasBody && !waitsForTrailers, waitForTrailers: waitsForTrailers },
    );
    /** Ends the request; a stream that waits for trailers gets them (HTTP/2 sends them after the body). */
    const endWithTrailers = (last: Headers | undefined): void => {
      if (waitsForTrailers)
        stream.once("wantTrailers", () => {
          try {
            stream.sendTrailers(last ? toH2Fields(last, {}) : {});
          } catch {
            // A trailer Node will not send (a name that is no token): reset, and the flow fails, rather than wait forever.
            stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          }
        });
      stream.end();
    };
    const endedByServer = watchEndStream(stream);
    this.streams.add(stream);
    this.byFlow.set(flow, stream);
    let done = false;
    let gotHead = false;
    this.watchSilence(stream, true);
    stream.on("timeout", () => {
      if (done) return;
      done = true;
      sink.onError(serverSilent(this.server, this.silenceSeconds()));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    // What the response's Content-Length promised, and what came: a stream ended short is no response.
    let promised: number | undefined;
    let received = 0;
    const head = (headers: http2.IncomingHttpHeaders, raw: string[] | undefined): MessageHead => {
      const rawHeaders = raw ? fromH2Raw(raw) : Object.entries(headers).filter(([k]) => !k.startsWith(":")).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : [k, String(v)]));
      return { httpVersion: "HTTP/2.0", rawHeaders, method: "", url: "", statusCode: Number(headers[":status"] ?? 0), statusMessage: "", upgrade: false, keepAlive: true };
    };
    // Node reports a 1xx (103 Early Hints) as "headers" before the "response": it goes to the
    // client as the interim response it is, as one from an HTTP/1 server does.
    stream.on("headers", (headers, _flags, raw?: string[]) => {
      const interim = head(headers, raw);
      if (interim.statusCode >= 100 && interim.statusCode < 200) sink.onHead(interim);
    });
    stream.on("response", (headers, _flags, raw?: string[]) => {
      gotHead = true;
      const final = head(headers, raw);
      const status = final.statusCode;
      const length = String(headers["content-length"] ?? "");
      if (!opts.expectNoBody && status !== 204 && status !== 304 && /^\d+$/.test(length)) promised = Number(length);
      sink.onHead(final);
    });
    let trailers: string[] = [];
    stream.on("trailers", (_h, _f, raw?: string[]) => {
      trailers = raw ? fromH2Raw(raw) : [];
    });
    stream.on("data", (c: Buffer) => {
      received += c.length;
      sink.onBody(c);
    });
    stream.on("end", () => {
      // A reset stream (either side's RST_STREAM, NO_ERROR too) ends its readable side as well:
      // only the server's END_STREAM completes a response (RFC 9113 8.1), and "close" reports a
      // reset. Completing here left a flow with no response waiting forever, or recorded a
      // cut-off body as whole.
      if (!gotHead || !endedByServer()) return;
      done = true;
      this.streams.delete(stream);
      // A reset that has not been reported yet (it races the end) can leave the body short.
      if (promised !== undefined && received < promised) sink.onError(cutShort());
      else sink.onComplete(trailers);
      // Answered whole before the upload ended: the server wants no more of it (RFC 9113 8.1
      // lets it say so with RST_STREAM NO_ERROR; it may not), so pryx stops sending it.
      if (body && !body.complete && !body.aborted) {
        stream.close(http2.constants.NGHTTP2_NO_ERROR);
        dropRest();
      }
    });
    /**
     * The server is done with a stream the client's upload has not finished: what is left of the
     * body has nowhere to go. It is read and dropped, so the client, held by flow control where
     * the stream stopped taking it, can finish its upload and take the answer.
     */
    const dropRest = (): void => {
      if (!body || body.complete || body.aborted) return;
      body.stream(() => true);
      body.resume();
    };
    const cutShort = (): Error => new UpstreamError(`${serverName(this.server)} ended the HTTP/2 stream after ${received} of the ${promised} bytes its Content-Length promised`);
    stream.on("error", (err: Error & { code?: string }) => {
      this.streams.delete(stream);
      if (done) return;
      // Node's "Session closed with error code 2": the server's GOAWAY, said with its code's name.
      if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM && !gotHead) sink.onError(new NotProcessed(`${serverName(this.server)} refused the HTTP/2 stream (REFUSED_STREAM): it did not process the request`));
      else if (err.code === "ERR_HTTP2_SESSION_ERROR") sink.onError(new UpstreamError(`${serverName(this.server)} closed the HTTP/2 connection with GOAWAY (${h2ErrorName(this.goawayCode)})`));
      // nghttp2 checks the length itself and says only PROTOCOL_ERROR: what fell short says more.
      else sink.onError(promised !== undefined && received < promised ? cutShort() : err);
    });
    stream.on("close", () => {
      this.streams.delete(stream);
      if (!done) sink.onError(this.endedWithout(stream, gotHead));
      done = true;
      dropRest();
    });
    if (body) {
      streamBodyInto(body, (c) => stream.write(c), stream);
      // A body the client cut off is not ended as if whole: the stream is cancelled instead.
      void body.whenComplete().then(() => {
        if (!body.complete) return void stream.close(http2.constants.NGHTTP2_CANCEL);
        endWithTrailers(body.trailers.length ? Headers.fromRaw(body.trailers) : undefined);
      });
    } else if (hasBody || requestTrailers) {
      if (req.raw_content?.length) stream.write(req.raw_content);
      endWithTrailers(requestTrailers);
    }
  }

  /**
   * Why a stream closed (no error event: NO_ERROR or CANCEL) before its response was whole. Node
   * closes every stream with CANCEL when the connection goes: that is the server closing it, not
   * resetting this stream, said as over HTTP/1.
   */
  private endedWithout(stream: http2.ClientHttp2Stream, gotHead: boolean): UpstreamError {
    const name = serverName(this.server);
    if (this.session.destroyed) return new UpstreamError(`${name} closed the connection ${gotHead ? "before the response was complete" : "before answering"}`);
    return new UpstreamError(`${name} reset the HTTP/2 stream (${h2ErrorName(stream.rstCode)})`);
  }

  finish(): void {
    // Streams end on their own; the session stays for the next request.
  }

  /** Resets only this flow's stream; the session's other streams go on. */
  cancel(flow: HTTPFlow): void {
    const stream = this.byFlow.get(flow);
    if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** Only this flow's stream: HTTP/2 flow control then holds the server on it alone. */
  pauseResponse(flow: HTTPFlow): void {
    const stream = this.byFlow.get(flow);
    stream?.pause();
    // A response held (in its hooks, intercepted) is the user's to take their time over.
    if (stream) this.watchSilence(stream, false);
  }

  resumeResponse(flow: HTTPFlow): void {
    const stream = this.byFlow.get(flow);
    stream?.resume();
    if (stream && !stream.closed) this.watchSilence(stream, true);
  }

  private silenceSeconds(): number {
    return this.ctx.options.get<number>("tcp_timeout");
  }

  /**
   * A stream whose server sends nothing (nor takes anything) for tcp_timeout seconds is given up
   * with a 504, as an HTTP/1 server's connection is: the session's PINGs keep it alive, and the
   * client waited for good.
   */
  private watchSilence(stream: http2.ClientHttp2Stream, on: boolean): void {
    const seconds = on ? this.silenceSeconds() : 0;
    stream.setTimeout(seconds > 0 ? seconds * 1000 : 0);
  }

  close(): void {
    this.closed = true;
    this.server.connected = false;
    this.session.destroy();
  }
}
