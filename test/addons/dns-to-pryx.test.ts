import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import dnsPacket from "dns-packet";
import dnsToPryx from "../../addons/dns-to-pryx.ts";
import { startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { dnsQuery } from "../helpers/dns-query.ts";

test("dns-to-pryx answers every A query with pryx's address, AAAA with nothing, and leaves the excepted names to the name server", { timeout: 10_000 }, async (t) => {
  // A name server that answers everything with 10.9.9.9, to tell its answers from the addon's.
  const upstream = dgram.createSocket("udp4");
  upstream.on("message", (m, r) => {
    const q = dnsPacket.decode(m);
    upstream.send(dnsPacket.encode({ id: q.id, type: "response", flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: "A", name: q.questions![0]!.name, data: "10.9.9.9" }] }), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({
    addons: [dnsToPryx],
    options: { mode: "dns", dns_name_servers: `127.0.0.1:${upstream.address().port}`, dns_use_hosts_file: "false", dns_to_pryx: "192.168.1.10", dns_to_pryx_except: "local.test" },
  });
  closeAfter(t, proxy, upstream);
  const a = await dnsQuery(proxy.port, "shop.example.test", { type: "A" });
  assert.deepEqual(a.answers?.map((x) => ("data" in x ? x.data : undefined)), ["192.168.1.10"]);
  const aaaa = await dnsQuery(proxy.port, "shop.example.test", { type: "AAAA" });
  assert.deepEqual(aaaa.answers ?? [], []);
  const excepted = await dnsQuery(proxy.port, "nas.local.test", { type: "A" });
  assert.deepEqual(excepted.answers?.map((x) => ("data" in x ? x.data : undefined)), ["10.9.9.9"]);
  assert.throws(() => proxy.engine.options.setText("dns_to_pryx", "pryx.local"), /option dns_to_pryx: "pryx.local" is not an IPv4 address/);
});
