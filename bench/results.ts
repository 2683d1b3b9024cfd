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

export interface Findings {
  measurements: Measurement[];
  /** Peak RSS (VmHWM) of each proxy process over its HTTP and HTTPS runs. */
  peakKiB: Partial<Record<TargetName, number>>;
  rss?: RssFlatness;
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
