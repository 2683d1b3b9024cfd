/** The acceptance figures from the engine, HTTPS, console and filter issues, each judged within one run. */
import { type Findings, type Measurement, ratio } from "./results.ts";
import type { TargetName } from "./peers.ts";

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

export function checks(f: Findings): Check[] {
  const out: Check[] = [];
  const ms = f.measurements;
  const pryx = (id: string): Measurement | undefined => ms.find((m) => m.scenario.id === id && m.target === "pryx");
  const vs = (id: string, peer: TargetName, atLeast: number, what: string): void => {
    const m = pryx(id);
    const r = m && ratio(ms, m, peer);
    if (r === undefined) return;
    out.push({ what, ok: r >= atLeast, detail: `${r.toFixed(3)}× (need ≥ ${atLeast}×)` });
  };
  vs("http/1k-c50", "mitmdump", 5, "HTTP 1 KiB c50: pryx ≥ 5× mitmdump");
  vs("http/1k-c50", "http-mitm-proxy", 1, "HTTP 1 KiB c50: pryx ≥ http-mitm-proxy");
  vs("https-keepalive", "http-mitm-proxy", 1, "HTTPS keep-alive in tunnels: pryx ≥ http-mitm-proxy");
  vs("https-new-conns", "http-mitm-proxy", 2, "New CONNECT+TLS handshakes/s: pryx ≥ 2× http-mitm-proxy");
  vs("https-new-conns-get", "http-mitm-proxy", 2, "New CONNECT+TLS conns with 1 GET/s: pryx ≥ 2× http-mitm-proxy");
  const fc = pryx("https-first-contact");
  if (fc) out.push({ what: "First contact p50 < 10 ms", ok: fc.result.p50Ms < 10, detail: `${fc.result.p50Ms.toFixed(2)} ms` });
  const c = f.console;
  if (c) {
    const flows = c.flows.toLocaleString("en-US");
    for (const r of c.latencies) {
      if (r.targetP95Ms === undefined || r.id === "filter/j") continue;
      const st = r.stat;
      const ok = st.n > 0 && st.p95Ms < r.targetP95Ms && st.timeouts === 0;
      const when = r.group === "flood" ? "during the flood" : r.group === "filter" ? `over ${flows} flows` : `with ${flows} flows`;
      const what = r.group === "filter" ? `View filter, ${r.label.replace(/ \(.*\)$/, "")}, ${when}: p95 < ${r.targetP95Ms} ms` : `Console key ${r.label.replace(/ \(.*\)$/, "").replace(/, flood at .*$/, "")} ${when}: p95 < ${r.targetP95Ms} ms`;
      out.push({ what, ok, detail: `${st.p95Ms.toFixed(1)} ms (p50 ${st.p50Ms.toFixed(1)} ms, n=${st.n}${st.timeouts ? `, ${st.timeouts} timed out` : ""})` });
    }
    const j = c.latencies.find((r) => r.id === "filter/j");
    if (j) {
      // "Keys answered while it runs": a key pressed while the console filters is held to the
      // key target under load, and the report says how often it beat the filtered list.
      const st = j.stat;
      out.push({
        what: `Keys answered while the filter runs: j right after Enter, p95 < ${j.targetP95Ms} ms`,
        ok: st.n > 0 && st.p95Ms < (j.targetP95Ms ?? 0) && st.timeouts === 0,
        detail: `${st.p95Ms.toFixed(1)} ms (p50 ${st.p50Ms.toFixed(1)} ms); repainted before the filtered list in ${c.jBeforeFilter} of ${st.n}`,
      });
    }
    if (c.withConsole && c.withDump) {
      const r = c.withConsole.result.perSecond / c.withDump.result.perSecond;
      out.push({ what: "Proxy throughput with the console attached ≥ 90% of pryx dump", ok: r >= 0.9, detail: `${(r * 100).toFixed(1)}% (${Math.round(c.withConsole.result.perSecond)} vs ${Math.round(c.withDump.result.perSecond)} req/s)` });
    }
  }
  if (f.rss) {
    const diff = Math.abs(f.rss.second.rssKiB - f.rss.first.rssKiB) / f.rss.first.rssKiB;
    out.push({ what: "RSS flat between the two checkpoints (within 20%)", ok: diff <= 0.2, detail: `${(diff * 100).toFixed(1)}%` });
  }
  return out;
}
