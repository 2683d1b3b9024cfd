import { parseArgs } from "node:util";
import { TARGETS, type TargetName } from "./peers.ts";

export const SECTIONS = ["http", "https", "rss"] as const;
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
}

/** A bad command line: reported as its message alone, without a stack. */
export class UsageError extends Error {}

const USAGE = `usage: npm run bench -- [--quick] [--only http|https|rss]... [--targets pryx,mitmdump,...] [--duration S] [--warmup S]`;

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
  };
}
