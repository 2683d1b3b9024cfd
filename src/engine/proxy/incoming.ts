import type { MessageHead } from "../http1/parser.ts";
import type { ClientFacingError } from "./client-facing-error.ts";

/**
 * A request as the parser delivers it: the head at once, the body as it arrives. A
 * consumer either waits for the whole body or, when streaming, takes chunks as they come.
 */
export class Incoming {
  readonly chunks: Buffer[] = [];
  length = 0;
  complete = false;
  aborted = false;
  /** Why the body ended short when it was not the client going: its bytes were malformed. */
  failure: ClientFacingError | undefined = undefined;
  /** The parser refused the head itself (see `refused`): the request has no body, and goes nowhere. */
  headRefused = false;
  trailers: string[] = [];
  /** Bytes after the head of a CONNECT or Upgrade request: they belong to the tunnel. */
  upgradeRest: Buffer | undefined = undefined;
  /** Waiting for the whole body, or for more than `over` bytes of it. */
  private waiters: { over: number; wake: () => void }[] = [];
  private streamTo: ((chunk: Buffer) => boolean | void) | undefined;
  /** Where the body comes from (the client's socket or HTTP/2 stream), so a slow server can hold it. */
  source: { pause(): unknown; resume(): unknown } | undefined = undefined;
  /** store_streamed_bodies: a streamed body is kept as well, so `body()` has all of it at the end. */
  keepStreamed = false;

  constructor(readonly head: MessageHead) {}

  /** A request whose head the parser refused, read leniently for its flow, failing with `failure`. */
  static refused(head: MessageHead, failure: ClientFacingError): Incoming {
    const inc = new Incoming(head);
    inc.headRefused = true;
    inc.abort(failure);
    return inc;
  }

  push(chunk: Buffer): void {
    if (this.streamTo) {
      if (this.keepStreamed) this.keep(chunk);
      // Backpressure: a server that reads slowly holds the client instead of pryx buffering the body.
      if (this.streamTo(chunk) === false) this.source?.pause();
      return;
    }
    this.keep(chunk);
    if (this.waiters.length) this.waiters = this.waiters.filter((w) => (this.length > w.over ? (w.wake(), false) : true));
  }

  private keep(chunk: Buffer): void {
    // The parser hands out views into its input buffer; copy so the body outlives the read.
    const copy = Buffer.from(chunk);
    this.chunks.push(copy);
    this.length += copy.length;
  }

  finish(trailers: string[]): void {
    this.complete = true;
    this.trailers = trailers;
    for (const w of this.waiters.splice(0)) w.wake();
  }

  /**
   * The client went before the body ended, or (`failure`) what it sent was no body: whoever
   * waits wakes, and finds `complete` still false. What was sent of the body on to a server
   * must then not be ended as if it were whole. The first reason given stays.
   */
  abort(failure?: ClientFacingError): void {
    if (!this.aborted) this.failure = failure;
    this.aborted = true;
    for (const w of this.waiters.splice(0)) w.wake();
  }

  /** Resolves when the whole body has arrived, or the client went before it did (`complete` false). */
  whenComplete(): Promise<void> {
    return this.whenCompleteOrOver(Infinity);
  }

  /** Resolves when the whole body has arrived or, while it is buffered, once more than `bytes` of it have. */
  whenCompleteOrOver(bytes: number): Promise<void> {
    if (this.complete || this.aborted || this.length > bytes) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ over: bytes, wake: resolve }));
  }

  /** Hands what arrived so far and every later chunk to `fn`; `fn` returning false pauses the source until `resume`. */
  stream(fn: (chunk: Buffer) => boolean | void): void {
    let full = false;
    for (const c of this.keepStreamed ? [...this.chunks] : this.chunks.splice(0)) if (fn(c) === false) full = true;
    this.streamTo = fn;
    if (full) this.source?.pause();
  }

  resume(): void {
    this.source?.resume();
  }

  body(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.length);
  }
}
