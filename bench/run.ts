/**
 * `npm run bench`: one run that measures direct-to-origin, pryx and its peers under the same
 * load on the same machine, so the ratios mean something even where absolute figures do not.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Settings, UsageError, parseSettings } from "./args.ts";
import { cpuSince, cpuSnapshot } from "./cpu.ts";
import type { Job, JobResult } from "./jobs.ts";
import { type Target, startTarget, unavailable } from "./peers.ts";
import { measureConsole } from "./console/measure.ts";
import { consoleUnavailable } from "./console/pty.ts";
import { killAllNow, readMemory, stopAll } from "./procs.ts";
import { generatorCell, renderReport } from "./report.ts";
import { BUSY_CORES, type Findings, type Measurement, type RssFlatness } from "./results.ts";
import { SCENARIOS, headline, jobTimeoutMs, primeJob, roundsOf } from "./scenarios.ts";
import { Loadgen, type Origin, startOrigin } from "./services.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** The bench's own processes: CPU they use is load, not noise. */
function ownPids(origin: Origin, loadgen: Loadgen, targetPid: number | undefined): number[] {
  return [process.pid, origin.child.proc.pid, loadgen.child.proc.pid, targetPid].filter((p): p is number => p !== undefined);
}

function progress(m: Measurement): void {
  const { scenario: s, result: r } = m;
  const { value } = headline(s, r);
  const figure = s.unit === "ms" ? `${value.toFixed(2)} ms p50` : `${Math.round(value).toLocaleString("en-US")} ${s.unit}`;
  const errs = r.errors || r.badStatus ? `  errors ${r.errors} non-2xx ${r.badStatus}` : "";
  const busy = m.foreignCores >= BUSY_CORES ? `  (other processes used ${m.foreignCores.toFixed(2)} cores)` : "";
  const cpu = `cpu: ${m.targetCores === undefined ? "" : `${m.target} ${m.targetCores.toFixed(2)}, `}origin ${m.originCores.toFixed(2)}, loadgen ${m.loadgenCores.toFixed(2)}`;
  const gen = generatorCell(r);
  const fallback = r.generator?.name === "node" && r.generator.detail ? ` (${r.generator.detail})` : "";
  log(`  ${m.target.padEnd(16)} ${figure.padStart(14)}  p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  ${cpu}${gen ? `, generator ${gen}${fallback}` : ""}${errs}${busy}`);
}

/** The round whose headline figure is the median (the lower middle of an even count). */
function medianRound(runs: Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => headline(a.scenario, a.result).value - headline(b.scenario, b.result).value);
  return sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
}

/**
 * All targets run at once and each scenario visits them in turn, so that load from outside
 * the bench (this machine is shared) is spread over the targets of a comparison rather than
 * landing on one of them.
 */
async function measureTargets(s: Settings, origin: Origin, loadgen: Loadgen, f: Findings): Promise<void> {
  const targets: Target[] = [];
  try {
    for (const name of s.targets) {
      const why = unavailable(name);
      if (why) {
        f.skipped.push(`${name}: ${why}`);
        log(`${name}: skipped, ${why}`);
        continue;
      }
      log(`${name}: starting`);
      targets.push(await startTarget(name, origin, ROOT));
    }
    const run = (job: Job): Promise<JobResult> => loadgen.run(job, jobTimeoutMs(job));
    const wanted = SCENARIOS.filter((sc) => s.sections.has(sc.section));
    let primed = false;
    for (const sc of wanted) {
      if (sc.section === "https" && !primed) {
        primed = true;
        for (const t of targets.filter((t) => t.pid !== undefined)) {
          const r = await run(primeJob(t));
          if (r.errors || r.badStatus) log(`  ${t.name}: priming certificates for h1..h16.test: ${r.errors} errors, ${r.badStatus} non-2xx, first: ${r.firstError}`);
        }
      }
      const rounds = roundsOf(sc, s);
      log(`\n${sc.label}${rounds > 1 ? ` (${rounds} alternating rounds, each target judged by its median)` : ""}`);
      const byTarget = new Map<string, Measurement[]>();
      for (let r = 0; r < rounds; r++) {
        for (const t of targets) {
          // The C new-conns generator is the load generator's child, reaped before it answers.
          const before = cpuSnapshot(ownPids(origin, loadgen, t.pid), [loadgen.child.proc.pid as number]);
          const result = await run(sc.job(t, s));
          const cpu = cpuSince(before);
          const m: Measurement = {
            scenario: sc,
            target: t.name,
            result,
            foreignCores: cpu.foreign,
            loadgenCores: cpu.byPid.get(loadgen.child.proc.pid as number) ?? 0,
            originCores: cpu.byPid.get(origin.child.proc.pid as number) ?? 0,
            targetCores: t.pid === undefined ? undefined : cpu.byPid.get(t.pid),
          };
          byTarget.set(t.name, [...(byTarget.get(t.name) ?? []), m]);
          progress(m);
        }
      }
      for (const runs of byTarget.values()) f.measurements.push(medianRound(runs));
    }
    for (const t of targets) if (t.pid !== undefined) f.peakKiB[t.name] = readMemory(t.pid).hwmKiB;
  } finally {
    for (const t of targets) await t.stop();
  }
}

/** A fresh pryx, so the checkpoints see only this scenario's requests. */
async function measureRss(s: Settings, origin: Origin, loadgen: Loadgen): Promise<RssFlatness> {
  log(`\npryx: RSS flatness in dump mode (${s.rssCheckpoints.join(" / ")} requests, 1 KiB, 50 conns)`);
  const target = await startTarget("pryx", origin, ROOT);
  try {
    const pid = target.pid as number;
    const step = async (requests: number, maxMs: number): Promise<JobResult> => {
      const job: Job = { kind: "keepalive", route: target.http, tls: false, path: "/1k", connections: 50, warmupMs: 0, durationMs: maxMs, stopAfter: requests, hosts: [] };
      return loadgen.run(job, jobTimeoutMs(job));
    };
    const before = cpuSnapshot(ownPids(origin, loadgen, pid));
    const [c1, c2] = s.rssCheckpoints;
    const r1 = await step(c1, s.rssMaxMs / 3);
    const m1 = readMemory(pid);
    log(`  after ${r1.count} requests: RSS ${(m1.rssKiB / 1024).toFixed(1)} MiB (${Math.round(r1.perSecond)} req/s, ${r1.errors} errors)`);
    const r2 = await step(Math.max(1, c2 - r1.count), (s.rssMaxMs * 2) / 3);
    const m2 = readMemory(pid);
    const total = r1.count + r2.count;
    log(`  after ${total} requests: RSS ${(m2.rssKiB / 1024).toFixed(1)} MiB (${Math.round(r2.perSecond)} req/s, ${r2.errors} errors)`);
    if (total < c2) log(`  note: stopped at the ${s.rssMaxMs / 1000} s limit before ${c2} requests`);
    return {
      first: { requests: r1.count, rssKiB: m1.rssKiB, perSecond: r1.perSecond },
      second: { requests: total, rssKiB: m2.rssKiB, perSecond: r2.perSecond },
      peakKiB: m2.hwmKiB,
      foreignCores: cpuSince(before).foreign,
    };
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const s = parseSettings(process.argv.slice(2));
  const f: Findings = { measurements: [], peakKiB: {}, skipped: [] };
  log(`pryx bench: sections ${[...s.sections].join(", ")}; targets ${s.targets.join(", ")}`);
  const origin = await startOrigin(ROOT);
  const loadgen = await Loadgen.start(ROOT);
  log(`origin on 127.0.0.1:${origin.httpPort} (http) and :${origin.httpsPort} (https); load generator pid ${loadgen.child.proc.pid}`);
  if (s.sections.has("https")) log(`new CONNECT+TLS connection scenarios: ${loadgen.newConnsGenerator} load generator`);
  if (s.sections.has("http") || s.sections.has("https")) await measureTargets(s, origin, loadgen, f);
  if (s.sections.has("rss")) f.rss = await measureRss(s, origin, loadgen);
  if (s.sections.has("console")) {
    const why = consoleUnavailable();
    if (why) {
      f.skipped.push(`console: ${why}`);
      log(`console: skipped, ${why}`);
    } else f.console = await measureConsole(s, origin, loadgen, ROOT);
  }
  process.stdout.write(renderReport(s, f));
}

let stopping = false;
const interrupt = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log(`\nbench: ${signal}, stopping every child process`);
  void stopAll().finally(() => process.exit(130));
};
process.on("SIGINT", () => interrupt("SIGINT"));
process.on("SIGTERM", () => interrupt("SIGTERM"));
// Last resort for paths that skip the cleanup below (process.exit from elsewhere).
process.on("exit", killAllNow);

try {
  await main();
  await stopAll();
} catch (err) {
  if (err instanceof UsageError) log(err.message);
  else log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  process.exitCode = err instanceof UsageError ? 2 : 1;
}
