import v8 from "node:v8";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { EngineEvent, EngineReplies, EngineRequest, ReadyInfo, UiMessage } from "./protocol.ts";
import type { OptionText } from "./engine/options.ts";

/** What the worker needs to start: option values as text, set from the command line. */
export interface EngineInit {
  /** name → value as the user typed it (`--set name=value` and the flags mapped to options; a repeated flag gives a list). */
  options: Record<string, OptionText>;
  /** Keep finished flows in the store (the console does, dump does not, so its memory stays flat). */
  keepFlows: boolean;
  /** Do not listen (reading a file only). */
  noServer: boolean;
  /** The console draws the terminal: what addons print goes to the event log instead. */
  captureOutput?: boolean;
  /** Dump's text output: live connections' messages as they happen (`stream` events). */
  streamEvents?: boolean;
  /**
   * Stop the start when anything was logged as an error on the way (a script that did not load,
   * one that threw in load or configure, a -w file that cannot be opened), as mitmdump does: a CI
   * run through a proxy without its addon, or saving nothing, must not pass.
   */
  failOnStartupErrors?: boolean;
  /** --jsonl: standard output holds JSON lines only, so what addons print goes to standard error. */
  printToStderr?: boolean;
}

type Listener = (ev: EngineEvent) => void;

/**
 * What the user reads when the worker died of an error it did not report itself. Out of memory,
 * V8 gives only a code: say what the limit was and how to live within it or raise it.
 */
export function workerFailure(err: Error & { code?: string }): string {
  if (err.code !== "ERR_WORKER_OUT_OF_MEMORY") return err.stack ?? String(err);
  const limit = Math.round(v8.getHeapStatistics().heap_size_limit / 1048576).toLocaleString("en-US");
  return (
    `the engine ran out of memory (its heap limit is about ${limit} MiB) and stopped; flows not saved are lost. ` +
    "--set max_flows=N keeps the newest N flows only; NODE_OPTIONS=--max-old-space-size=MiB raises the limit"
  );
}

/**
 * The engine's young generation for a heap limit. Large, fewer scavenges keep the proxy fast while
 * the console retains flows (every flow makes many short-lived objects). Bounded by the heap: at
 * the limit, Node stops a worker by granting its heap 16 MiB more to finish the collection, and a
 * young generation much larger than that, promoted at once, overruns it: V8 then aborts the whole
 * process instead of the worker (64 MiB under a 256 MiB heap did, one run in twelve), and the user
 * loses the message that says why.
 */
export function youngGenerationMb(heapLimitBytes: number): number {
  return Math.max(1, Math.min(64, Math.floor(heapLimitBytes / 1048576 / 32)));
}

/** The main thread's handle on the engine: typed requests with replies, and a stream of events. */
export interface EngineHandle {
  request<R extends EngineRequest>(req: R, timeoutMs?: number): Promise<EngineReplies[R["op"]]>;
  on(listener: Listener): () => void;
  shutdown(): Promise<void>;
}

/** Spawns the engine worker and correlates requests with replies. */
export class EngineClient implements EngineHandle {
  private readonly worker: Worker;
  private readonly listeners = new Set<Listener>();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  /** Set once the engine was asked to stop: its exit is then no failure. */
  private stopping = false;
  /**
   * The worker's exit code once it has exited: what an addon's process.exit(N) or process.exitCode
   * gave (mitmdump's sys.exit(N) in a script is its exit status), else 0, or 1 for a failed start.
   */
  exitCode: number | undefined;

  /** Whether a shutdown was asked for (a signal during start-up): the engine ending before ready is then no failure. */
  get stopRequested(): boolean {
    return this.stopping;
  }
  private stopped: Promise<void>;
  readonly ready: Promise<ReadyInfo>;

  constructor(init: EngineInit) {
    const entry = fileURLToPath(new URL("./engine/worker-entry.mjs", import.meta.url));
    this.worker = new Worker(entry, { workerData: init, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb(v8.getHeapStatistics().heap_size_limit) } });
    let onReady!: (info: ReadyInfo) => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise<ReadyInfo>((res, rej) => {
      onReady = res;
      onFail = rej;
    });
    // The caller may never await `ready` (dump prints a fatal event instead): never leave it unhandled.
    this.ready.catch(() => undefined);
    let failed = false;
    const fail = (error: string): void => {
      if (failed) return;
      failed = true;
      onFail(new Error(error));
      this.emit({ t: "fatal", error });
    };
    this.stopped = new Promise<void>((resolve) => {
      this.worker.once("exit", (code) => {
        this.exitCode = code;
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error("the engine stopped before it replied"));
        }
        this.pending.clear();
        // Unasked, the engine is gone: whoever drives it (dump, the console) must hear of it.
        if (!this.stopping) fail(`the engine stopped unexpectedly (exit code ${code}${code > 1 ? ": an addon's process.exit?" : ""})`);
        onFail(new Error("the engine stopped before it was ready"));
        resolve();
      });
    });
    this.worker.on("error", (err) => fail(workerFailure(err)));
    this.worker.on("message", (ev: EngineEvent) => {
      if (ev.t === "reply") {
        const p = this.pending.get(ev.id);
        if (!p) return;
        this.pending.delete(ev.id);
        clearTimeout(p.timer);
        if (ev.ok) p.resolve(ev.value);
        else p.reject(new Error(ev.error));
        return;
      }
      if (ev.t === "ready") onReady(ev.info);
      if (ev.t === "fatal") {
        fail(ev.error);
        return;
      }
      this.emit(ev);
    });
  }

  private emit(ev: EngineEvent): void {
    for (const l of this.listeners) l(ev);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  request<R extends EngineRequest>(req: R, timeoutMs = 30_000): Promise<EngineReplies[R["op"]]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the engine did not answer ${req.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.post({ t: "request", id, req });
    });
  }

  private post(msg: UiMessage): void {
    this.worker.postMessage(msg);
  }

  /** Asks the engine to stop (addons get `done`), and waits until the worker has exited. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    this.post({ t: "shutdown" });
    let cutOff = false;
    const timer = setTimeout(() => {
      cutOff = true;
      void this.worker.terminate();
    }, timeoutMs);
    await this.stopped;
    clearTimeout(timer);
    // Terminated for taking too long: that is no status an addon asked for.
    if (cutOff) this.exitCode = 0;
  }
}
