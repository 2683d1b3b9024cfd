import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import * as dnsPacket from "dns-packet";
import type { Packet } from "dns-packet";
import { startProxy } from "../helpers/proxy.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { DNSFlow } from "../../src/engine/flow/dns.ts";
import { DNSMessage, ResourceRecord } from "../../src/engine/flow/dns.ts";
import { answerFromHosts, parseHosts } from "../../src/engine/proxy/hosts-file.ts";
import { readFlows } from "../../src/engine/save-stream.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { summarize } from "../../src/engine/flow/summary.ts";
import { flowDetail } from "../../src/engine/flow/detail.ts";
import { tabContent } from "../../src/tui/detail-lines.ts";
import { lineArray, lineText } from "../../src/tui/contentviews/index.ts";
import { UNICODE_GLYPHS } from "../../src/tui/format.ts";
import { waitUntil } from "../helpers/wait.ts";
import { decodeAlpn, decodeSvcb } from "../../src/engine/flow/svcb.ts";
import { httpsRdata } from "../helpers/svcb.ts";
import { dnsQuery } from "../helpers/dns-query.ts";

/** A resolver on loopback that answers every A query with 10.0.0.1 (never contacted for real). */
async function fakeResolver(): Promise<{ port: number; queries: string[]; close(): void }> {
  const sock = dgram.createSocket("udp4");
  const queries: string[] = [];
  sock.on("message", (m, r) => {
    const q = dnsPacket.decode(m);
    queries.push(q.questions?.[0]?.name ?? "");
    const answer = dnsPacket.encode({ id: q.id, type: "response", flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: "A", name: q.questions?.[0]?.name ?? "", ttl: 30, class: "IN", data: "10.0.0.1" }] });
    sock.send(answer, r.port, r.address);
  });
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  return { port: sock.address().port, queries, close: () => sock.close() };
}

test("dns mode forwards queries to the name server and records DNS flows; dns_request can spoof answers", { timeout: 10_000 }, async (t) => {
  const resolver = await fakeResolver();
  const order: string[] = [];
  const spoof: Addon = {
    name: "spoof",
    dns_request(flow: DNSFlow) {
      order.push(`dns_request ${flow.request.question?.name}`);
      if (flow.request.question?.name === "spoofed.test") flow.response = flow.request.succeed([new ResourceRecord({ name: "spoofed.test", type: "A", ttl: 5, data: Buffer.from([127, 0, 0, 7]) })]);
      if (flow.request.question?.name === "missing.test") flow.response = flow.request.fail("NXDOMAIN");
    },
    dns_response: (flow: DNSFlow) => void order.push(`dns_response ${flow.response?.answers.length}`),
  };
  const proxy = await startProxy({ addons: [spoof], options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const real = await dnsQuery(proxy.port, "example.test");
  assert.equal(real.id, 4242);
  assert.deepEqual(real.answers?.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.1"]);
  const spoofed = await dnsQuery(proxy.port, "spoofed.test");
  assert.deepEqual(spoofed.answers?.map((a) => ("data" in a ? a.data : undefined)), ["127.0.0.7"]);
  const missing = await dnsQuery(proxy.port, "missing.test");
  assert.equal((missing as Packet & { rcode?: string }).rcode, "NXDOMAIN");
  assert.deepEqual(resolver.queries, ["example.test"], "answered queries never reach the name server");
  const flows = (await proxy.waitFinished(3)).sort((a, b) => a.seq - b.seq);
  assert.deepEqual(flows.map((f) => `${f.type} ${f.host} ${f.reason}`), ["dns example.test NOERROR", "dns spoofed.test NOERROR", "dns missing.test NXDOMAIN"]);
  assert.deepEqual(order, ["dns_request example.test", "dns_response 1", "dns_request spoofed.test", "dns_response 1", "dns_request missing.test", "dns_response 0"]);
});

test("a DNS addon ported from mitmproxy reads and sets the message by mitmproxy's names: response_code, dns.response_codes, id, the flags, ResourceRecord.A", { timeout: 10_000 }, async (t) => {
  const { dns } = await import("../../src/api.ts");
  const resolver = await fakeResolver();
  const seen: string[] = [];
  const addon: Addon = {
    name: "ported",
    dns_request(flow: DNSFlow) {
      const q = flow.request;
      seen.push(`query id=${q.id} query=${q.query} op=${q.op_code} rd=${q.recursion_desired}`);
      if (q.question?.name === "fake.test") {
        flow.response = q.succeed([dns.ResourceRecord.A("fake.test", "10.1.2.3", 30)]);
        flow.response.authoritative_answer = true;
      }
      if (q.question?.name === "gone.test") {
        flow.response = q.succeed([]);
        flow.response.response_code = dns.response_codes.NXDOMAIN;
      }
    },
    dns_response(flow: DNSFlow) {
      const r = flow.response!;
      seen.push(`${flow.request.question?.name} code=${r.response_code} nx=${r.response_code === dns.response_codes.NXDOMAIN} query=${r.query} aa=${r.authoritative_answer} ra=${r.recursion_available}`);
    },
  };
  const proxy = await startProxy({ addons: [addon], options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const fake = await dnsQuery(proxy.port, "fake.test");
  assert.deepEqual(fake.answers?.map((a) => ("data" in a ? `${a.data} ${a.ttl}` : undefined)), ["10.1.2.3 30"]);
  assert.equal((fake as Packet & { flag_aa?: boolean }).flag_aa, true, "the AA bit set by the addon went out");
  const gone = await dnsQuery(proxy.port, "gone.test");
  assert.equal((gone as Packet & { rcode?: string }).rcode, "NXDOMAIN");
  await dnsQuery(proxy.port, "real.test");
  assert.deepEqual(seen, [
    "query id=4242 query=true op=0 rd=true",
    "fake.test code=0 nx=false query=false aa=true ra=true",
    "query id=4242 query=true op=0 rd=true",
    "gone.test code=3 nx=true query=false aa=false ra=true",
    "query id=4242 query=true op=0 rd=true",
    "real.test code=0 nx=false query=false aa=false ra=true",
  ]);
});

test("a DNS flow's answers are in its summary (the list's \"name = answers\") and ~b finds a TXT record's text (its strings as dns-packet decodes them, bytes)", { timeout: 10_000 }, async (t) => {
  const addon: Addon = {
    name: "txt",
    dns_request(flow: DNSFlow) {
      const name = flow.request.question?.name ?? "";
      flow.response = flow.request.succeed(name.startsWith("txt.") ? [{ name, type: "TXT", class: "IN", ttl: 60, data: [Buffer.from("hello txt")] }] : [ResourceRecord.A(name, "10.1.2.3"), ResourceRecord.A(name, "10.1.2.4")]);
    },
  };
  const proxy = await startProxy({ addons: [addon], options: { mode: "dns" } });
  t.after(() => proxy.stop());
  await dnsQuery(proxy.port, "txt.test");
  await dnsQuery(proxy.port, "a.test");
  const flows = (await proxy.waitFinished(2)).sort((a, b) => a.seq - b.seq);
  assert.deepEqual(flows.map((f) => `${f.host} = ${f.path}`), ["txt.test = hello txt", "a.test = 10.1.2.3, 10.1.2.4"]);
  const found = String(await proxy.engine.handle({ op: "command", line: "view.flows.resolve '~b hello'" }));
  assert.equal(found.split("\n").length, 1, found);
  assert.match(found, /dns:\/\/txt\.test/);
});

test("i ~dns holds a query before the name server and its answer before the client; a kill answers nothing", { timeout: 15_000 }, async (t) => {
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}`, intercept: "~dns" } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const held = async (): Promise<DNSFlow> => {
    let flow: DNSFlow | undefined;
    await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as DNSFlow | undefined) !== undefined, "a held DNS flow");
    return flow as DNSFlow;
  };
  const answer = dnsQuery(proxy.port, "held.test");
  const flow = await held();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(resolver.queries, [], "the held query has not reached the name server");
  flow.resume();
  await held();
  assert.deepEqual(resolver.queries, ["held.test"]);
  assert.equal(flow.response?.answers.length, 1, "held again with the name server's answer");
  flow.resume();
  assert.deepEqual((await answer).answers?.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.1"]);
  const killed = dnsQuery(proxy.port, "killed.test", { timeoutMs: 1000 }).catch((e: Error) => e);
  (await held()).kill();
  const outcome = await killed;
  assert.ok(outcome instanceof Error && /timed out/.test(outcome.message), "a killed query gets no answer");
});

test("a dead name server gives the client SERVFAIL and the flow an error (dns_error)", { timeout: 15_000 }, async (t) => {
  const dead = dgram.createSocket("udp4");
  await new Promise<void>((res) => dead.bind(0, "127.0.0.1", () => res()));
  const deadPort = dead.address().port;
  dead.close();
  let errors = 0;
  const proxy = await startProxy({ addons: [{ name: "e", dns_error: () => void errors++ }], options: { mode: "dns", dns_name_servers: `127.0.0.1:${deadPort}` } });
  t.after(() => proxy.stop());
  const answer = await dnsQuery(proxy.port, "nowhere.test");
  assert.equal((answer as Packet & { rcode?: string }).rcode, "SERVFAIL");
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /name server 127\.0\.0\.1:\d+/);
  assert.equal(errors, 1);
});

test("-w saves DNS flows, and they read back with their questions and answers", { timeout: 15_000 }, async (t) => {
  const resolver = await fakeResolver();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-dns-save-"));
  const file = path.join(dir, "dns.flows");
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}`, save_stream_file: file } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await dnsQuery(proxy.port, "example.test");
  await proxy.waitFinished(1);
  const got: DNSFlow[] = [];
  const read = readFlows(file, (f) => got.push(f as DNSFlow));
  assert.deepEqual(read.errors, []);
  assert.equal(got[0]?.type, "dns");
  assert.equal(got[0]?.request.question?.name, "example.test");
  assert.deepEqual(got[0]?.response?.answers.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.1"]);
  const [live] = proxy.finished();
  assert.equal(summarize(got[0] as DNSFlow, 0, true).duration, live?.duration, "the flow read back keeps the time it took");
});

test("D (view.flows.duplicate) on a DNS flow adds a copy with its question and answer", { timeout: 10_000 }, async (t) => {
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` }, keepFlows: true });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  await dnsQuery(proxy.port, "copy.test");
  const [dns] = await proxy.waitFinished(1);
  const said = await proxy.engine.handle({ op: "command", line: `view.flows.duplicate ${dns!.id}` });
  assert.match(JSON.stringify(said), /duplicated 1 flow/);
  const copy = proxy.engine.store.all().find((f) => f.id !== dns!.id) as DNSFlow;
  assert.equal(copy.type, "dns");
  assert.equal(copy.request.question?.name, "copy.test");
  assert.deepEqual(copy.response?.answers.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.1"]);
  copy.request.packet.questions![0]!.name = "edited.test";
  assert.equal((proxy.engine.store.get(dns!.id) as DNSFlow).request.question?.name, "copy.test", "the original keeps its own question");
});

test("a DNS flow's duration is fixed when it is answered, not re-measured each time its summary is made", { timeout: 10_000 }, async (t) => {
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  await dnsQuery(proxy.port, "timed.test");
  const [first] = await proxy.waitFinished(1);
  await new Promise((r) => setTimeout(r, 300));
  // A mark, a reload from a file or the console asking again makes a new summary.
  const again = summarize(proxy.engine.store.get(first?.id as string) as DNSFlow, 0, true);
  assert.ok(first?.duration !== undefined && first.duration < 0.25, `answered in ${first?.duration} s`);
  assert.equal(again.duration, first?.duration);
});

test("the console's Request and Response tabs of a DNS flow show its question and answers", { timeout: 10_000 }, async (t) => {
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  await dnsQuery(proxy.port, "shown.test");
  const [summary] = await proxy.waitFinished(1);
  const detail = flowDetail(proxy.engine.store.get(summary?.id as string) as DNSFlow, summary!, 1024, 0);
  const text = (tab: "request" | "response"): string =>
    lineArray(tabContent(tab, detail, { mode: "auto", maxLines: 100, glyphs: UNICODE_GLYPHS }).lines)
      .map(lineText)
      .join("\n");
  assert.match(text("request"), /^DNS QUERY \(id 4242\) recursion desired\n\nQuestion:\n {2}shown\.test A IN$/);
  assert.match(text("response"), /^DNS NOERROR \(id 4242\) Recursive\n\nQuestion:\n {2}shown\.test A IN\n\nAnswer:\n {2}shown\.test A IN 30 10\.0\.0\.1$/);
});

/** Sends `name`'s A query over TCP (length-framed) to port; resolves with the answer. */
function queryTcp(port: number, name: string): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const timer = setTimeout(() => (sock.destroy(), reject(new Error("DNS over TCP timed out"))), 5000);
    let got = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.end();
        resolve(dnsPacket.decode(got.subarray(2, 2 + got.readUInt16BE(0))));
      }
    });
    sock.on("error", reject);
    sock.on("connect", () => sock.write(dnsPacket.streamEncode({ id: 77, type: "query", flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name }] })));
  });
}

test("DNS over TCP on the same port: a query asked over TCP goes upstream over TCP, so an answer larger than a datagram arrives whole", { timeout: 15_000 }, async (t) => {
  const tcpQueries: string[] = [];
  const resolver = net.createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const q = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      const name = q.questions?.[0]?.name ?? "";
      tcpQueries.push(name);
      // 60 answers: about 1 KB, more than a 512-byte UDP answer holds.
      const answers = Array.from({ length: 60 }, (_, i) => ({ type: "A" as const, name, ttl: 30, class: "IN" as const, data: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
      conn.end(dnsPacket.streamEncode({ id: q.id, type: "response", flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }));
    });
  });
  await new Promise<void>((r) => resolver.listen(0, "127.0.0.1", r));
  const rport = (resolver.address() as net.AddressInfo).port;
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${rport}` } });
  t.after(async () => {
    await proxy.stop();
    await new Promise<void>((r) => resolver.close(() => r()));
  });
  const answer = await queryTcp(proxy.port, "big.test");
  assert.equal(answer.id, 77);
  assert.equal(answer.answers?.length, 60);
  assert.deepEqual(tcpQueries, ["big.test"]);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.host, "big.test");
});

/** A resolver that answers every query with one HTTPS record (type 65) whose data is `rdata`. */
test("dns_request's edits to the query reach the name server (the client's bytes went); a response dns_response takes away is never sent", { timeout: 15_000 }, async (t) => {
  const resolver = await fakeResolver();
  const addon: Addon = {
    name: "rewrite",
    dns_request(flow: DNSFlow) {
      const q = flow.request.question;
      if (q?.name === "old.test") flow.request.questions = [{ ...q, name: "new.test" }];
    },
    dns_response(flow: DNSFlow) {
      if (flow.request.question?.name === "hush.test") flow.response = undefined;
    },
  };
  const proxy = await startProxy({ addons: [addon], options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const answered = await dnsQuery(proxy.port, "old.test");
  assert.deepEqual(resolver.queries, ["new.test"], "the edited question went upstream");
  assert.equal(answered.answers?.[0]?.name, "new.test");
  // No answer at all: the client waits out its own timeout, as with mitmproxy.
  await assert.rejects(dnsQuery(proxy.port, "hush.test", { timeoutMs: 700 }), /DNS query timed out/);
  assert.deepEqual(proxy.logs.filter((l) => l.level === "error").map((l) => l.msg), []);
});

async function httpsResolver(rdata: Buffer): Promise<{ port: number; close(): void }> {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (m, r) => {
    const q = dnsPacket.decode(m);
    const name = q.questions?.[0]?.name ?? "";
    const answer = dnsPacket.encode({ id: q.id, type: "response", flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: "UNKNOWN_65", name, ttl: 30, class: "IN", data: rdata } as unknown as dnsPacket.Answer] });
    sock.send(answer, r.port, r.address);
  });
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  return { port: sock.address().port, close: () => sock.close() };
}

function queryHttps(port: number, name: string): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error("DNS query timed out"));
    }, 5000);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(m));
    });
    sock.send(dnsPacket.encode({ id: 7, type: "query", flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "UNKNOWN_65", name } as unknown as dnsPacket.Question] }), port, "127.0.0.1");
  });
}

function paramsOf(p: Packet): { keys: number[]; alpn: string[] } {
  const data = (p.answers?.[0] as { data: Buffer }).data;
  const r = decodeSvcb(data);
  const alpn = r.params.find((x) => x.key === 1);
  return { keys: r.params.map((x) => x.key), alpn: alpn ? decodeAlpn(alpn.value) : [] };
}

test("HTTPS records reach the client without ECH (strip_ech) and without h3, which pryx cannot carry", { timeout: 10_000 }, async (t) => {
  const resolver = await httpsResolver(httpsRdata());
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const stripped = paramsOf(await queryHttps(proxy.port, "ech.example.test"));
  assert.deepEqual(stripped, { keys: [1, 4], alpn: ["h2"] }, "ech (5) gone, h3 gone from alpn, ipv4hint kept");
  // The flow list and the flow view name the type; the view reads the record as RFC 9460 writes it.
  const [summary] = await proxy.waitFinished(1);
  assert.equal(summary?.method, "HTTPS");
  const detail = flowDetail(proxy.engine.store.get(summary?.id as string) as DNSFlow, summary!, 1024, 0);
  const answer = lineArray(tabContent("response", detail, { mode: "auto", maxLines: 100, glyphs: UNICODE_GLYPHS }).lines).map(lineText).join("\n");
  assert.match(answer, /Question:\n {2}ech\.example\.test HTTPS IN\n\nAnswer:\n {2}ech\.example\.test HTTPS IN 30 1 \. alpn=h2 ipv4hint=104\.16\.0\.1$/);
  // The list row and dump's line read it so too (its bytes as text were garbage).
  assert.equal(summary?.path, "1 . alpn=h2 ipv4hint=104.16.0.1");

  proxy.engine.options.setText("strip_ech", "false");
  const kept = paramsOf(await queryHttps(proxy.port, "ech.example.test"));
  assert.deepEqual(kept, { keys: [1, 5, 4], alpn: ["h2"] }, "with strip_ech off the ECH configs stay");
});

test("an HTTPS record that does not parse is passed on as it came, with a line in the event log", { timeout: 10_000 }, async (t) => {
  const broken = Buffer.from([0, 1, 0, 0, 5, 0, 9, 1]);
  const resolver = await httpsResolver(broken);
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const answer = await queryHttps(proxy.port, "odd.example.test");
  assert.deepEqual((answer.answers?.[0] as { data: Buffer }).data, broken);
  await proxy.waitLog(/odd\.example\.test: HTTPS record left as it came: SVCB parameter 5 runs past the record/);
});

test("dns_use_hosts_file: an A query for a name in the hosts file is answered from it without the name server; off, it goes upstream", { timeout: 10_000 }, async (t) => {
  const listed = parseHosts(fs.readFileSync("/etc/hosts", "utf8")).get("localhost")?.v4 ?? [];
  if (listed.length === 0) return t.skip("no IPv4 localhost in /etc/hosts");
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const fromHosts = await dnsQuery(proxy.port, "localhost");
  assert.deepEqual(fromHosts.answers?.map((a) => ("data" in a ? a.data : undefined)), listed);
  assert.deepEqual(resolver.queries, [], "the name server was not asked");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.status ?? 0, 0);
  proxy.engine.options.setText("dns_use_hosts_file", "false");
  const upstream = await dnsQuery(proxy.port, "localhost");
  assert.deepEqual(upstream.answers?.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.1"]);
  assert.deepEqual(resolver.queries, ["localhost"]);
});

test("dns_use_hosts_file: a name the hosts file lists with IPv4 addresses only gets NOERROR and no answers for AAAA (NODATA), as dnsmasq and systemd-resolved answer, and the name server never hears of it", { timeout: 10_000 }, async (t) => {
  const v4Only = [...parseHosts(fs.readFileSync("/etc/hosts", "utf8"))].find(([, e]) => e.v4.length > 0 && e.v6.length === 0)?.[0];
  if (v4Only === undefined) return t.skip("/etc/hosts lists no name with IPv4 addresses only");
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${resolver.port}` } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  const answer = await dnsQuery(proxy.port, v4Only, { type: "AAAA" });
  assert.deepEqual([answer.id, answer.type, (answer as Packet & { rcode?: string }).rcode, answer.answers?.length], [4242, "response", "NOERROR", 0]);
  assert.deepEqual(answer.questions, [{ name: v4Only, type: "AAAA", class: "IN" }]);
  assert.deepEqual(resolver.queries, [], "the name server was not asked");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.error, undefined);
  // Off, the hosts file is none of the proxy's business: the name server answers.
  proxy.engine.options.setText("dns_use_hosts_file", "false");
  await dnsQuery(proxy.port, v4Only, { type: "AAAA" });
  assert.deepEqual(resolver.queries, [v4Only]);
});

test("the hosts file's form: comments, aliases, IPv6, case and a trailing dot; A and AAAA only, from a file read again when it changes", (t) => {
  const table = parseHosts("# comment\n127.0.0.1\tlocalhost  me.local # mine\n::1 localhost ip6-localhost\n10.0.0.5 Build.Lan.\nnot-an-ip name\n");
  assert.deepEqual(table.get("localhost"), { v4: ["127.0.0.1"], v6: ["::1"] });
  assert.deepEqual(table.get("me.local"), { v4: ["127.0.0.1"], v6: [] });
  assert.deepEqual(table.get("build.lan"), { v4: ["10.0.0.5"], v6: [] });
  assert.equal(table.get("name"), undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-hosts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "hosts");
  fs.writeFileSync(file, "10.1.1.1 box.lan\nfd00::6 six.lan\n");
  const ask = (name: string, type: "A" | "AAAA" | "MX") => answerFromHosts(new DNSMessage({ id: 1, type: "query", questions: [{ type, name, class: "IN" }] } as Packet), file);
  assert.deepEqual(ask("BOX.lan", "A")?.answers.map((a) => ("data" in a ? a.data : undefined)), ["10.1.1.1"]);
  const nodata = (m: DNSMessage | undefined) => [m?.rcode, m?.answers.length];
  assert.deepEqual(nodata(ask("box.lan", "AAAA")), [0, 0], "listed without an IPv6 address: NODATA, not asked upstream");
  assert.deepEqual(nodata(ask("six.lan", "A")), [0, 0], "listed without an IPv4 address: NODATA");
  assert.deepEqual(ask("six.lan", "AAAA")?.answers.map((a) => ("data" in a ? a.data : undefined)), ["fd00::6"]);
  assert.equal(ask("box.lan", "MX"), undefined);
  assert.equal(ask("other.lan", "A"), undefined);
  fs.writeFileSync(file, "10.2.2.2 box.lan\n");
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(ask("box.lan", "A")?.answers.map((a) => ("data" in a ? a.data : undefined)), ["10.2.2.2"]);
});

test("reverse:dns asks its one server for every query, even a name /etc/hosts lists, and records the flows as reverse", { timeout: 10_000 }, async (t) => {
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: `reverse:dns://127.0.0.1:${resolver.port}`, dns_name_servers: "127.0.0.1:1" } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  assert.ok(proxy.logs.some((l) => /^reverse:dns:\/\/127\.0\.0\.1:\d+ proxy listening at dns:\/\/127\.0\.0\.1:\d+\/$/.test(l.msg)));
  for (const name of ["example.test", "localhost"]) {
    const answer = await dnsQuery(proxy.port, name);
    assert.deepEqual(answer.answers?.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.1"], name);
  }
  assert.deepEqual(resolver.queries, ["example.test", "localhost"]);
  const flows = await proxy.waitFinished(2);
  const flow = proxy.engine.store.get(flows[0]!.id) as DNSFlow;
  assert.deepEqual(flow.server_conn.address, ["127.0.0.1", resolver.port]);
  assert.equal(flow.client_conn.proxy_mode, `reverse:dns://127.0.0.1:${resolver.port}`);
});

test("a query held when the modes change cannot be answered from the closed listener: its flow says so, and nothing crashes", { timeout: 15_000 }, async (t) => {
  const resolver = await fakeResolver();
  const proxy = await startProxy({ options: { mode: "dns@0", dns_name_servers: `127.0.0.1:${resolver.port}`, intercept: "~dns" } });
  t.after(async () => {
    await proxy.stop();
    resolver.close();
  });
  void dnsQuery(proxy.port, "held.test", { timeoutMs: 3000 }).catch(() => undefined);
  let flow: DNSFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as DNSFlow | undefined) !== undefined, "a held DNS flow");
  // Its listener goes (a listener the new modes still ask for would stay and answer it).
  proxy.engine.options.setText("mode", "socks5@0");
  await proxy.waitLog(/socks5/);
  proxy.engine.options.setText("intercept", "");
  flow!.resume();
  await waitUntil(() => flow!.error !== undefined, "the flow's error");
  assert.match(flow!.error!.msg, /the DNS listener closed \(a change of mode or listen address\) before the answer could be sent/);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!proxy.logs.some((l) => /internal error/.test(l.msg)), JSON.stringify(proxy.logs.filter((l) => /internal/.test(l.msg))));
});

test("a datagram that is no answer to the query (another ID, garbage) is passed over, and the name server's answer that follows is the one the client gets", { timeout: 15_000 }, async (t) => {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (m, r) => {
    const q = dnsPacket.decode(m);
    const answer = (id: number, ip: string): Buffer => dnsPacket.encode({ id, type: "response", flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: "A", name: q.questions?.[0]?.name ?? "", ttl: 30, class: "IN", data: ip }] });
    // A forged answer with the wrong ID and a datagram that is no DNS message come first.
    sock.send(answer(((q.id ?? 0) + 1) & 0xffff, "6.6.6.6"), r.port, r.address);
    sock.send(Buffer.from("garbage"), r.port, r.address);
    setTimeout(() => sock.send(answer(q.id ?? 0, "10.0.0.2"), r.port, r.address), 50);
  });
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  const proxy = await startProxy({ options: { mode: "dns", dns_name_servers: `127.0.0.1:${sock.address().port}` } });
  t.after(async () => {
    await proxy.stop();
    sock.close();
  });
  const got = await dnsQuery(proxy.port, "real.test");
  assert.equal((got as Packet & { rcode?: string }).rcode, "NOERROR");
  assert.deepEqual(got.answers?.map((a) => ("data" in a ? a.data : undefined)), ["10.0.0.2"]);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.error, undefined);
});
