/**
 * The load-generator process. It runs apart from the orchestrator so that neither printing nor
 * process management lands in the middle of a measurement, and apart from the proxy so the two
 * event loops do not share one thread.
 */
import type { Job, JobResult, LoadgenReply, LoadgenRequest } from "./jobs.ts";
import { runKeepAlive } from "./loadgen/keepalive.ts";
import { prepareNative } from "./loadgen/native.ts";
import { runFirstContact, runNewConns } from "./loadgen/new-conns.ts";

function run(job: Job, signal: AbortSignal): Promise<JobResult> {
  switch (job.kind) {
    case "keepalive":
      return runKeepAlive(job, signal);
    case "new-conns":
      return runNewConns(job);
    case "first-contact":
      return runFirstContact(job);
  }
}

if (!process.send) throw new Error("bench/loadgen.ts is started by bench/run.ts over IPC");
const reply = (msg: LoadgenReply): void => void process.send?.(msg);

const running = new Map<number, AbortController>();

process.on("message", (msg: LoadgenRequest) => {
  if ("cancel" in msg) {
    running.get(msg.id)?.abort();
    return;
  }
  const ac = new AbortController();
  running.set(msg.id, ac);
  run(msg.job, ac.signal)
    .then(
      (result) => reply({ type: "result", id: msg.id, result }),
      (err: unknown) => reply({ type: "error", id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    )
    .finally(() => running.delete(msg.id));
});
// Built (or found in the cache) before "ready", so that gcc never runs inside a measurement.
const native = prepareNative();
reply({ type: "ready", newConnsGenerator: native.ok ? native.describe : `Node (the C one is unavailable: ${native.why})` });
// An orphaned generator would keep hammering ports that later belong to someone else.
process.on("disconnect", () => process.exit(0));
