/**
 * The console section: the real `pryx` console in a pty with 100,000 flows loaded, timed from the
 * keyboard to the finished repaint, idle, while filtering, and under a flood through its own proxy
 * port; its memory; and its proxy throughput against `pryx dump` under the same load.
 */
import fs from "node:fs";
import path from "node:path";
import type { ConsoleSettings, Settings } from "../args.ts";
import { cpuSince, cpuSnapshot } from "../cpu.ts";
import type { Job, JobResult, Route } from "../jobs.ts";
import { startTarget } from "../peers.ts";
import { forkTs, freePort, readMemory, tempDir } from "../procs.ts";
import type { ConsoleFindings, ConsoleRow, LatencyStat, ThroughputRun } from "../results.ts";
import { jobTimeoutMs } from "../scenarios.ts";
import type { Loadgen, Origin } from "../services.ts";
import { percentile } from "../stats.ts";
import type { FlowFileDone, FlowFileRequest } from "./flowfile.ts";
import { formatSummary, mainThreadProfile, summarize } from "./profile.ts";
import { type Frame, ConsolePty, KeyTimeout, ptyRoundTrip, sleep } from "./pty.ts";

const log = (s: string): void => void process.stderr.write(`${s}\n`);

export const COLS = 120;
export const ROWS = 40;
/**
 * Between presses the console is left quiet this long (idle), or this long after the last
 * repaint (under load, where it never goes quiet): longer than Ink's 34 ms render throttle, so an
 * idle press is not timed behind the previous one's frame. About 12 presses a second.
 */
const GAP_MS = 40;
const JITTER_MS = 15;
const PRESS_TIMEOUT_MS = 5000;
const FILTER = "~u /alpha";

class Sampler {
  readonly ms: number[] = [];
  timeouts = 0;

  stat(): LatencyStat {
    const sorted = Float64Array.from(this.ms).sort();
    return { n: sorted.length, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95), maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN, timeouts: this.timeouts };
  }
}

/** Writes the flow file from a child process (it builds 100,000 flows with the engine's classes). */
async function makeFlowFile(root: string, file: string, count: number): Promise<FlowFileDone> {
  const child = forkTs("flowfile", path.join(root, "bench/console/flowfile.ts"), { cwd: root });
  const done = new Promise<FlowFileDone>((resolve, reject) => {
    child.proc.once("message", (m: FlowFileDone) => resolve(m));
    void child.exited.then((code) => reject(new Error(`the flow file writer exited (${code}):\n${child.stderrTail()}`)));
  });
  const req: FlowFileRequest = { type: "flowfile", file, count };
  child.proc.send(req);
  const r = await done;
  await child.exited;
  return r;
}

/** utime + stime of one thread; the main thread's id is the process id. */
function threadTicks(pid: number, tid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

class Driver {
  constructor(
    readonly pty: ConsolePty,
    readonly flows: number,
    readonly notes: string[],
  ) {}

  async pace(busy: boolean): Promise<void> {
    if (busy) await sleep(GAP_MS + Math.random() * JITTER_MS);
    else {
      await this.pty.quiet(GAP_MS, 2000);
      await sleep(Math.random() * JITTER_MS);
    }
  }

  /** Times one press from its write; a repaint that never comes is counted, not fatal. */
  async timed(s: Sampler, bytes: string, pred: (f: Frame) => boolean, what: string, at = this.pty.write(bytes)): Promise<Frame | undefined> {
    try {
      const f = await this.pty.waitFrame(pred, PRESS_TIMEOUT_MS, what, at);
      s.ms.push(f.at - at);
      return f;
    } catch (err) {
      if (!(err instanceof KeyTimeout)) throw err;
      s.timeouts++;
      if (s.timeouts === 1) this.notes.push(`${JSON.stringify(bytes)}: ${err.message.split("\n")[0]}`);
      return undefined;
    }
  }

  /** Untimed: brings the console into a state before a timed press. */
  async ensure(bytes: string, pred: (f: Frame) => boolean, what: string): Promise<void> {
    const last = this.pty.last;
    if (last && pred(last)) return;
    await this.pty.waitFrame(pred, 15_000, what, this.pty.write(bytes));
  }

  async toListTop(): Promise<void> {
    await this.ensure("q", (f) => !f.detail && f.prompt === undefined && f.focus !== null, "the flow list");
    await this.ensure("g", (f) => f.focus === 0, "the first flow focused");
  }

  /**
   * `presses` × j, then `cycles` × (G, g) and (Enter, q). `endFocus` is what G focuses: the file's
   * last flow, or -1 for a flow from elsewhere (the flood's, which arrive after the file's).
   */
  async keys(busy: boolean, presses: number, cycles: number, endFocus: number, going: () => boolean = () => true): Promise<Record<string, Sampler>> {
    const s = { j: new Sampler(), G: new Sampler(), g: new Sampler(), enter: new Sampler(), enterLoaded: new Sampler(), q: new Sampler() };
    await this.toListTop();
    for (let i = 0; i < presses && going(); i++) {
      await this.pace(busy);
      const cur = this.pty.last?.focus;
      if (cur === null || cur === undefined || cur < 0) {
        await this.toListTop();
        continue;
      }
      await this.timed(s.j, "j", (f) => f.focus === cur + 1, `the focus on flow ${cur + 1}`);
    }
    for (let i = 0; i < cycles && going(); i++) {
      await this.pace(busy);
      await this.timed(s.G, "G", (f) => f.focus === endFocus, "the focus on the last flow");
      await this.pace(busy);
      await this.timed(s.g, "g", (f) => f.focus === 0, "the focus on the first flow");
    }
    await this.toListTop();
    for (let i = 0; i < cycles && going(); i++) {
      await this.pace(busy);
      const at = this.pty.write("\r");
      await this.timed(s.enter, "\r", (f) => f.detail, "the flow view's tab bar", at);
      await this.timed(s.enterLoaded, "\r", (f) => f.detailLoaded, "the flow view's content", at);
      await this.pace(busy);
      await this.timed(s.q, "q", (f) => !f.detail && f.focus !== null, "the flow list again");
      if (this.pty.last?.detail) await this.ensure("q", (f) => !f.detail, "the flow list");
    }
    return s;
  }

  /**
   * Sets `~u /alpha` and clears it in turn, as a user does: `f` opens `set view_filter '…'` with
   * the cursor before the closing quote, the filter is typed (or erased with Backspace), Enter.
   * Timed from Enter to the frame with the new `[shown/total]`; a `j` pressed right after Enter
   * shows whether keys are answered while the filter is applied.
   */
  async filters(runs: number, alpha: number): Promise<{ set: Sampler; clear: Sampler; j: Sampler; jFirst: number }> {
    const set = new Sampler();
    const clear = new Sampler();
    const j = new Sampler();
    let jFirst = 0;
    const n = this.flows;
    for (let r = 0; r < runs; r++) {
      await this.toListTop();
      const filtered = this.pty.last?.counts?.shown !== n;
      const current = filtered ? FILTER : "";
      await this.pace(false);
      await this.pty.waitFrame((f) => f.prompt === `set view_filter '${current}'`, 5000, "the filter prompt", this.pty.write("f"));
      const want = filtered ? "set view_filter ''" : `set view_filter '${FILTER}'`;
      this.pty.write(filtered ? "\x7f".repeat(current.length) : FILTER);
      await this.pty.waitFrame((f) => f.prompt === want, 5000, `the prompt reading ${want}`);
      await this.pace(false);
      const expect = filtered ? n : alpha;
      const at = this.pty.write("\r");
      await sleep(1);
      const jAt = this.pty.write("j");
      const [ff, jf] = await Promise.all([
        this.timed(filtered ? clear : set, "\r", (f) => f.counts?.shown === expect && f.counts.total === n, `[${expect}/${n}]`, at),
        this.timed(j, "j", (f) => f.focus !== null && f.focus !== 0 && f.prompt === undefined, "the focus moved off the first flow", jAt),
      ]);
      if (ff && jf && jf.at < ff.at) jFirst++;
      if (!ff) await this.pty.waitFrame((f) => f.counts?.shown === expect, 30_000, `[${expect}/${n}] at last`);
    }
    // Leave the list unfiltered for what follows.
    if (this.pty.last?.counts?.shown !== n) {
      await this.toListTop();
      await this.pty.waitFrame((f) => f.prompt === `set view_filter '${FILTER}'`, 5000, "the filter prompt", this.pty.write("f"));
      this.pty.write("\x7f".repeat(FILTER.length));
      await this.pty.waitFrame((f) => f.prompt === "set view_filter ''", 5000, "an empty filter");
      await this.pty.waitFrame((f) => f.counts?.shown === n, 30_000, "the whole list", this.pty.write("\r"));
    }
    return { set, clear, j, jFirst };
  }
}

interface LoadPids {
  origin: Origin;
  loadgen: Loadgen;
  extra: number[];
}

/** The run with the median requests/s (the lower middle one of an even count). */
function medianRun(runs: ThroughputRun[]): ThroughputRun {
  const sorted = [...runs].sort((a, b) => a.result.perSecond - b.result.perSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)] as ThroughputRun;
}

/** One keep-alive run against a proxy, with the CPU its process and (for the console) its main thread used. */
async function loadRun(loadgen: Loadgen, job: Job, pid: number, pids: LoadPids, during?: () => Promise<void>): Promise<ThroughputRun> {
  const own = [process.pid, pids.origin.child.proc.pid, pids.loadgen.child.proc.pid, pid, ...pids.extra].filter((p): p is number => p !== undefined);
  const before = cpuSnapshot(own);
  const main0 = threadTicks(pid, pid);
  const t0 = performance.now();
  const stop = new AbortController();
  const running = loadgen.run(job, jobTimeoutMs(job), stop.signal);
  if (during) {
    try {
      await during();
    } catch (err) {
      stop.abort();
      await running.catch(() => undefined);
      throw err;
    }
    // The load lasts as long as the keys are pressed.
    stop.abort();
  }
  const result: JobResult = await running;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSince(before);
  return { result, cores: cpu.byPid.get(pid) ?? 0, mainThreadCores: (threadTicks(pid, pid) - main0) / 100 / seconds, foreignCores: cpu.foreign };
}

function keepAlive(route: Route, connections: number, warmupMs: number, durationMs: number): Job {
  return { kind: "keepalive", route, tls: false, path: "/1k", connections, warmupMs, durationMs, hosts: [] };
}

function fmt(st: LatencyStat): string {
  const t = st.timeouts ? `, ${st.timeouts} timed out` : "";
  return `p50 ${st.p50Ms.toFixed(1)} ms, p95 ${st.p95Ms.toFixed(1)} ms, max ${st.maxMs.toFixed(1)} ms (n=${st.n}${t})`;
}

export async function measureConsole(s: Settings, origin: Origin, loadgen: Loadgen, root: string): Promise<ConsoleFindings> {
  const cs: ConsoleSettings = s.console;
  const dir = tempDir("console");
  const file = path.join(dir, "flows.pryx");
  log(`\nconsole: writing ${cs.flows.toLocaleString("en-US")} flows to a flow file`);
  const made = await makeFlowFile(root, file, cs.flows);
  log(`  ${(made.bytes / 1048576).toFixed(0)} MiB, ${made.alpha.toLocaleString("en-US")} with /alpha, responses ${Math.round(made.avgResponseBody)} B on average`);

  const floor = new Sampler();
  floor.ms.push(...(await ptyRoundTrip(root, 50)));
  const floorStat = floor.stat();
  log(`  pty round trip without the console (script + a raw-mode echo): ${fmt(floorStat)}`);

  const port = await freePort();
  const confdir = tempDir("console-conf");
  if (cs.profileDir) fs.mkdirSync(cs.profileDir, { recursive: true });
  const notes: string[] = cs.profileDir ? ["the console ran under node --cpu-prof (--profile), which slows it: take figures without it"] : [];
  const t0 = performance.now();
  const pty = await ConsolePty.start({ root, port, confdir, flowFile: file, rows: ROWS, cols: COLS, ...(cs.profileDir ? { cpuProfDir: cs.profileDir } : {}) });
  const n = cs.flows;
  const latencies: ConsoleRow[] = [];
  const d = new Driver(pty, n, notes);
  const f: ConsoleFindings = {
    flows: n,
    fileBytes: made.bytes,
    alphaFlows: made.alpha,
    avgBodyBytes: made.avgResponseBody,
    cols: COLS,
    rows: ROWS,
    loadMs: 0,
    memLoaded: { rssKiB: 0, hwmKiB: 0 },
    memSettled: { rssKiB: 0, hwmKiB: 0 },
    latencies,
    jBeforeFilter: 0,
    throughputRounds: 0,
    roundsByFlows: [],
    ptyFloor: floorStat,
    foreignCores: {},
    connections: cs.connections,
    profile: [],
    notes: d.notes,
  };
  const pids: LoadPids = { origin, loadgen, extra: [pty.script.proc.pid ?? 0] };
  const route: Route = { dialPort: port, originPort: origin.httpPort, viaProxy: true, connectByName: false, checkHostname: true };
  try {
    await pty.waitFrame((fr) => fr.counts?.total === n && fr.counts.shown === n, 180_000, `[${n}/${n}] in the status bar`);
    f.loadMs = performance.now() - t0;
    await pty.quiet(300, 5000);
    f.memLoaded = readMemory(pty.pid);
    log(`  console pid ${pty.pid} in a ${COLS}x${ROWS} pty: ${n.toLocaleString("en-US")} flows shown after ${(f.loadMs / 1000).toFixed(1)} s; RSS ${(f.memLoaded.rssKiB / 1024).toFixed(0)} MiB, peak ${(f.memLoaded.hwmKiB / 1024).toFixed(0)} MiB`);

    const own = [process.pid, origin.child.proc.pid, loadgen.child.proc.pid, pty.pid, pty.script.proc.pid].filter((p): p is number => p !== undefined);
    let before = cpuSnapshot(own);
    const idle = await d.keys(false, cs.presses, cs.cycles, n - 1);
    f.foreignCores.idle = cpuSince(before).foreign;
    const add = (group: ConsoleRow["group"], id: string, label: string, sm: Sampler, targetP95Ms?: number, mitmproxy?: string): void => {
      const stat = sm.stat();
      latencies.push({ id, group, label, stat, ...(targetP95Ms === undefined ? {} : { targetP95Ms }), ...(mitmproxy ? { mitmproxy } : {}) });
      log(`  ${group.padEnd(6)} ${label.padEnd(34)} ${fmt(stat)}`);
    };
    add("idle", "idle/j", "j (focus down)", idle.j, 20, "29 / 42 ms");
    add("idle", "idle/G", "G (to the last flow)", idle.G, 20);
    add("idle", "idle/g", "g (to the first flow)", idle.g, 20);
    add("idle", "idle/enter", "Enter (flow view's tab bar)", idle.enter, 20);
    add("idle", "idle/enter-loaded", "Enter (request shown)", idle.enterLoaded);
    add("idle", "idle/q", "q (back to the list)", idle.q, 20);

    before = cpuSnapshot(own);
    const fl = await d.filters(cs.filterRuns, made.alpha);
    f.foreignCores.filter = cpuSince(before).foreign;
    add("filter", "filter/set", `set ${FILTER} (${made.alpha.toLocaleString("en-US")} shown)`, fl.set, 100, "1.1 s");
    add("filter", "filter/clear", `clear it (${n.toLocaleString("en-US")} shown)`, fl.clear, 100);
    // The console is busy filtering: held to the key target under load.
    add("filter", "filter/j", "j pressed right after Enter", fl.j, 30);
    f.jBeforeFilter = fl.jFirst;
    log(`  j repainted before the filtered list in ${fl.jFirst} of ${fl.j.ms.length}`);
    await pty.quiet(300, 5000);
    f.memSettled = readMemory(pty.pid);

    // Console and dump under the same load for the same time; the console idles (no keys).
    // Alternated over several rounds and compared by their medians: this machine's speed drifts
    // by ±15% from one run to the next, more than the difference being measured. Five rounds:
    // with three, one slow round on either side moved the ratio by 20 points between runs.
    const rounds = s.quick ? 1 : 5;
    f.throughputRounds = rounds;
    log(`  proxy throughput, HTTP/1.1 keep-alive 1 KiB, ${cs.connections} conns, ${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s, ${rounds} alternating round(s):`);
    const withConsole: ThroughputRun[] = [];
    const withDump: ThroughputRun[] = [];
    const dump = await startTarget("pryx", origin, root);
    try {
      for (let r = 0; r < rounds; r++) {
        const held = pty.last?.counts?.total ?? 0;
        const c = await loadRun(loadgen, keepAlive(route, cs.connections, s.warmupMs, s.durationMs), pty.pid, { ...pids, extra: [...pids.extra, dump.pid as number] });
        withConsole.push(c);
        log(`    console  ${Math.round(c.result.perSecond)} req/s with ${held.toLocaleString("en-US")} flows held (console ${c.cores.toFixed(2)} cores, its main thread ${c.mainThreadCores?.toFixed(2)})`);
        const d = await loadRun(loadgen, keepAlive(dump.http, cs.connections, s.warmupMs, s.durationMs), dump.pid as number, { ...pids, extra: [...pids.extra, pty.pid] });
        withDump.push(d);
        log(`    dump     ${Math.round(d.result.perSecond)} req/s (${d.cores.toFixed(2)} cores)`);
        f.roundsByFlows.push({ flows: held, console: c.result.perSecond, dump: d.result.perSecond });
      }
    } finally {
      await dump.stop();
    }
    f.withConsole = medianRun(withConsole);
    f.withDump = medianRun(withDump);

    // The flood: as many requests as the connections get through, for as long as the keys are pressed again.
    // 20 cycles: with 5, the p95 of G, g, Enter and q under the flood was their single worst press.
    const floodCycles = Math.max(3, Math.round(cs.cycles / 2.5));
    const warmMs = 1000;
    // The section's time budget: a console that answers slowly gets fewer presses, and a note.
    const maxMs = s.quick ? 15_000 : 40_000;
    log(`  flood: ${cs.connections} conns through the console (at most ${maxMs / 1000} s) while pressing keys`);
    let fk: Record<string, Sampler> | undefined;
    f.flood = await loadRun(loadgen, keepAlive(route, cs.connections, warmMs, maxMs), pty.pid, pids, async () => {
      await sleep(warmMs + 200);
      const stopAt = performance.now() + maxMs - 500;
      fk = await d.keys(true, cs.presses, floodCycles, -1, () => performance.now() < stopAt);
    });
    const k = fk!;
    const rate = `${Math.round(f.flood.result.perSecond).toLocaleString("en-US")} req/s`;
    add("flood", "flood/j", `j, flood at ${rate}`, k.j, 30, "59 / 125 ms");
    add("flood", "flood/G", "G", k.G, 30);
    add("flood", "flood/g", "g", k.g, 30);
    add("flood", "flood/enter", "Enter (tab bar)", k.enter, 30);
    add("flood", "flood/enter-loaded", "Enter (request shown)", k.enterLoaded);
    add("flood", "flood/q", "q", k.q, 30);
    log(`    ${rate} (${f.flood.result.errors} errors, ${f.flood.result.badStatus} non-2xx); console ${f.flood.cores.toFixed(2)} cores, its main thread ${f.flood.mainThreadCores?.toFixed(2)}`);
    if (k.j.ms.length + k.j.timeouts < cs.presses) f.notes.push(`the flood's time limit came after ${k.j.ms.length} of ${cs.presses} j presses`);
    log(`    over ${f.flood.result.seconds.toFixed(1)} s`);
  } finally {
    await pty.stop();
  }
  if (cs.profileDir) {
    const main = mainThreadProfile(cs.profileDir, pty.pid);
    if (main) {
      const sum = summarize(main);
      // Areas and src/tui's hottest functions, then everything's hottest by self time.
      f.profile = [...formatSummary(sum, "src/tui", 12), ...formatSummary(sum, undefined, 15).slice(2, 18)];
      log(`  CPU profiles in ${cs.profileDir}; main thread: ${path.basename(main)}`);
    } else f.notes.push(`no CPU profile was written to ${cs.profileDir}`);
  }
  return f;
}
