/** The bench's own helpers as child processes: the origin and the load generator. */
import path from "node:path";
import type { Job, JobResult, LoadgenReply, LoadgenRequest } from "./jobs.ts";
import type { OriginReady } from "./origin.ts";
import { type Child, forkTs } from "./procs.ts";

export interface Origin {
  httpPort: number;
  httpsPort: number;
  certPem: string;
  child: Child;
}

function firstMessage<T>(child: Child, accept: (m: unknown) => m is T, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} sent nothing within ${timeoutMs} ms:\n${child.stderrTail()}`)), timeoutMs);
    const onMessage = (m: unknown): void => {
      if (!accept(m)) return;
      clearTimeout(timer);
      child.proc.off("message", onMessage);
      resolve(m);
    };
    child.proc.on("message", onMessage);
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${code}) before it was ready:\n${child.stderrTail()}`));
    });
  });
}

export async function startOrigin(root: string): Promise<Origin> {
  const child = forkTs("origin", path.join(root, "bench/origin.ts"), { cwd: root });
  const ready = await firstMessage(child, (m): m is OriginReady => (m as OriginReady)?.type === "ready", 30_000);
  return { httpPort: ready.httpPort, httpsPort: ready.httpsPort, certPem: ready.certPem, child };
}

export class Loadgen {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();

  /** Which generator new-conns jobs use, in words: the C/OpenSSL one, or Node and why. */
  readonly newConnsGenerator: string;

  private constructor(
    readonly child: Child,
    ready: LoadgenReply & { type: "ready" },
  ) {
    this.newConnsGenerator = ready.newConnsGenerator;
    child.proc.on("message", (m: LoadgenReply) => {
      if (m.type === "ready") return;
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.type === "result") p.resolve(m.result);
      else p.reject(new Error(`load generator: ${m.error}`));
    });
    void child.exited.then((code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`load generator exited (${code}):\n${child.stderrTail()}`));
      this.#pending.clear();
    });
  }

  static async start(root: string): Promise<Loadgen> {
    const child = forkTs("loadgen", path.join(root, "bench/loadgen.ts"), { cwd: root });
    // gcc may build the C generator first: allow it the time.
    const ready = await firstMessage(child, (m): m is LoadgenReply & { type: "ready" } => (m as LoadgenReply)?.type === "ready", 150_000);
    return new Loadgen(child, ready);
  }

  /**
   * Every job has its own time limit; this one is the backstop if the generator wedges.
   * Aborting `signal` ends a keep-alive job early, with what it measured so far.
   */
  run(job: Job, timeoutMs: number, signal?: AbortSignal): Promise<JobResult> {
    const id = this.#nextId++;
    signal?.addEventListener("abort", () => {
      if (this.#pending.has(id)) this.child.proc.send({ id, cancel: true } satisfies LoadgenRequest);
    }, { once: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`load generator gave no result for ${job.kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const req: LoadgenRequest = { id, job };
      this.child.proc.send(req);
    });
  }
}
