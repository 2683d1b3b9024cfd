/** What a run found, shared by the report and the target checks. */
import type { JobResult } from "./jobs.ts";
import type { TargetName } from "./peers.ts";
import { type Scenario, headline } from "./scenarios.ts";

export interface Measurement {
  scenario: Scenario;
  target: TargetName;
  result: JobResult;
  /** Cores used by processes outside the bench while this ran. */
  foreignCores: number;
  /** The generator is one thread: near 1.0 it, not the target, set the pace. */
  loadgenCores: number;
  originCores: number;
  targetCores?: number;
}

/** Above this the single-threaded load generator may be what limits the figure. */
export const LOADGEN_SATURATED = 0.9;

/** Above this much outside load a figure is flagged: it may say more about the machine than the proxy. */
export const BUSY_CORES = 0.2;

export interface RssFlatness {
  first: { requests: number; rssKiB: number; perSecond: number };
  second: { requests: number; rssKiB: number; perSecond: number };
  peakKiB: number;
  foreignCores: number;
}

/** Key-to-repaint latencies of one kind of press, in ms. */
export interface LatencyStat {
  n: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Presses whose repaint never came within the time limit (not in the percentiles). */
  timeouts: number;
}

export interface ConsoleRow {
  id: string;
  group: "idle" | "flood" | "filter";
  label: string;
  stat: LatencyStat;
  /** The target for p95, when it sets one. */
  targetP95Ms?: number;
  /** mitmproxy 8.1.1's console on this machine, as the issues quote it. */
  mitmproxy?: string;
}

/** A throughput run against one proxy, with the CPU its process (and, for the console, its main thread) used. */
export interface ThroughputRun {
  result: JobResult;
  cores: number;
  mainThreadCores?: number;
  foreignCores: number;
}

export interface ConsoleFindings {
  flows: number;
  fileBytes: number;
  alphaFlows: number;
  avgBodyBytes: number;
  cols: number;
  rows: number;
  /** From starting `pryx -r FILE` to the frame showing every flow. */
  loadMs: number;
  /** Right after the flows were shown, and again after the idle key presses and filters. */
  memLoaded: { rssKiB: number; hwmKiB: number };
  memSettled: { rssKiB: number; hwmKiB: number };
  latencies: ConsoleRow[];
  /** `j` presses right after a filter's Enter that repainted before the filtered list did. */
  jBeforeFilter: number;
  /** Writing a byte into the pty and reading its echo back, without the console: the harness's floor. */
  ptyFloor: LatencyStat;
  /** Cores used by processes outside the bench while the idle keys and the filters were timed. */
  foreignCores: { idle?: number; filter?: number };
  connections: number;
  flood?: ThroughputRun;
  /** The same keep-alive load for the same time, console (no keys pressed) and `pryx dump` alternating: the median run of each. */
  withConsole?: ThroughputRun;
  withDump?: ThroughputRun;
  throughputRounds: number;
  /** Each round in order: the flows the console held as it began (it keeps every flow), and both rates. */
  roundsByFlows: { flows: number; console: number; dump: number }[];
  profile: string[];
  notes: string[];
}

export interface Findings {
  measurements: Measurement[];
  /** Peak RSS (VmHWM) of each proxy process over its HTTP and HTTPS runs. */
  peakKiB: Partial<Record<TargetName, number>>;
  rss?: RssFlatness;
  console?: ConsoleFindings;
  skipped: string[];
}

function find(ms: Measurement[], scenario: Scenario, target: TargetName): Measurement | undefined {
  return ms.find((m) => m.scenario.id === scenario.id && m.target === target);
}

/** How many times better `m` is than the peer's figure (for latency: peer / ours). */
export function ratio(ms: Measurement[], m: Measurement, peer: TargetName): number | undefined {
  const other = find(ms, m.scenario, peer);
  if (!other || other === m) return undefined;
  const a = headline(m.scenario, m.result);
  const b = headline(other.scenario, other.result).value;
  if (!(a.value > 0) || !(b > 0)) return undefined;
  return a.higherIsBetter ? a.value / b : b / a.value;
}
