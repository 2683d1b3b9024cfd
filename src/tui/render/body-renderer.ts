/**
 * Renders large bodies on a thread of their own. Shown whole (`f`), a body of megabytes takes
 * its content view a second or more: on the console's thread that was a frozen screen and lost
 * keys (mitmproxy's console freezes there too, #3918, #3049). The worker starts on first use and
 * does not keep the process alive.
 */
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { PackedLines, type ViewName, type ViewResult } from "../contentviews/index.ts";
import type { RenderReply, RenderRequest } from "./protocol.ts";

export interface BodyRenderJob {
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly mode: ViewName;
  readonly maxLines: number;
  readonly query: [string, string][];
}

/** What renders large bodies: the worker below, or a test's stand-in. */
export interface BodyRendering {
  render(job: BodyRenderJob): Promise<ViewResult>;
  close(): Promise<void>;
}

/** A worker with nothing to render for this long stops: its heap (~60 MB after a 20 MiB body) goes with it. */
const IDLE_MS = 30_000;

export class BodyRenderer implements BodyRendering {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (r: ViewResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs = IDLE_MS) {}

  /** Whether the worker is running (it starts on the first render and stops when idle). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  render(job: BodyRenderJob): Promise<ViewResult> {
    clearTimeout(this.idle);
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<ViewResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The body is copied, not moved: the flow's detail still shows it.
      const req: RenderRequest = { id, ...job };
      worker.postMessage(req);
      worker.ref();
    });
  }

  private start(): Worker {
    const entry = fileURLToPath(new URL("./worker-entry.mjs", import.meta.url));
    const worker = new Worker(entry, { stdout: false, stderr: false });
    worker.on("message", (reply: RenderReply) => {
      const job = this.pending.get(reply.id);
      if (!job) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) {
        worker.unref();
        this.idle = setTimeout(() => void this.close(), this.idleMs).unref();
      }
      if ("failure" in reply) job.reject(new Error(reply.failure));
      else job.resolve({ name: reply.name, lines: PackedLines.fromChunks(reply.chunks), ...(reply.error ? { error: reply.error } : {}), ...(reply.truncated ? { truncated: true } : {}) });
    });
    const fail = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const job of this.pending.values()) job.reject(err);
      this.pending.clear();
    };
    worker.on("error", (err) => fail(new Error(`the body renderer failed: ${err.message}`)));
    worker.on("exit", (code) => fail(new Error(`the body renderer stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** Stops the worker; renders still waiting are dropped (the console that asked is closing). */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    const worker = this.worker;
    this.worker = undefined;
    this.pending.clear();
    if (worker) await worker.terminate();
  }
}
