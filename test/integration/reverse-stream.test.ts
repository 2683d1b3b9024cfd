import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { startProxy } from "../helpers/proxy.ts";
import { originCertificate, pryxCaPem } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { hookRecorder } from "../helpers/hook-recorder.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import { registerCoreOptions } from "../../src/engine/core-options.ts";
import { Options } from "../../src/engine/options.ts";
import { parseReverseTarget } from "../../src/engine/modes.ts";
import type { TCPFlow } from "../../src/engine/flow/tcp.ts";

/** A server that greets first ("220 ready"), as SMTP and many databases do, then answers each chunk in capitals. */
function greetingServer(secure: boolean): Promise<net.Server> {
  const serve = (c: net.Socket): void => {
    c.on("error", () => undefined);
    c.write("220 ready\n");
    c.on("data", (d: Buffer) => c.write(d.toString().toUpperCase()));
    c.on("end", () => c.end());
  };
  const { keyPem, certPem } = originCertificate();
  const server = secure ? tls.createServer({ key: keyPem, cert: certPem }, serve) : net.createServer(serve);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

/** Reads from `sock` until `want` has arrived whole. */
function readUntil(sock: net.Socket, want: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(want)}; got ${JSON.stringify(got)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (!got.includes(want)) return;
      clearTimeout(timer);
      sock.off("data", onData);
      resolve(got);
    };
    sock.on("data", onData);
  });
}

/** Greeting, one exchange, then both sides close; returns what the client read. */
async function converse(sock: net.Socket): Promise<string> {
  const greeting = await readUntil(sock, "220 ready\n");
  sock.write("ping\n");
  const answer = await readUntil(sock, "PING\n");
  sock.end();
  await new Promise((r) => sock.once("close", r));
  return greeting + answer;
}

test("reverse:tcp relays to its target as a TCP flow, the server speaking first, with the TCP hooks", { timeout: 10_000 }, async (t) => {
  const origin = await greetingServer(false);
  const rec = hookRecorder("tcp_start", "tcp_message", "tcp_end", "tcp_error");
  const proxy = await startProxy({ addons: [rec.addon], options: { mode: `reverse:tcp://127.0.0.1:${portOf(origin)}` } });
  closeAfter(t, proxy, origin);
  assert.ok(proxy.logs.some((l) => /reverse:tcp:\/\/127\.0\.0\.1:\d+ proxy listening at tcp:\/\/127\.0\.0\.1:\d+\//.test(l.msg)), "the listening line names the stream");
  const sock = net.connect(proxy.port, "127.0.0.1");
  assert.equal(await converse(sock), "220 ready\nPING\n");
  const [summary] = await proxy.waitFinished(1);
  assert.equal(summary?.type, "tcp");
  const flow = proxy.engine.store.get(summary!.id) as TCPFlow;
  assert.deepEqual(flow.server_conn.address, ["127.0.0.1", portOf(origin)]);
  assert.deepEqual(flow.messages.map((m) => `${m.from_client ? ">" : "<"} ${Buffer.from(m.content).toString().trim()}`), ["< 220 ready", "> ping", "< PING"]);
  assert.equal(flow.client_conn.proxy_mode, `reverse:tcp://127.0.0.1:${portOf(origin)}`);
  assert.deepEqual(rec.hooks, ["tcp_start", "tcp_message", "tcp_message", "tcp_message", "tcp_end"]);
});

test("reverse:tls intercepts the client's TLS with a certificate for its SNI and relays the decrypted bytes over TLS", { timeout: 10_000 }, async (t) => {
  const origin = await greetingServer(true);
  const proxy = await startProxy({ options: { mode: `reverse:tls://127.0.0.1:${portOf(origin)}`, ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const sock = tls.connect({ host: "127.0.0.1", port: proxy.port, servername: "db.test", ca: [pryxCaPem()] });
  await new Promise<void>((resolve, reject) => {
    sock.once("secureConnect", resolve);
    sock.once("error", reject);
  });
  assert.match(sock.getPeerCertificate().subjectaltname ?? "", /DNS:db\.test/);
  assert.equal(await converse(sock), "220 ready\nPING\n");
  const [summary] = await proxy.waitFinished(1);
  const flow = proxy.engine.store.get(summary!.id) as TCPFlow;
  assert.equal(flow.client_conn.tls, true);
  assert.equal(flow.client_conn.sni, "db.test");
  assert.equal(flow.server_conn.tls, true, "pryx spoke TLS to the target");
  assert.deepEqual(flow.messages.map((m) => Buffer.from(m.content).toString().trim()), ["220 ready", "ping", "PING"]);

  // A client speaking plain bytes to a reverse:tls listener is relayed too, over TLS to the target.
  const plain = net.connect(proxy.port, "127.0.0.1");
  plain.write("hello\n");
  assert.match(await readUntil(plain, "HELLO\n"), /220 ready\n/);
  plain.destroy();
});

test("reverse:tls refuses a target whose certificate does not verify, unless ssl_insecure; the proxy keeps serving", { timeout: 10_000 }, async (t) => {
  const origin = await greetingServer(true);
  const proxy = await startProxy({ options: { mode: `reverse:tls://127.0.0.1:${portOf(origin)}` } });
  closeAfter(t, proxy, origin);
  for (let i = 0; i < 2; i++) {
    const sock = net.connect(proxy.port, "127.0.0.1");
    sock.on("error", () => undefined);
    sock.write("x");
    await new Promise((r) => sock.once("close", r));
  }
  const flows = await proxy.waitFinished(2);
  for (const f of flows) assert.match(f.error ?? "", /certificate|self[- ]signed/i);
});

test("reverse:tcp to a dead target: the client's connection closes, the flow has the error, and the next client is served", { timeout: 10_000 }, async (t) => {
  const dead = await deadPort();
  const proxy = await startProxy({ options: { mode: `reverse:tcp://127.0.0.1:${dead}` } });
  closeAfter(t, proxy);
  for (let i = 0; i < 2; i++) {
    const sock = net.connect(proxy.port, "127.0.0.1");
    sock.on("error", () => undefined);
    await new Promise((r) => sock.once("close", r));
  }
  const flows = await waitUntil(() => (proxy.engine.flush(), proxy.finished().length >= 2 ? proxy.finished() : undefined), "two failed flows");
  for (const f of flows) assert.match(f.error ?? "", /refused/i);
});

test("reverse targets read as mitmproxy's: https by default, each scheme's port, a port required for tcp and udp, DTLS and QUIC refused by name", () => {
  assert.deepEqual(parseReverseTarget("reverse:example.com"), { scheme: "https", host: "example.com", port: 443 });
  assert.deepEqual(parseReverseTarget("reverse:http://example.com"), { scheme: "http", host: "example.com", port: 80 });
  assert.deepEqual(parseReverseTarget("reverse:tls://db.test"), { scheme: "tls", host: "db.test", port: 443 });
  assert.deepEqual(parseReverseTarget("reverse:tcp://db.test:80"), { scheme: "tcp", host: "db.test", port: 80 });
  assert.deepEqual(parseReverseTarget("reverse:dns://[::1]"), { scheme: "dns", host: "::1", port: 53 });
  const o = new Options();
  registerCoreOptions(o);
  assert.throws(() => o.setText("mode", "reverse:tcp://db.test"), /reverse:tcp:\/\/db\.test: a tcp target needs a port, e\.g\. reverse:tcp:\/\/db\.test:5432/);
  assert.throws(() => o.setText("mode", "reverse:quic://db.test:443"), /pryx does not proxy quic \(no DTLS or QUIC yet\); reverse targets are http, https, tcp, tls, udp, dns/);
  assert.throws(() => o.setText("mode", "reverse:udp://db.test"), /a udp target needs a port/);
  assert.throws(() => o.setText("mode", "reverse:ftp://files.test"), /unknown scheme "ftp"/);
  // A scheme in capitals is that scheme (it was taken for the host "http"); a path is refused, not dropped unsaid.
  assert.deepEqual(parseReverseTarget("reverse:HTTP://127.0.0.1:8080"), { scheme: "http", host: "127.0.0.1", port: 8080 });
  assert.throws(() => o.setText("mode", "reverse:http://api.test:8080/v1"), /reverse:http:\/\/api\.test:8080\/v1: a reverse target is SCHEME:\/\/HOST\[:PORT\], without a path \(\/v1\)/);
  assert.deepEqual(parseReverseTarget("reverse:http://api.test/"), { scheme: "http", host: "api.test", port: 80 });
  o.setText("mode", "reverse:tcp://db.test:5432@15432");
  assert.deepEqual(o.get("mode"), ["reverse:tcp://db.test:5432@15432"]);
});
