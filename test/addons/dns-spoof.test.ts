import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import dnsPacket, { type Packet } from "dns-packet";
import dnsSpoof from "../../addons/dns-spoof.ts";
import { startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { dnsQuery } from "../helpers/dns-query.ts";

const dataOf = (p: Packet): unknown[] => (p.answers ?? []).map((a) => ("data" in a ? a.data : undefined));
const rcodeOf = (p: Packet): number => (p.flags ?? 0) & 0xf;

test("dns-spoof answers AAAA with ::1, NXDOMAIN or nothing by name, and leaves A queries to the name server", { timeout: 10_000 }, async (t) => {
  const logged = t.mock.method(console, "log", () => undefined);
  const upstream = dgram.createSocket("udp4");
  let upstreamQueries = 0;
  upstream.on("message", (m, r) => {
    upstreamQueries++;
    const q = dnsPacket.decode(m);
    upstream.send(dnsPacket.encode({ id: q.id, type: "response", flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: "A", name: q.questions![0]!.name, data: "10.9.9.9" }] }), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({
    addons: [dnsSpoof],
    options: { mode: "dns", dns_name_servers: `127.0.0.1:${upstream.address().port}`, dns_use_hosts_file: "false", dns_spoof_local: "app.test", dns_spoof_missing: "gone.test" },
  });
  closeAfter(t, proxy, upstream);

  const local = await dnsQuery(proxy.port, "app.test", { type: "AAAA" });
  assert.equal(rcodeOf(local), 0);
  assert.deepEqual(dataOf(local), ["::1"]);
  assert.equal((local.answers?.[0] as { ttl?: number } | undefined)?.ttl, 60, "mitmproxy's DEFAULT_TTL");
  const missing = await dnsQuery(proxy.port, "gone.test", { type: "AAAA" });
  assert.equal(rcodeOf(missing), 3, "NXDOMAIN");
  assert.deepEqual(dataOf(missing), []);
  const other = await dnsQuery(proxy.port, "other.test", { type: "AAAA" });
  assert.equal(rcodeOf(other), 0);
  assert.deepEqual(dataOf(other), []);
  assert.equal(upstreamQueries, 0, "every AAAA query was answered by the addon");
  const a = await dnsQuery(proxy.port, "app.test", { type: "A" });
  assert.deepEqual(dataOf(a), ["10.9.9.9"]);
  assert.equal(upstreamQueries, 1);
  assert.deepEqual(logged.mock.calls.map((c) => String(c.arguments[0])), ["app.test", "gone.test", "other.test"].map((n) => `dns-spoof: spoofing the IPv6 records of ${n}`));
});
