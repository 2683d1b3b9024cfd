/** Turns measurements into the text and markdown tables and the notes beneath them. */
import os from "node:os";
import type { Settings } from "./args.ts";
import { checks } from "./checks.ts";
import type { JobResult } from "./jobs.ts";
import type { TargetName } from "./peers.ts";
import { BUSY_CORES, type ConsoleFindings, type Findings, LOADGEN_SATURATED, type Measurement, type ThroughputRun, ratio } from "./results.ts";
import { headline, roundsOf } from "./scenarios.ts";

const PEERS: TargetName[] = ["direct", "mitmdump", "http-mitm-proxy"];

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmtMs = (ms: number): string => (Number.isNaN(ms) ? "—" : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : int.format(ms));
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

function headlineCell(m: Measurement): string {
  const { value } = headline(m.scenario, m.result);
  if (m.scenario.unit !== "ms") return `${int.format(value)} ${m.scenario.unit}`;
  const tls = m.result.handshakeP50Ms === undefined ? "" : `TLS ${fmtMs(m.result.handshakeP50Ms)} ms, `;
  return `${fmtMs(value)} ms (${tls}n=${m.result.count})`;
}

function errorsCell(r: JobResult): string {
  const parts = [];
  if (r.errors) parts.push(`${r.errors} err`);
  if (r.badStatus) parts.push(`${r.badStatus} non-2xx`);
  return parts.join(", ") || "0";
}

/** Scenario by scenario, so each comparison sits together whatever order the targets ran in. */
function ordered(ms: Measurement[]): Measurement[] {
  const scenarios = [...new Set(ms.map((m) => m.scenario))];
  const targets = [...new Set(ms.map((m) => m.target))];
  return [...ms].sort((a, b) => scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario) || targets.indexOf(a.target) - targets.indexOf(b.target));
}

/**
 * CPU the target (the origin, for direct) spent per request or connection. When the generator
 * or the machine caps the rate, this still shows which proxy does the work more cheaply.
 */
function cpuPerOpCell(m: Measurement): string {
  const cores = m.targetCores ?? m.originCores;
  const ops = m.result.count / m.result.seconds;
  if (!(ops > 0)) return "—";
  const us = (cores / ops) * 1e6;
  return us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${Math.round(us)} µs`;
}

function rows(ms: Measurement[]): string[][] {
  const head = ["Scenario", "Target", "Result", "p50 ms", "p99 ms", "vs direct", "vs mitmdump", "vs http-mitm-proxy", "CPU/op", "Errors"];
  const body = ordered(ms).map((m) => {
    const cells = PEERS.map((p) => {
      const r = ratio(ms, m, p);
      if (r === undefined) return "—";
      // Against the origin itself, "share of the ceiling" reads better than a fraction.
      return p === "direct" ? `${(r * 100).toFixed(1)}%` : `${r.toFixed(2)}×`;
    });
    return [m.scenario.label, m.target, headlineCell(m), fmtMs(m.result.p50Ms), fmtMs(m.result.p99Ms), ...cells, cpuPerOpCell(m), errorsCell(m.result)];
  });
  return [head, ...body];
}

export function textTable(ms: Measurement[]): string {
  const all = rows(ms);
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i >= 2 && i <= 8 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const out = [line(all[0]!), widths.map((w) => "-".repeat(w)).join("  ")];
  let last = "";
  for (const r of all.slice(1)) {
    // A blank line between scenarios keeps each comparison group together.
    if (last && r[0] !== last) out.push("");
    out.push(line(last === r[0] ? ["", ...r.slice(1)] : r));
    last = r[0]!;
  }
  return out.join("\n");
}

export function markdownTable(ms: Measurement[]): string {
  const all = rows(ms);
  const esc = (c: string): string => c.replaceAll("|", "\\|");
  const line = (r: string[]): string => `| ${r.map(esc).join(" | ")} |`;
  const align = all[0]!.map((_, i) => (i >= 2 && i <= 8 ? "---:" : "---"));
  return [line(all[0]!), `|${align.join("|")}|`, ...all.slice(1).map(line)].join("\n");
}

export function errorNotes(ms: Measurement[]): string[] {
  return ms.filter((m) => m.result.firstError).map((m) => `${m.target} / ${m.scenario.label}: ${m.result.errors} errors, first: ${m.result.firstError}`);
}

/** The new-conns generator's own CPU per connection, e.g. "c-openssl 180 µs/conn". */
export function generatorCell(r: JobResult): string | undefined {
  const g = r.generator;
  if (!g) return undefined;
  return g.visits > 0 ? `${g.name} ${Math.round((g.cpuMs / g.visits) * 1000)} µs/conn` : g.name;
}

/** Which generator made the new connections, and its own CPU per connection, per scenario. */
export function generatorNotes(ms: Measurement[]): string[] {
  const out: string[] = [];
  for (const sc of [...new Set(ms.filter((m) => m.result.generator).map((m) => m.scenario))]) {
    const of = ms.filter((m) => m.scenario === sc && m.result.generator);
    const names = [...new Set(of.map((m) => m.result.generator!.name))];
    const details = [...new Set(of.map((m) => m.result.generator!.detail).filter(Boolean))];
    const per = of.map((m) => `${m.target} ${generatorCell(m.result)!.replace(/^\S+ /, "")}`).join(", ");
    out.push(`${sc.label}: ${names.join(" and ")} load generator${details.length ? ` (${details.join("; ")})` : ""}, its own CPU per connection: ${per}`);
  }
  return out;
}

export function loadgenNotes(ms: Measurement[]): string[] {
  return ms
    .filter((m) => m.loadgenCores >= LOADGEN_SATURATED)
    .map((m) => `${m.target} / ${m.scenario.label}: the load generator used ${m.loadgenCores.toFixed(2)} cores and may be the limit there`);
}

export function busyNotes(ms: Measurement[]): string[] {
  const busy = ms.filter((m) => m.foreignCores >= BUSY_CORES);
  if (!busy.length) return [];
  const which = busy.map((m) => `${m.target} / ${m.scenario.label} (${m.foreignCores.toFixed(2)})`).join("; ");
  return [`${busy.length} of ${ms.length} figures were taken while other processes on this machine used ≥ ${BUSY_CORES} cores, so rerun before publishing them: ${which}`];
}

export function memoryLines(f: Findings): string[] {
  const out = Object.entries(f.peakKiB).map(([t, kib]) => `peak RSS (VmHWM) of ${t} over its HTTP/HTTPS runs: ${mib(kib)}`);
  if (f.rss) {
    const { first, second, peakKiB } = f.rss;
    const diff = ((second.rssKiB - first.rssKiB) / first.rssKiB) * 100;
    out.push(
      `pryx dump RSS after ${int.format(first.requests)} requests: ${mib(first.rssKiB)}; after ${int.format(second.requests)}: ${mib(second.rssKiB)} ` +
        `(${diff >= 0 ? "+" : ""}${diff.toFixed(1)}%); peak ${mib(peakKiB)}; ` +
        `${int.format(first.perSecond)} req/s up to the first checkpoint, ${int.format(second.perSecond)} req/s after it (1 KiB, 50 conns)` +
        (f.rss.foreignCores >= BUSY_CORES ? `; other processes used ${f.rss.foreignCores.toFixed(2)} cores meanwhile` : ""),
    );
  }
  return out;
}

const GROUPS: Record<string, string> = { idle: "idle", filter: "filter", flood: "flood" };

function consoleRows(c: ConsoleFindings): string[][] {
  const head = ["Console key press", "When", "p50 ms", "p95 ms", "max ms", "n", "Target p95", "mitmproxy 8.1.1 p50 / p95"];
  const body = c.latencies.map((r) => [
    r.label,
    GROUPS[r.group] ?? r.group,
    fmtMs(r.stat.p50Ms),
    fmtMs(r.stat.p95Ms),
    fmtMs(r.stat.maxMs),
    `${r.stat.n}${r.stat.timeouts ? ` (+${r.stat.timeouts} timed out)` : ""}`,
    r.targetP95Ms === undefined ? "—" : `< ${r.targetP95Ms} ms`,
    r.mitmproxy ?? "—",
  ]);
  return [head, ...body];
}

function consoleTextTable(c: ConsoleFindings): string {
  const all = consoleRows(c);
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((cell, i) => (i >= 2 && i <= 6 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  const out = [line(all[0]!), widths.map((w) => "-".repeat(w)).join("  ")];
  let last = "";
  for (const r of all.slice(1)) {
    if (last && r[1] !== last) out.push("");
    out.push(line(r));
    last = r[1]!;
  }
  return out.join("\n");
}

function consoleMarkdownTable(c: ConsoleFindings): string {
  const all = consoleRows(c);
  const esc = (cell: string): string => cell.replaceAll("|", "\\|");
  const line = (r: string[]): string => `| ${r.map(esc).join(" | ")} |`;
  const align = all[0]!.map((_, i) => (i >= 2 && i <= 6 ? "---:" : "---"));
  return [line(all[0]!), `|${align.join("|")}|`, ...all.slice(1).map(line)].join("\n");
}

function runCell(r: ThroughputRun, main: boolean): string {
  const cpu = main && r.mainThreadCores !== undefined ? `${r.cores.toFixed(2)} cores, main thread ${r.mainThreadCores.toFixed(2)}` : `${r.cores.toFixed(2)} cores`;
  const errs = r.result.errors || r.result.badStatus ? `, ${r.result.errors} errors, ${r.result.badStatus} non-2xx` : "";
  return `${int.format(r.result.perSecond)} req/s (${cpu}${errs})`;
}

const GAP_NOTE = "spaced like typing (the console left quiet 40–55 ms, or 40–55 ms after the last repaint under load), each timed from writing its bytes to the end of the first synchronized-update frame that shows its effect";

/** The console's setting, memory and throughput, under its latency table. */
export function consoleLines(c: ConsoleFindings, s: Settings): string[] {
  const out = [
    `console: ${int.format(c.flows)} flows (${int.format(c.alphaFlows)} with /alpha; file ${mib(c.fileBytes / 1024)}, responses ${int.format(c.avgBodyBytes)} B on average) read with -r, shown ${(c.loadMs / 1000).toFixed(1)} s after start, in a ${c.cols}x${c.rows} pty (script); presses ${GAP_NOTE}; the pty itself adds ${fmtMs(c.ptyFloor.p50Ms)} ms p50, ${fmtMs(c.ptyFloor.p95Ms)} ms p95 (a raw-mode echo in its place)`,
    `console RSS with the flows loaded (node process, engine worker included): VmRSS ${mib(c.memLoaded.rssKiB)}, VmHWM ${mib(c.memLoaded.hwmKiB)}; after the idle keys and filters: VmRSS ${mib(c.memSettled.rssKiB)} (mitmproxy 8.1.1's console: 640 MB)`,
  ];
  if (c.withConsole && c.withDump) {
    const r = c.withConsole.result.perSecond / c.withDump.result.perSecond;
    out.push(
      `proxy throughput, HTTP/1.1 keep-alive 1 KiB, ${c.connections} conns, ${s.warmupMs / 1000} s + ${s.durationMs / 1000} s each, median of ${c.throughputRounds} alternating round(s): console ${runCell(c.withConsole, true)} vs pryx dump ${runCell(c.withDump, false)} = ${(r * 100).toFixed(1)}%`,
    );
  }
  if (c.roundsByFlows.length > 1) {
    // The console keeps every flow, so each round starts with more held than the last.
    const rounds = c.roundsByFlows.map((r) => `${Math.round(r.flows / 1000)}k held: ${(r.console / r.dump * 100).toFixed(0)}%`);
    out.push(`console against dump round by round, by the flows the console held as the round began: ${rounds.join(", ")}`);
  }
  if (c.flood) out.push(`flood while pressing keys: ${runCell(c.flood, true)} from ${c.connections} conns (mitmproxy 8.1.1's console: 404 req/s)`);
  const j = c.latencies.find((l) => l.id === "filter/j");
  if (j) out.push(`j pressed right after the filter's Enter repainted before the filtered list in ${c.jBeforeFilter} of ${j.stat.n} runs`);
  const phases: [string, number | undefined][] = [
    ["the idle keys", c.foreignCores.idle],
    ["the filters", c.foreignCores.filter],
    ["the console's throughput run", c.withConsole?.foreignCores],
    ["dump's throughput run", c.withDump?.foreignCores],
    ["the flood", c.flood?.foreignCores],
  ];
  const busy = phases.filter((p): p is [string, number] => p[1] !== undefined && p[1] >= BUSY_CORES);
  if (busy.length) out.push(`! other processes on this machine used ${busy.map(([what, cores]) => `${cores.toFixed(2)} cores during ${what}`).join(", ")}: rerun before publishing`);
  for (const n of c.notes) out.push(`! console: ${n}`);
  return out;
}

/** Which scenarios ran in alternating rounds, each row its target's median round. */
function roundsNote(s: Settings, ms: readonly Measurement[]): string {
  const multi = [...new Set(ms.map((m) => m.scenario))].filter((sc) => roundsOf(sc, s) > 1);
  return multi.length ? ` ${multi.map((sc) => sc.label).join("; ")}: ${roundsOf(multi[0]!, s)} alternating rounds, each row its target's median round.` : "";
}

export function renderReport(s: Settings, f: Findings): string {
  const setup =
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), node ${process.version}. ` +
    `The load generator, the origin and the proxy under test share these cores, so compare the ratios, not the absolute figures. ` +
    `Each scenario: ${s.warmupMs / 1000} s warm-up, ${s.durationMs / 1000} s measured${s.quick ? " (--quick: smoke test, not figures to publish)" : ""}.` +
    roundsNote(s, f.measurements);
  const ms = f.measurements;
  const busy = busyNotes(ms);
  const out = ["", "## pryx bench", "", setup, ""];
  if (ms.length) out.push(textTable(ms), "");
  for (const n of generatorNotes(ms)) out.push(n);
  for (const n of [...errorNotes(ms), ...loadgenNotes(ms), ...busy]) out.push(`! ${n}`);
  for (const n of f.skipped) out.push(`skipped: ${n}`);
  out.push(...memoryLines(f), "");
  if (f.console) {
    out.push(consoleTextTable(f.console), "", ...consoleLines(f.console, s), "");
    if (f.console.profile.length) out.push("Console main thread (the TUI), CPU profile:", ...f.console.profile, "");
  }
  const cs = checks(f);
  if (cs.length) out.push("Targets:", ...cs.map((c) => `  ${c.ok ? "PASS" : "FAIL"}  ${c.what}: ${c.detail}`), "");
  out.push("### Markdown (for the README)", "", setup, "");
  if (ms.length) out.push(markdownTable(ms), "");
  for (const n of f.skipped) out.push(`- skipped: ${n}`);
  for (const l of [...memoryLines(f), ...generatorNotes(ms), ...loadgenNotes(ms), ...busy]) out.push(`- ${l}`);
  if (f.console) {
    out.push("", consoleMarkdownTable(f.console), "");
    for (const l of consoleLines(f.console, s)) out.push(`- ${l.replace(/^! /, "")}`);
  }
  if (ms.length) out.push("- CPU/op: CPU time of the proxy process (of the origin, for direct) per request or connection.");
  // Sections that printed nothing leave runs of blank lines behind.
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n")}\n`;
}
