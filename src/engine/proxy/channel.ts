import type { HTTPFlow } from "../flow/http.ts";
import type { Server } from "../flow/connection.ts";
import type { MessageHead } from "../http1/parser.ts";
import type { ClientFacingError } from "./client-facing-error.ts";

/** Where a response's parts go as they arrive from the server. */
export interface ResponseSink {
  onHead(head: MessageHead): void;
  onBody(chunk: Buffer): void;
  onComplete(trailers: string[]): void;
  /** The connection failed or closed before the response completed. */
  onError(err: Error): void;
}

/** The request body as the client sends it: whole, or streamed as it arrives. */
export interface RequestBody {
  readonly complete: boolean;
  /** The client went before the body ended (`complete` stays false). */
  readonly aborted: boolean;
  /** Set when the body was cut short by malformed bytes rather than by the client going. */
  readonly failure: ClientFacingError | undefined;
  /** Bytes that arrived while the body was buffered (before any `stream`, unless kept). */
  readonly length: number;
  readonly trailers: string[];
  whenComplete(): Promise<void>;
  whenCompleteOrOver(bytes: number): Promise<void>;
  /** Hands the body over as it arrives; `fn` returning false (the server is slow) holds the client until `resume`. */
  stream(fn: (chunk: Buffer) => boolean | void): void;
  /** Reads from the client again after `stream`'s callback returned false. */
  resume(): void;
  body(): Buffer;
  /** store_streamed_bodies: set before `stream`, and `body()` still has all of it at the end. */
  keepStreamed: boolean;
}

/**
 * One way to send a request to a server and read its response: an HTTP/1.1 connection or
 * an HTTP/2 session. The exchange logic (hooks, intercept, streaming) does not care which.
 */
export interface UpstreamChannel {
  readonly server: Server;
  readonly closed: boolean;
  /** Whether the channel served a request before (a failure before any response byte may be a stale keep-alive). */
  readonly reused: boolean;
  readonly httpVersion: "HTTP/1.1" | "HTTP/2.0";
  /**
   * The pool hands the channel to a request: an HTTP/1.1 connection is that request's from now
   * until its response ends, not only from `send` on (a second stream of an HTTP/2 client took it
   * in between, and one of the two answers was lost). An HTTP/2 session takes any number.
   */
  take(): void;
  /** Sends the flow's request (its buffered body, or `streamBody` as it arrives) and routes the response to `sink`. */
  send(flow: HTTPFlow, sink: ResponseSink, opts: { expectNoBody: boolean; streamBody?: RequestBody }): void;
  /** Called when the response is complete; the channel may be reused unless it says it closes. */
  finish(keepAlive: boolean): void;
  /** The client gave up on `flow` (an HTTP/2 stream reset): stop its request and response only. */
  cancel(flow: HTTPFlow): void;
  /** Holds `flow`'s response from the server (the client is slow, or a hook runs); other flows sharing the channel go on. */
  pauseResponse(flow: HTTPFlow): void;
  resumeResponse(flow: HTTPFlow): void;
  close(): void;
}

/**
 * Hands a streamed body to a server's stream or socket: `write` says whether it takes more, and
 * a full one holds the client until it drains. One wait for drain at a time: chunks already on
 * their way still come after a full write.
 */
export function streamBodyInto(body: RequestBody, write: (chunk: Buffer) => boolean, sink: { once(event: "drain", fn: () => void): unknown }): void {
  let draining = false;
  body.stream((c) => {
    const more = write(c);
    if (!more && !draining) {
      draining = true;
      sink.once("drain", () => {
        draining = false;
        body.resume();
      });
    }
    return more;
  });
}
