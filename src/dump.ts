import type { EngineHandle } from "./engine-client.ts";
import type { EngineEvent, FlowSummary, LogEntry } from "./protocol.ts";

export interface DumpOptions {
  jsonl: boolean;
  /** 0 prints no flows (errors only), 1 a line per flow. */
  flowDetail: number;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export function formatSize(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1024) return `${n}b`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)}k`;
  return `${(n / 1024 / 1024).toFixed(1)}m`;
}

export function formatDuration(s: number | undefined): string {
  if (s === undefined) return "";
  return s < 1 ? `${Math.round(s * 1000)}ms` : `${s.toFixed(2)}s`;
}

/** mitmdump's one line: client, method, full URL, status (or error), size, duration. */
export function formatFlowLine(f: FlowSummary): string {
  const what = f.type === "http" ? `${f.method} ${f.url}` : `${f.type.toUpperCase()} ${f.url}`;
  const outcome = f.error !== undefined ? `<< error: ${f.error}` : f.status !== undefined ? `<< ${f.status} ${f.reason ?? ""}`.trimEnd() : "<<";
  const size = f.type === "http" ? formatSize(f.respSize) : formatSize(f.reqSize);
  return [f.client, what, outcome, size, formatDuration(f.duration)].filter(Boolean).join(" ");
}

export function formatLog(e: LogEntry): string {
  return `[${e.level}] ${e.msg}`;
}

/** Headless consumer of engine events: prints each finished flow that the view filter shows. */
export function attachDump(engine: EngineHandle, opts: DumpOptions): () => void {
  const print = (f: FlowSummary): void => {
    if (f.live || !f.shown || opts.flowDetail <= 0) return;
    opts.out.write(`${opts.jsonl ? JSON.stringify(f) : formatFlowLine(f)}\n`);
  };
  return engine.on((ev: EngineEvent) => {
    if (ev.t !== "batch") return;
    for (const l of ev.logs) if (l.level !== "debug" && (l.level !== "info" || opts.flowDetail > 0)) opts.err.write(`${formatLog(l)}\n`);
    // Within one batch, print in arrival order whether a flow was added or updated.
    const finished = [...ev.add, ...ev.update].filter((f) => !f.live);
    if (finished.length > 1) finished.sort((a, b) => a.seq - b.seq);
    for (const f of finished) print(f);
  });
}
