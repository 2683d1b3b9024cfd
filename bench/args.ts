import path from "node:path";
import { parseArgs } from "node:util";
import { TARGETS, type TargetName } from "./peers.ts";

export const SECTIONS = ["http", "https", "rss", "console"] as const;
export type Section = (typeof SECTIONS)[number];

export interface Settings {
  quick: boolean;
  sections: Set<Section>;
  targets: TargetName[];
  warmupMs: number;
  durationMs: number;
  /** RSS is read after the first count and again after the second (cumulative). */
  rssCheckpoints: [number, number];
  /** Safety limit for the RSS scenario, so a slow proxy cannot run away with the budget. */
  rssMaxMs: number;
  firstContactHosts: number;
  firstContactMaxMs: number;
  console: ConsoleSettings;
}

/** The console section: the real `pryx` console in a pty with a flow file loaded. */
export interface ConsoleSettings {
  flows: number;
  /** Presses of `j`, idle and again during the flood. */
  presses: number;
  /** G/g and Enter/q cycles, idle (the flood gets half as many). */
  cycles: number;
  /** Filter runs, alternating between setting `~u /alpha` and clearing it. */
  filterRuns: number;
  /** Keep-alive connections of the flood and of the console-vs-dump throughput runs. */
  connections: number;
  /** Write the console's CPU profiles here (node --cpu-prof) and summarize the main thread's. */
  profileDir?: string;
}

/** A bad command line: reported as its message alone, without a stack. */
export class UsageError extends Error {}

const USAGE = `usage: npm run bench -- [--quick] [--only http|https|rss|console]... [--targets pryx,mitmdump,...] [--duration S] [--warmup S] [--profile DIR]`;

function listOf<T extends string>(values: string[], allowed: readonly T[], what: string): T[] {
  const out = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  for (const v of out) if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`unknown ${what} ${JSON.stringify(v)}; expected one of ${allowed.join(", ")}\n${USAGE}`);
  return out as T[];
}

function seconds(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 120) throw new UsageError(`--${name} expects seconds between 0 and 120, got ${JSON.stringify(v)}`);
  return n * 1000;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      targets: { type: "string", multiple: true },
      duration: { type: "string" },
      warmup: { type: "string" },
      profile: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
}

export function parseSettings(argv: string[]): Settings {
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const only = values.only ? listOf(values.only, SECTIONS, "section") : [...SECTIONS];
  const targets = values.targets ? listOf(values.targets, TARGETS, "target") : [...TARGETS];
  // Ratios need the direct baseline, so it always runs first.
  if (!targets.includes("direct")) targets.unshift("direct");
  return {
    quick,
    sections: new Set(only),
    targets: TARGETS.filter((t) => targets.includes(t)),
    warmupMs: seconds(values.warmup, quick ? 0.3 : 1, "warmup"),
    durationMs: seconds(values.duration, quick ? 1 : 4, "duration"),
    rssCheckpoints: quick ? [10_000, 30_000] : [100_000, 300_000],
    rssMaxMs: quick ? 20_000 : 150_000,
    firstContactHosts: quick ? 10 : 50,
    firstContactMaxMs: quick ? 3_000 : 8_000,
    console: {
      flows: quick ? 20_000 : 100_000,
      presses: quick ? 40 : 200,
      cycles: quick ? 10 : 50,
      // 20 of each: the p95 of 10 samples would be their maximum.
      filterRuns: quick ? 6 : 40,
      connections: 16,
      ...(values.profile ? { profileDir: path.resolve(values.profile) } : {}),
    },
  };
}
