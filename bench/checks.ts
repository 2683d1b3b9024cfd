/** The acceptance figures from the engine and HTTPS issues, each judged within one run. */
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
  if (f.rss) {
    const diff = Math.abs(f.rss.second.rssKiB - f.rss.first.rssKiB) / f.rss.first.rssKiB;
    out.push({ what: "RSS flat between the two checkpoints (within 20%)", ok: diff <= 0.2, detail: `${(diff * 100).toFixed(1)}%` });
  }
  return out;
}
