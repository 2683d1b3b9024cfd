/** What is measured: each scenario turns a target's routes into one load-generator job. */
import type { Settings } from "./args.ts";
import type { Job, JobResult } from "./jobs.ts";
import type { Target } from "./peers.ts";

export interface Scenario {
  id: string;
  section: "http" | "https";
  label: string;
  /** Unit of the headline figure: a rate, or a p50 latency for first contact. */
  unit: "req/s" | "conn/s" | "ms";
  /**
   * Alternating rounds over the targets, each judged by its median round: for the figures a
   * target's ratio is held to that one 4 s run per target moved by ±10% between runs.
   */
  rounds?: number;
  job(target: Target, s: Settings): Job;
}

/** Names that resolve nowhere: proxies must take the address from CONNECT, the name from SNI. */
export const HOSTS16 = Array.from({ length: 16 }, (_, i) => `h${i + 1}.test`);

function httpScenario(path: "/1k" | "/100k", connections: number): Scenario {
  const size = path === "/1k" ? "1 KiB" : "100 KiB";
  return {
    id: `http${path}-c${connections}`,
    section: "http",
    label: `HTTP/1.1 keep-alive ${size}, ${connections} conn${connections > 1 ? "s" : ""}`,
    unit: "req/s",
    job: (t, s) => ({ kind: "keepalive", route: t.http, tls: false, path, connections, warmupMs: s.warmupMs, durationMs: s.durationMs, hosts: [] }),
  };
}

export const SCENARIOS: Scenario[] = [
  httpScenario("/1k", 50),
  httpScenario("/1k", 1),
  httpScenario("/100k", 50),
  httpScenario("/100k", 1),
  {
    id: "https-keepalive",
    section: "https",
    label: "HTTPS in CONNECT tunnels, keep-alive 1 KiB, 50 conns",
    unit: "req/s",
    job: (t, s) => ({ kind: "keepalive", route: t.https, tls: true, path: "/1k", connections: 50, warmupMs: s.warmupMs, durationMs: s.durationMs, hosts: HOSTS16 }),
  },
  {
    id: "https-new-conns",
    section: "https",
    // Handshake only, as the issue defines it: with lazy upstream connections no peer touches
    // the origin here, so this is the cost of CONNECT plus a TLS handshake with a cached cert.
    label: "New CONNECT+TLS handshakes, 16 hosts, 16 at a time",
    unit: "conn/s",
    rounds: 3,
    job: (t, s) => ({ kind: "new-conns", route: t.https, path: "/1k", withRequest: false, concurrency: 16, hosts: HOSTS16, warmupMs: s.warmupMs, durationMs: s.durationMs }),
  },
  {
    id: "https-new-conns-get",
    section: "https",
    // The same with one GET per connection: a proxy then also pays for its upstream connection.
    label: "New CONNECT+TLS conns with 1 GET each, 16 hosts, 16 at a time",
    unit: "conn/s",
    rounds: 3,
    job: (t, s) => ({ kind: "new-conns", route: t.https, path: "/1k", withRequest: true, concurrency: 16, hosts: HOSTS16, warmupMs: s.warmupMs, durationMs: s.durationMs }),
  },
  {
    id: "https-first-contact",
    section: "https",
    label: "First contact with a new host (CONNECT+TLS+GET), p50",
    unit: "ms",
    job: (t, s) => ({
      kind: "first-contact",
      route: t.https,
      path: "/1k",
      hosts: Array.from({ length: s.firstContactHosts }, (_, i) => `new${i + 1}.test`),
      maxMs: s.firstContactMaxMs,
    }),
  },
];

/**
 * Certificates for the 16 names are made before the HTTPS runs: otherwise a peer that makes a
 * fresh RSA key per host (http-mitm-proxy) spends the measured window generating keys.
 */
export function primeJob(t: Target): Job {
  return { kind: "first-contact", route: t.https, path: "/1k", hosts: HOSTS16, maxMs: 120_000 };
}

export function jobTimeoutMs(job: Job): number {
  const slack = 30_000;
  switch (job.kind) {
    case "keepalive":
    case "new-conns":
      return job.warmupMs + job.durationMs + slack;
    case "first-contact":
      return job.maxMs + slack;
  }
}

/** Rounds per target: one with --quick. */
export function roundsOf(sc: Scenario, s: Settings): number {
  return s.quick ? 1 : (sc.rounds ?? 1);
}

/** The figure the scenario is judged by, and whether more of it is better. */
export function headline(s: Scenario, r: JobResult): { value: number; higherIsBetter: boolean } {
  return s.unit === "ms" ? { value: r.p50Ms, higherIsBetter: false } : { value: r.perSecond, higherIsBetter: true };
}
