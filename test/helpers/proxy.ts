import fs from "node:fs";
import { decodeSummaries } from "../../src/summary-codec.ts";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Engine } from "../../src/engine/engine.ts";
import type { MemoryWatch } from "../../src/engine/memory-watch.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { EngineEvent, FlowSummary, LogEntry } from "../../src/protocol.ts";

/** One CA for the whole test process: making a CA costs an RSA key generation. */
let sharedConfdir: string | undefined;
export function testConfdir(): string {
  if (!sharedConfdir) {
    sharedConfdir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-test-conf-"));
    process.on("exit", () => fs.rmSync(sharedConfdir as string, { recursive: true, force: true }));
  }
  return sharedConfdir;
}

export interface TestProxy {
  engine: Engine;
  port: number;
  /** Every event the engine posted, in order. */
  events: EngineEvent[];
  logs: LogEntry[];
  /** Finished flow summaries, in the order they finished. */
  finished(): FlowSummary[];
  /** Resolves once `n` flows have finished (or rejects after `timeoutMs`). */
  waitFinished(n: number, timeoutMs?: number): Promise<FlowSummary[]>;
  waitLog(re: RegExp, timeoutMs?: number): Promise<LogEntry>;
  stop(): Promise<void>;
}

/**
 * An engine in the test's own thread (the worker boundary is covered by the dump and
 * console tests), listening on 127.0.0.1 on a free port, with addons added before start.
 */
export async function startProxy(opts: { addons?: Addon[]; options?: Record<string, string>; keepFlows?: boolean; memory?: MemoryWatch } = {}): Promise<TestProxy> {
  const events: EngineEvent[] = [];
  const logs: LogEntry[] = [];
  const done = new Map<string, FlowSummary>();
  const watchers = new Set<() => void>();
  const engine = new Engine(
    { options: { listen_port: "0", confdir: testConfdir(), ...opts.options }, keepFlows: opts.keepFlows ?? true, noServer: false },
    (ev) => {
      events.push(ev);
      if (ev.t === "batch") {
        logs.push(...ev.logs);
        // Within one batch a flow added and finished comes in `add`, one added earlier in `update`:
        // arrival order between them, as pryx dump prints them, not the arrays' order.
        const finished = [...decodeSummaries(ev.add), ...decodeSummaries(ev.update)].filter((f) => !f.live && !done.has(f.id)).sort((a, b) => a.seq - b.seq);
        for (const f of finished) done.set(f.id, f);
        for (const w of watchers) w();
      }
    },
    opts.memory,
  );
  for (const [i, a] of (opts.addons ?? []).entries()) await engine.addons.add(a, a.name ?? `test-addon-${i}`);
  const info = await engine.start();
  const port = Number(/:(\d+)$/.exec(info.listen[0] ?? "")?.[1]);
  const waitFor = <T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        engine.flush();
        const v = get();
        if (v !== undefined) {
          watchers.delete(check);
          clearTimeout(timer);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      watchers.add(check);
      check();
    });
  return {
    engine,
    port,
    events,
    logs,
    finished: () => [...done.values()],
    waitFinished: (n, timeoutMs = 5000) => waitFor(() => (done.size >= n ? [...done.values()] : undefined), `${n} finished flows (have ${done.size})`, timeoutMs),
    waitLog: (re, timeoutMs = 5000) => waitFor(() => logs.find((l) => re.test(l.msg)), `a log line matching ${re}`, timeoutMs),
    stop: () => engine.stop(),
  };
}

export function portOf(server: { address(): AddressInfo | string | null }): number {
  return (server.address() as AddressInfo).port;
}
