import { uuid } from "./uuid.ts";
import { DEFAULT_MARKER } from "../../markers.ts";
import type { Client, Server } from "./connection.ts";
import { now } from "./now.ts";

/** A flow's error: why it did not complete (mitmproxy's `Error`). */
export class FlowError {
  constructor(
    readonly msg: string,
    /** When it happened: now, unless read back from a file that recorded it. */
    readonly timestamp: number = now(),
  ) {}
  toString(): string {
    return this.msg;
  }
}

/** The message a killed flow carries, as mitmproxy's. */
export const KILLED_MESSAGE = "Connection killed.";

export class FlowKilled extends Error {
  constructor() {
    super(KILLED_MESSAGE);
  }
}

export type FlowType = "http" | "tcp" | "udp" | "dns";

/** Where the engine's store keeps a flow's arrival number: on the flow, not in a second 100,000-entry map. */
export const SEQ: unique symbol = Symbol("pryx.flow.seq");

/**
 * What every flow has. An intercepted flow is a promise that `resume()` or `kill()` settles:
 * the engine awaits `waitForResume()` while the user looks at it.
 */
export abstract class Flow {
  /** console.log shows the repr (see toString), as mitmproxy's print does, not the object's internals. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  toString(): string {
    return `<${this.constructor.name} ${this.id}>`;
  }
  abstract readonly type: FlowType;
  id: string;
  readonly client_conn: Client;
  server_conn: Server;
  error: FlowError | undefined = undefined;
  intercepted = false;
  #marked = "";
  /**
   * Non-empty when marked (mitmproxy uses a marker string such as ":default:"). What an addon
   * sets is taken as mitmproxy's scripts use it: true is the default marker, false or nothing
   * unmarks, anything else is its text (a boolean here once stopped the proxy).
   */
  get marked(): string {
    return this.#marked;
  }
  set marked(value: string) {
    const v: unknown = value;
    this.#marked = typeof v === "string" ? v : v === true ? DEFAULT_MARKER : v === false || v === undefined || v === null ? "" : String(v);
  }
  is_replay: "request" | "response" | null = null;
  #comment = "";
  /** Text: a number or object an addon sets is kept as its text (packing a flow expects one). */
  get comment(): string {
    return this.#comment;
  }
  set comment(value: string) {
    const v: unknown = value;
    this.#comment = typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
  }
  metadata: Record<string, unknown> = {};
  timestamp_created = now();
  /** True while the proxy is still working on the flow. */
  live = true;
  /** Arrival order in the store; 0 until stored. */
  [SEQ] = 0;
  /** What `revert()` restores: the flow before its first edit (see `backupState`). */
  protected backup: unknown = undefined;
  private resumeWaiter: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Stops the flow's traffic when it is killed while not paused: its exchange, while one runs. */
  private killListener: (() => void) | undefined;

  /** `id` for a flow recreated from storage; a new flow gets a fresh one. */
  constructor(client: Client, server: Server, id?: string) {
    this.id = id ?? uuid();
    this.client_conn = client;
    this.server_conn = server;
  }

  /** Pauses the flow: the engine will wait in `waitForResume()` until resumed or killed. */
  intercept(): void {
    // A killed flow has nothing left to hold: a TCP or WebSocket message still queued behind the
    // one held when it was killed would pause it again, showing it intercepted though dead.
    if (this.intercepted || this.killed) return;
    this.intercepted = true;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A paused flow that is killed before anyone waits must not be an unhandled rejection.
    promise.catch(() => undefined);
    this.resumeWaiter = { promise, resolve, reject };
  }

  async waitForResume(): Promise<void> {
    if (!this.intercepted || !this.resumeWaiter) return;
    await this.resumeWaiter.promise;
  }

  resume(): void {
    if (!this.intercepted) return;
    this.intercepted = false;
    this.resumeWaiter?.resolve();
    this.resumeWaiter = undefined;
  }

  /** Killed by the user or by an addon's `kill()`. */
  get killed(): boolean {
    return this.error?.msg === KILLED_MESSAGE;
  }

  get killable(): boolean {
    return this.live && !this.killed;
  }

  kill(): void {
    this.error = new FlowError(KILLED_MESSAGE);
    this.intercepted = false;
    const waiter = this.resumeWaiter;
    this.resumeWaiter = undefined;
    // A paused flow's exchange is waiting on the promise; any other live flow is stopped by its listener.
    if (waiter) waiter.reject(new FlowKilled());
    else this.killListener?.();
  }

  /** Sets (or, with undefined, clears) what `kill()` calls when the flow is not paused. */
  onKill(fn: (() => void) | undefined): void {
    this.killListener = fn;
  }

  /** Saves a copy before the first edit, so `revert()` can restore it. */
  backupState(): void {
    if (this.backup === undefined) this.backup = this.getState();
  }

  /** mitmproxy's `flow.modified()`: whether the flow was edited since it was recorded. */
  modified(): boolean {
    return this.backup !== undefined;
  }

  revert(): void {
    if (this.backup === undefined) return;
    this.setState(this.backup);
    this.backup = undefined;
  }

  /**
   * A copy for editing and replay (mitmproxy's `Flow.copy`, the console's `D`): a new id, not
   * live, no connection state, with what the user sees of the original.
   */
  abstract copy(): Flow;

  /** What every copy takes from its original, whatever its type. */
  protected copiedTo<F extends Flow>(f: F): F {
    f.comment = this.comment;
    f.marked = this.marked;
    f.live = false;
    f.error = this.error;
    f.metadata = { ...this.metadata };
    // As mitmproxy's copy of the state: the copy was made when the original was, so its time
    // agrees with the timings it carries over.
    f.timestamp_created = this.timestamp_created;
    return f;
  }

  /** A deep snapshot of what an edit can change. */
  protected abstract getState(): unknown;
  protected abstract setState(state: unknown): void;
}
