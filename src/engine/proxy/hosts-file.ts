import fs from "node:fs";
import net from "node:net";
import { ResourceRecord, type DNSMessage } from "../flow/dns.ts";

/** Name (lower case) → its addresses in the hosts file, IPv4 and IPv6 apart. */
export type HostsTable = Map<string, { v4: string[]; v6: string[] }>;

/** The hosts file's form: an address, then names, `#` to the end of a line a comment. */
export function parseHosts(text: string): HostsTable {
  const table: HostsTable = new Map();
  for (const line of text.split("\n")) {
    const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    const family = address ? net.isIP(address) : 0;
    if (!family) continue;
    for (const name of names) {
      const key = name.toLowerCase().replace(/\.$/, "");
      const entry = table.get(key) ?? { v4: [], v6: [] };
      (family === 4 ? entry.v4 : entry.v6).push(address as string);
      table.set(key, entry);
    }
  }
  return table;
}

const HOSTS_FILE = "/etc/hosts";
/** Read again when it changes: a user adding a line should not restart the proxy. */
let cached: { mtimeMs: number; table: HostsTable } | undefined;

function hostsTable(file: string): HostsTable {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return new Map();
  }
  if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, table: parseHosts(fs.readFileSync(file, "utf8")) };
  return cached.table;
}

/**
 * mitmproxy's dns_use_hosts_file: an A or AAAA query for a name the hosts file lists is
 * answered from it, as the system's own resolver would; anything else goes upstream. A listed
 * name is the hosts file's in both families: one with no address of the family asked for gets
 * NOERROR and no answers (NODATA), as dnsmasq and systemd-resolved answer for their hosts
 * files, rather than going upstream, which would tell the name server a name meant to stay
 * local, or answer with an address the hosts file was there to override.
 */
export function answerFromHosts(query: DNSMessage, file = HOSTS_FILE): DNSMessage | undefined {
  const q = query.question;
  if (query.questions.length !== 1 || !q || (q.type !== "A" && q.type !== "AAAA") || (q.class ?? "IN") !== "IN") return undefined;
  const entry = hostsTable(file).get(q.name.toLowerCase().replace(/\.$/, ""));
  if (!entry) return undefined;
  const addresses = q.type === "A" ? entry.v4 : entry.v6;
  return query.succeed(addresses.map((data) => new ResourceRecord({ name: q.name, type: q.type, data })));
}
