import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { OriginalDestinations, canonicalIp, findOriginalDestination } from "../../../src/engine/proxy/original-destination.ts";
import { tempDir } from "../../helpers/temp-dir.ts";
import { namedServer } from "../../../src/engine/proxy/transparent.ts";
import { helloFrom } from "../../helpers/client-hello.ts";

// As Linux writes /proc/net/nf_conntrack: the original tuple, then the reply tuple.
const V4 = [
  "ipv4     2 udp      17 25 src=10.0.0.5 dst=8.8.8.8 sport=5353 dport=53 src=8.8.8.8 dst=10.0.0.5 sport=53 dport=5353 mark=0 zone=0 use=2",
  "ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=93.184.216.34 sport=51000 dport=443 src=10.0.0.1 dst=10.0.0.5 sport=8080 dport=51000 [ASSURED] mark=0 zone=0 use=2",
  "ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.6 dst=10.0.0.1 sport=40000 dport=8080 src=10.0.0.1 dst=10.0.0.6 sport=8080 dport=40000 [ASSURED] mark=0 zone=0 use=2",
].join("\n");
const V6 =
  "ipv6     10 tcp      6 431999 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0005 dst=2606:2800:0220:0001:0248:1893:25c8:1946 sport=51001 dport=8443 src=fd00:0000:0000:0000:0000:0000:0000:0001 dst=fd00:0000:0000:0000:0000:0000:0000:0005 sport=8080 dport=51001 [ASSURED] mark=0 zone=0 use=2\n";

test("the connection tracking entry whose reply tuple is the socket names where a redirected connection was going", () => {
  assert.deepEqual(findOriginalDestination(V4, { localAddress: "10.0.0.1", localPort: 8080, remoteAddress: "10.0.0.5", remotePort: 51000 }), ["93.184.216.34", 443]);
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; the table writes IPv6 in full.
  assert.deepEqual(findOriginalDestination(V4, { localAddress: "::ffff:10.0.0.1", localPort: 8080, remoteAddress: "::ffff:10.0.0.5", remotePort: 51000 }), ["93.184.216.34", 443]);
  assert.deepEqual(findOriginalDestination(V6, { localAddress: "fd00::1", localPort: 8080, remoteAddress: "fd00::5", remotePort: 51001 }), ["2606:2800:220:1:248:1893:25c8:1946", 8443]);
});

test("no entry, another client's entry, a UDP entry, or an entry for pryx's own address are no original destination", () => {
  assert.equal(findOriginalDestination(V4, { localAddress: "10.0.0.1", localPort: 8080, remoteAddress: "10.0.0.7", remotePort: 51000 }), undefined, "same ports, another client");
  assert.equal(findOriginalDestination(V4, { localAddress: "10.0.0.1", localPort: 53, remoteAddress: "8.8.8.8", remotePort: 5353 }), undefined, "udp");
  assert.equal(findOriginalDestination(V4, { localAddress: "10.0.0.1", localPort: 8080, remoteAddress: "10.0.0.6", remotePort: 40000 }), undefined, "came to pryx itself: nothing redirected it");
  assert.equal(findOriginalDestination("", { localAddress: "10.0.0.1", localPort: 8080, remoteAddress: "10.0.0.5", remotePort: 51000 }), undefined);
  assert.equal(canonicalIp("0000:0000:0000:0000:0000:0000:0000:0001"), "::1");
});

test("a table that cannot be read says which file and why", async () => {
  const r = await new OriginalDestinations("/nonexistent/nf_conntrack").lookup({ localAddress: "127.0.0.1", localPort: 1, remoteAddress: "127.0.0.1", remotePort: 2 });
  assert.deepEqual(r, { unreadable: "/nonexistent/nf_conntrack: ENOENT" });
});

test("lookups that arrive while the table is read share the next read, which sees entries made after the first began", async (t) => {
  const file = path.join(tempDir("pryx-conntrack-"), "nf_conntrack");
  fs.writeFileSync(file, "");
  // Each read takes the file as it is when it starts, and finishes when the test lets it.
  const reads: (() => void)[] = [];
  t.mock.method(fs.promises, "readFile", (name: string) => {
    const text = fs.readFileSync(name, "utf8");
    return new Promise<string>((resolve) => reads.push(() => resolve(text)));
  });
  const table = new OriginalDestinations(file);
  const a = { localAddress: "10.0.0.1", localPort: 8080, remoteAddress: "10.0.0.5", remotePort: 51000 };
  const first = table.lookup(a);
  await new Promise((r) => setImmediate(r));
  assert.equal(reads.length, 1);
  // Connections accepted while the first read is out: their entries are written now.
  fs.writeFileSync(file, V4);
  const later = [table.lookup(a), table.lookup(a), table.lookup(a)];
  await new Promise((r) => setImmediate(r));
  assert.equal(reads.length, 1, "no second read while the first is out");
  reads[0]!();
  assert.deepEqual(await first, { address: undefined }, "the first read predates the entry");
  await new Promise((r) => setImmediate(r));
  assert.equal(reads.length, 2, "one read for the three lookups that waited");
  reads[1]!();
  for (const r of await Promise.all(later)) assert.deepEqual(r, { address: ["93.184.216.34", 443] });
});

test("without an entry, a client's first bytes name the server: TLS SNI on 443, HTTP Host with its port or 80", { timeout: 10_000 }, async (t) => {
  assert.deepEqual(namedServer(await helloFrom(t, { servername: "app.test" })), { host: "app.test", port: 443 });
  assert.equal(namedServer(await helloFrom(t, { servername: "" })), undefined, "a ClientHello without SNI");
  assert.deepEqual(namedServer(Buffer.from("GET / HTTP/1.1\r\nUser-Agent: x\r\nHost: app.test:8081\r\n\r\n")), { host: "app.test", port: 8081 });
  assert.deepEqual(namedServer(Buffer.from("POST /a HTTP/1.1\r\nhost: [::1]\r\n\r\n")), { host: "::1", port: 80 });
  assert.equal(namedServer(Buffer.from("GET / HTTP/1.0\r\n\r\n")), undefined, "no Host header");
  assert.equal(namedServer(Buffer.from("SSH-2.0-OpenSSH_9.2\r\n")), undefined);
});
