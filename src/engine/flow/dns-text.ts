import type { Packet } from "dns-packet";
import { rcodeName } from "./dns.ts";
import { SVCB_TYPE_NAMES, svcbTextOr } from "./svcb.ts";

/** Record data as text: names and addresses as they are, bytes (TXT) as text, structured data (MX, SOA) as JSON. */
function rdata(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof Uint8Array) return JSON.stringify(Buffer.from(data).toString("latin1"));
  if (Array.isArray(data)) return data.map(rdata).join(" ");
  return JSON.stringify(data) ?? "";
}

/**
 * A DNS message as mitmproxy's flow view shows it: a heading, then the Question, Answer,
 * Authority and Additional sections, each record `name TYPE CLASS ttl data`. The DNS flow view
 * and the DNS content view (DNS over HTTPS bodies) both print it.
 */
export function dnsPacketLines(p: Packet): string[] {
  const flags = p.flags ?? 0;
  const isResponse = p.type === "response";
  const notes = [(flags & 0x400) !== 0 ? "Authoritative" : "", (flags & 0x80) !== 0 ? "Recursive" : (flags & 0x100) !== 0 && !isResponse ? "recursion desired" : ""].filter(Boolean);
  const head = isResponse ? rcodeName(flags & 0xf) : ((p as { opcode?: string }).opcode ?? "QUERY");
  const lines = [`DNS ${head} (id ${p.id ?? 0})${notes.length ? ` ${notes.join(", ")}` : ""}`];
  const section = (title: string, rows: string[]): void => {
    if (rows.length) lines.push("", `${title}:`, ...rows.map((r) => `  ${r}`));
  };
  section("Question", (p.questions ?? []).map((q) => `${q.name} ${SVCB_TYPE_NAMES[q.type] ?? q.type} ${q.class ?? "IN"}`));
  const rr = (list: readonly unknown[] | undefined): string[] =>
    (list ?? []).map((x) => {
      const r = x as { name: string; type: string; class?: string; ttl?: number; data?: unknown };
      const svcb = SVCB_TYPE_NAMES[r.type];
      return `${r.name} ${svcb ?? r.type} ${r.class ?? "IN"} ${r.ttl ?? 0} ${svcb ? svcbTextOr(r.data, rdata) : rdata(r.data)}`;
    });
  section("Answer", rr(p.answers));
  section("Authority", rr(p.authorities));
  section("Additional", rr(p.additionals).filter((l) => !l.includes(" OPT ")));
  return lines;
}
