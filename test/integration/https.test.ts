import { test } from "node:test";
import { decodeSummaries } from "../../src/summary-codec.ts";
import { flowDetail } from "../../src/engine/flow/detail.ts";
import { decodeFlow, encodeFlow } from "../../src/engine/flow/codec.ts";
import assert from "node:assert/strict";
import { X509Certificate, createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import tls from "node:tls";
import path from "node:path";
import { startProxy, testConfdir } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { ConnectRefused, connectTunnel, httpsViaProxy, originCertificate, pryxCaPem, startTlsOrigin, tlsViaProxy } from "../helpers/tls-origin.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow, Response } from "../../src/engine/flow/http.ts";
import { Response as HttpResponse } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import https from "node:https";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { selfSignedCert } from "../../bench/cert.ts";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

// The test origin is self-signed, so every proxy that talks to it skips upstream verification
// unless the test is about that verification.
const insecure = { ssl_insecure: "true" };

test("a 1 MB POST and a 1 MB answer cross the interception intact, and the flow URL is https://host:port/path", { timeout: 20_000 }, async (t) => {
  const answer = randomBytes(1024 * 1024);
  const origin = await startTlsOrigin((req, res) => {
    res.setHeader("x-got-sha256", sha256(req.body));
    res.end(answer);
  });
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  const upload = randomBytes(1024 * 1024);
  const res = await httpsViaProxy(proxy.port, {
    target: `127.0.0.1:${origin.port}`,
    method: "POST",
    path: "/upload?x=1",
    headers: { "content-type": "application/octet-stream" },
    body: upload,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers["x-got-sha256"], sha256(upload), "the origin received the body the client sent");
  assert.equal(res.body.length, answer.length);
  assert.equal(sha256(res.body), sha256(answer), "the client received the body the origin sent");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.method, "POST");
  assert.equal(flow?.url, `https://127.0.0.1:${origin.port}/upload?x=1`);
  assert.equal(flow?.status, 200);
  assert.equal(flow?.reqSize, upload.length);
  assert.equal(flow?.respSize, answer.length);
});

test("a client offering only http/1.0 in ALPN (curl --http1.0) is intercepted, not refused the handshake", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`origin saw HTTP/${req.httpVersion}`));
  const proxy = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const socket = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", alpn: ["http/1.0"] });
  t.after(() => socket.destroy());
  assert.equal(socket.alpnProtocol, "http/1.0");
  socket.write("GET /old HTTP/1.0\r\nHost: app.test\r\n\r\n");
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve());
  });
  const answer = Buffer.concat(chunks).toString();
  assert.match(answer, /^HTTP\/1\.[01] 200 /);
  assert.match(answer, /origin saw HTTP\/1\.[01]$/);
});

test("request and response hooks see and change HTTPS traffic exactly as HTTP", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`hello from ${req.path}; x-added=${String(req.headers["x-added"])}`);
  });
  const seenUrls: string[] = [];
  const rewriter: Addon = {
    name: "rewriter",
    request(flow: HTTPFlow) {
      seenUrls.push(flow.request.url);
      flow.request.headers.set("X-Added", "by-addon");
    },
    response(flow: HTTPFlow) {
      const res = flow.response as Response;
      res.text = (res.text ?? "").replace("hello", "rewritten");
    },
  };
  const proxy = await startProxy({ addons: [rewriter], options: insecure });
  closeAfter(t, proxy, origin);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/greet" });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "rewritten from /greet; x-added=by-addon");
  assert.equal(origin.requests[0]?.headers["x-added"], "by-addon");
  assert.equal(Number(res.headers["content-length"]), res.body.length, "Content-Length follows the rewritten text");
  // The CONNECT named 127.0.0.1: that is where pryx connects; the Host header names app.test.
  assert.deepEqual(seenUrls, [`https://127.0.0.1:${origin.port}/greet`]);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.host, "app.test");
});

test("showhost (mitmproxy's option, on in pryx): off, the list names the host pryx connected to; turned on again, every flow is sent again with the Host header's", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { ...insecure, showhost: "false" } });
  closeAfter(t, proxy, origin);
  await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/a" });
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.host, "127.0.0.1");
  assert.equal(flow?.url, `https://127.0.0.1:${origin.port}/a`);
  const before = proxy.events.length;
  await proxy.engine.handle({ op: "setOption", name: "showhost", value: "true" });
  proxy.engine.flush();
  const resent = proxy.events.slice(before).flatMap((e) => (e.t === "batch" ? decodeSummaries(e.update) : []));
  assert.deepEqual(
    resent.map((f) => [f.host, f.url]),
    [["app.test", `https://app.test:${origin.port}/a`]],
  );
});

test("the leaf certificate names the requested host or IP, is issued by the pryx CA, and is cached per host", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  const ca = new X509Certificate(pryxCaPem());
  const target = `127.0.0.1:${origin.port}`;
  const leafOf = async (servername: string | undefined): Promise<X509Certificate> => {
    // tls.connect checks the name itself (servername, else the target IP): a wrong SAN rejects here.
    const s = await tlsViaProxy(proxy.port, { target, ...(servername ? { servername } : {}) });
    const cert = s.getPeerX509Certificate();
    s.destroy();
    assert.ok(cert, "the proxy presented a certificate");
    return cert;
  };
  const app = await leafOf("app.test");
  assert.equal(app.subjectAltName, "DNS:app.test");
  assert.ok(app.verify(ca.publicKey), "signed by the pryx CA");
  assert.ok(app.checkIssued(ca));
  assert.equal(app.ca, false);

  const ip = await leafOf(undefined);
  assert.equal(ip.subjectAltName, "IP Address:127.0.0.1");
  assert.ok(ip.verify(ca.publicKey));

  const other = await leafOf("localhost");
  assert.equal(other.subjectAltName, "DNS:localhost");
  assert.notEqual(other.fingerprint256, app.fingerprint256, "two hosts get two certificates");

  const again = await leafOf("app.test");
  assert.equal(again.fingerprint256, app.fingerprint256, "the same host gets the cached certificate");
  assert.notEqual(again.fingerprint256, origin.cert.x509.fingerprint256, "not the origin's own certificate");
});

test("http_connect refusal: a 403 in http_connect answers the CONNECT, opens no tunnel, and is recorded", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("should not be reached"));
  const refuser: Addon = {
    name: "refuser",
    http_connect(flow: HTTPFlow) {
      flow.response = HttpResponse.make(403, "tunnels to this host are not allowed", { "content-type": "text/plain" });
    },
  };
  const proxy = await startProxy({ addons: [refuser], options: insecure });
  closeAfter(t, proxy, origin);
  const err = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`).then(
    (s) => {
      s.destroy();
      return undefined;
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectRefused, `expected a refused CONNECT, got ${String(err)}`);
  assert.equal(err.status, 403);
  assert.match(err.body, /tunnels to this host are not allowed/);
  assert.ok(err.closedByProxy, "the proxy closed the connection instead of opening a tunnel");
  assert.equal(origin.connections, 0, "no connection to the origin");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.method, "CONNECT");
  assert.equal(flow?.status, 403);
  assert.equal(flow?.url, `127.0.0.1:${origin.port}`);
});

test("ignore_hosts passes TLS through: the client sees the origin's own certificate and a TCP flow is recorded", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("straight from the origin"));
  const proxy = await startProxy({ options: { ignore_hosts: `^127\\.0\\.0\\.1:${origin.port}$` }, keepFlows: true });
  closeAfter(t, proxy, origin);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", ca: [origin.cert.certPem], path: "/" });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "straight from the origin");
  assert.equal(res.peer.fingerprint256, origin.cert.x509.fingerprint256);
  const flows = await proxy.waitFinished(1);
  const tcp = flows.find((f) => f.type === "tcp");
  assert.ok(tcp, `a tcp flow among ${flows.map((f) => f.type).join(",")}`);
  assert.ok((tcp.messages ?? 0) >= 2, "the encrypted bytes both ways are recorded as messages");
  assert.ok(!flows.some((f) => f.type === "http" && f.scheme === "https"), "nothing was decrypted");
});

test("tls_clienthello sees the SNI, ALPN offers, cipher suites, extensions and bytes of the ClientHello (as mitmproxy's tls.ClientHello); ignore_connection passes that connection through, the others are intercepted", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("origin"));
  const hellos: string[] = [];
  const fingerprints: { suites: readonly number[]; extensions: number[]; sniExtension: string; raw: Buffer; body: Buffer }[] = [];
  const addon: Addon = {
    tls_clienthello(data) {
      hellos.push(`${data.client_hello.sni} ${data.client_hello.alpn_protocols.join(",")} ${data.context.server.address?.[1]}`);
      const sni = data.client_hello.extensions.find(([type]) => type === 0)?.[1] ?? new Uint8Array();
      fingerprints.push({ suites: data.client_hello.cipher_suites, extensions: data.client_hello.extensions.map(([type]) => type), sniExtension: Buffer.from(sni).toString("latin1"), raw: data.client_hello.raw_bytes(), body: data.client_hello.raw_bytes(false) });
      if (data.client_hello.sni === "localhost") data.ignore_connection = true;
    },
  };
  const proxy = await startProxy({ addons: [addon], keepFlows: true, options: insecure });
  closeAfter(t, proxy, origin);
  const passed = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "localhost", ca: [origin.cert.certPem], path: "/" });
  assert.equal(passed.body.toString(), "origin");
  assert.equal(passed.peer.fingerprint256, origin.cert.x509.fingerprint256, "the origin's own certificate");
  const intercepted = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/" });
  assert.equal(intercepted.body.toString(), "origin");
  assert.notEqual(intercepted.peer.fingerprint256, origin.cert.x509.fingerprint256, "pryx's certificate");
  assert.deepEqual(hellos, [`localhost http/1.1 ${origin.port}`, `app.test http/1.1 ${origin.port}`]);
  const [hello] = fingerprints;
  // Node's client offers TLS 1.3's suites first (TLS_AES_256_GCM_SHA384 is 0x1302).
  assert.ok(hello!.suites.includes(0x1302), `cipher suites: ${hello!.suites.map((n) => n.toString(16))}`);
  assert.ok(hello!.extensions.includes(0x10) && hello!.extensions.includes(0x2b), "ALPN and supported_versions among the extensions");
  assert.match(hello!.sniExtension, /localhost$/, "an extension's data as sent");
  assert.equal(hello!.raw[0], 0x16, "raw_bytes(): a TLS handshake record");
  assert.equal(hello!.raw.length, 5 + hello!.raw.readUInt16BE(3));
  assert.deepEqual(hello!.body, hello!.raw.subarray(5), "raw_bytes(false): the handshake message alone");
  assert.equal(hello!.body[0], 0x01, "a ClientHello");
  const flows = await proxy.waitFinished(2);
  assert.ok(flows.some((f) => f.type === "tcp"), "the passed-through connection is a TCP flow");
  assert.ok(flows.some((f) => f.type === "http" && f.scheme === "https"), "the other was decrypted");
});

test("upstream verification: a self-signed origin is a 502 naming host and reason without -k, and works with ssl_insecure", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("verified or not"));
  const errors: string[] = [];
  const strict = await startProxy({ addons: [{ name: "errors", error: (f: HTTPFlow) => void errors.push(f.error?.msg ?? "") }] });
  const lax = await startProxy({ options: insecure });
  t.after(async () => {
    await strict.stop();
    await lax.stop();
    await origin.close();
  });
  const req = { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/v" };
  const bad = await httpsViaProxy(strict.port, req);
  assert.equal(bad.status, 502);
  const text = bad.body.toString();
  assert.match(text, /app\.test/, "names the host");
  assert.match(text, /self[- ]signed/i, "names the reason");
  assert.match(text, /ssl-insecure/, "says how to skip verification");
  const [failed] = await strict.waitFinished(1);
  assert.match(failed?.error ?? "", /TLS verification of app\.test failed/);
  assert.equal(errors.length, 1, "the error hook fired");
  assert.equal(origin.requests.length, 0);

  const good = await httpsViaProxy(lax.port, req);
  assert.equal(good.status, 200);
  assert.equal(good.body.toString(), "verified or not");
  const [ok] = await lax.waitFinished(1);
  const flow = lax.engine.store.get(ok?.id ?? "") as HTTPFlow;
  assert.equal(flow.server_conn.tls_established, true);
  assert.equal(flow.server_conn.sni, "app.test");
  const chain = flow.server_conn.certificate_list.map((pem) => new X509Certificate(pem).fingerprint256);
  assert.deepEqual(chain, [origin.cert.x509.fingerprint256], "the server's chain is recorded");
  // What the console's Detail tab shows of it.
  const cert = flowDetail(flow, lax.engine.store.summary(flow), 0, 0).server.certificate;
  assert.equal(cert?.error, undefined);
  assert.equal(cert && "sha256" in cert && cert.sha256, origin.cert.x509.fingerprint256.replaceAll(":", "").toLowerCase());
  assert.deepEqual(cert && "altNames" in cert && cert.altNames, ["127.0.0.1", "localhost", "app.test"]);
  // Saved and read again (a flow file), the chain and cipher are still there: the Detail tab shows the certificate after -r.
  const back = decodeFlow(encodeFlow(flow)) as HTTPFlow;
  assert.deepEqual(back.server_conn.certificate_list, flow.server_conn.certificate_list);
  assert.equal(back.server_conn.cipher, flow.server_conn.cipher);
  assert.match(back.server_conn.cipher ?? "", /AES|CHACHA/);
});

test("a client that rejects the pryx certificate gets a log line saying so, and the proxy serves the next request", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("still serving"));
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  const target = `127.0.0.1:${origin.port}`;
  // No CA given: the client trusts only the system roots, which do not include pryx's.
  await assert.rejects(tlsViaProxy(proxy.port, { target, servername: "app.test", ca: "system" }), /certificate/);
  const line = await proxy.waitLog(/client TLS handshake failed for .* is the pryx CA trusted/);
  assert.match(line.msg, /^127\.0\.0\.1:\d+: client TLS handshake failed for app\.test/, "the line names the client");
  const res = await httpsViaProxy(proxy.port, { target, servername: "app.test" });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "still serving");
});

test("a broken TLS handshake is logged with its client and reason but not blamed on the CA", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("still serving"));
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  socket.on("error", () => undefined);
  // A TLS record header, then bytes that are no ClientHello.
  socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]), Buffer.from("garbagegarbage")]));
  const line = await proxy.waitLog(/client TLS handshake failed/);
  assert.match(line.msg, /^127\.0\.0\.1:\d+: client TLS handshake failed for 127\.0\.0\.1: \S/);
  assert.doesNotMatch(line.msg, /CA trusted/);
  socket.destroy();
  assert.equal((await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test" })).status, 200);
});

test("a client that leaves while tls_clienthello runs still gets client_disconnected", { timeout: 10_000 }, async (t) => {
  const seen: string[] = [];
  const addon: Addon = {
    async tls_clienthello() {
      seen.push("tls_clienthello");
      await new Promise((r) => setTimeout(r, 150));
    },
    client_disconnected() {
      seen.push("client_disconnected");
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  t.after(() => proxy.stop());
  const raw = await connectTunnel(proxy.port, "leaving.test:443");
  const client = tls.connect({ socket: raw, servername: "leaving.test", rejectUnauthorized: false });
  client.on("error", () => undefined);
  await waitUntil(() => seen.includes("tls_clienthello"), "the ClientHello reached the hook");
  client.destroy();
  raw.destroy();
  await waitUntil(() => seen.includes("client_disconnected"), "client_disconnected after the hook");
  assert.deepEqual(seen, ["tls_clienthello", "client_disconnected"]);
});

test("tls_failed_client says why a client's handshake failed, before client_disconnected; tls_established_client sees the agreed TLS", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const seen: string[] = [];
  const addon: Addon = {
    tls_established_client(data) {
      const c = data.context.client;
      seen.push(`established ${c.sni} ${c.alpn} ${c.tls_version} ${data.conn === c}`);
    },
    tls_failed_client(data) {
      seen.push(`failed ${data.context.client.sni ?? data.context.server.address?.[0]}: ${data.conn.error}`);
    },
    client_disconnected() {
      seen.push("client_disconnected");
    },
  };
  const proxy = await startProxy({ addons: [addon], options: insecure });
  closeAfter(t, proxy, origin);
  const target = `127.0.0.1:${origin.port}`;
  await assert.rejects(tlsViaProxy(proxy.port, { target, servername: "app.test", ca: "system" }), /certificate/);
  await waitUntil(() => seen.includes("client_disconnected"), "client_disconnected after the failed handshake");
  assert.equal(seen.length, 2, seen.join(" | "));
  assert.match(seen[0]!, /^failed (app\.test|127\.0\.0\.1): client TLS handshake failed: /);
  assert.equal(seen[1], "client_disconnected");
  seen.length = 0;
  const res = await httpsViaProxy(proxy.port, { target, servername: "app.test", headers: { connection: "close" } });
  assert.equal(res.body.toString(), "ok");
  assert.equal(seen[0], "established app.test http/1.1 TLSv1.3 true");
});

test("tls_established_server sees what pryx agreed with the server; tls_failed_server why it could not, before server_connect_error", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const seen: string[] = [];
  const addon: Addon = {
    tls_established_server(data) {
      const s = data.context.server;
      seen.push(`established ${s.alpn} ${s.tls_version} ${s.certificate_list.length > 0} ${data.conn === s}`);
    },
    tls_failed_server(data) {
      seen.push(`failed: ${data.conn.error}`);
    },
    server_connect_error() {
      seen.push("server_connect_error");
    },
  };
  const strict = await startProxy({ addons: [addon] });
  const lax = await startProxy({ addons: [addon], options: insecure });
  closeAfter(t, strict, lax, origin);
  const req = { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/", headers: { connection: "close" } };
  assert.equal((await httpsViaProxy(strict.port, req)).status, 502);
  assert.equal(seen.length, 2, seen.join(" | "));
  assert.match(seen[0]!, /^failed: .*certificate/);
  assert.equal(seen[1], "server_connect_error");
  seen.length = 0;
  assert.equal((await httpsViaProxy(lax.port, req)).status, 200);
  assert.deepEqual(seen, ["established http/1.1 TLSv1.3 true true"]);
});

test("tls_start_client names the certificate and sees the client's ALPN offers; tls_start_server changes the SNI and ALPN offers pryx sends the server", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`origin spoke HTTP/${req.httpVersion}`), "both");
  const seen: string[] = [];
  const addon: Addon = {
    tls_clienthello(data) {
      seen.push(`clienthello ${data.client_hello.sni}`);
    },
    tls_start_client(data) {
      seen.push(`start_client ${data.conn.sni} ${data.conn.alpn_offers.join(",")} ${data.conn === data.context.client}`);
      data.conn.sni = "chosen.test";
    },
    tls_established_client(data) {
      seen.push(`established_client ${data.conn.sni} ${data.conn.alpn}`);
    },
    tls_start_server(data) {
      seen.push(`start_server ${data.conn.sni} ${data.conn.alpn_offers.join(",")} ${data.conn === data.context.server}`);
      data.conn.sni = "upstream.test";
      // The client speaks HTTP/1.1; the server is asked for HTTP/2 all the same.
      data.conn.alpn_offers = ["h2", "http/1.1"];
    },
    tls_established_server(data) {
      seen.push(`established_server ${data.conn.alpn}`);
    },
    response(flow) {
      seen.push(`response ${flow.client_conn.alpn_offers.join(",")} | ${flow.server_conn.alpn_offers.join(",")}`);
    },
  };
  const proxy = await startProxy({ addons: [addon], options: insecure });
  closeAfter(t, proxy, origin);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", certName: "chosen.test", alpn: ["x-test", "http/1.1"], headers: { connection: "close" } });
  assert.equal(res.body.toString(), "origin spoke HTTP/2.0");
  assert.match(String(res.peer.subjectaltname), /DNS:chosen\.test/);
  assert.deepEqual(origin.servernames, ["upstream.test"]);
  assert.deepEqual(seen, [
    "clienthello app.test",
    "start_client app.test x-test,http/1.1 true",
    "established_client chosen.test http/1.1",
    "start_server app.test http/1.1 true",
    "established_server h2",
    "response x-test,http/1.1 | h2,http/1.1",
  ]);
});

test("next_layer sees what a tunnel's first bytes were taken for, before tls_clienthello; \"tcp\" passes TLS through, an unknown layer is logged and ignored", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("origin"));
  const seen: string[] = [];
  const addon: Addon = {
    next_layer(data) {
      const first = data.data_client();
      seen.push(`next_layer ${data.layer} ${first[0]} ${data.data_server().length} ${data.context.server.address?.[1] === origin.port}`);
      const sni = first.toString().includes("pass.test") ? "pass" : first.toString().includes("odd.test") ? "odd" : "";
      if (sni === "pass") data.layer = "tcp";
      if (sni === "odd") (data as { layer: string }).layer = "quic";
    },
    tls_clienthello(data) {
      seen.push(`tls_clienthello ${data.client_hello.sni}`);
    },
  };
  const proxy = await startProxy({ addons: [addon], keepFlows: true, options: insecure });
  closeAfter(t, proxy, origin);
  const target = `127.0.0.1:${origin.port}`;
  const passed = await httpsViaProxy(proxy.port, { target, servername: "pass.test", certName: "localhost", ca: [origin.cert.certPem], headers: { connection: "close" } });
  assert.equal(passed.body.toString(), "origin");
  assert.equal(passed.peer.fingerprint256, origin.cert.x509.fingerprint256, "the origin's own certificate: nothing was decrypted");
  const intercepted = await httpsViaProxy(proxy.port, { target, servername: "app.test", headers: { connection: "close" } });
  assert.notEqual(intercepted.peer.fingerprint256, origin.cert.x509.fingerprint256, "pryx's certificate");
  const odd = await httpsViaProxy(proxy.port, { target, servername: "odd.test", headers: { connection: "close" } });
  assert.equal(odd.body.toString(), "origin", "an unknown layer leaves the connection as it was taken");
  await proxy.waitLog(/next_layer: unknown layer "quic" \(it is one of tls, http, tcp\); the connection goes on as tls/);
  assert.deepEqual(seen, [
    "next_layer tls 22 0 true",
    "next_layer tls 22 0 true",
    "tls_clienthello app.test",
    "next_layer tls 22 0 true",
    "tls_clienthello odd.test",
  ]);
  const flows = await proxy.waitFinished(3);
  assert.equal(flows.filter((f) => f.type === "tcp").length, 1, "the passed-through connection is a TCP flow");
});

test("an addon that throws in next_layer, tls_start_client or tls_start_server is logged by name and the connection goes on as it would have", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`still served over HTTP/${req.httpVersion}`), "both");
  const addon: Addon = {
    name: "clumsy",
    next_layer() {
      throw new Error("next_layer broke");
    },
    tls_start_client() {
      throw new Error("tls_start_client broke");
    },
    tls_start_server(data) {
      data.conn.alpn_offers = ["h2"];
      throw new Error("tls_start_server broke");
    },
  };
  const proxy = await startProxy({ addons: [addon], options: insecure });
  closeAfter(t, proxy, origin);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", headers: { connection: "close" } });
  // A change made before the throw stands, as in any hook: the server was offered h2 only.
  assert.equal(res.body.toString(), "still served over HTTP/2.0");
  assert.notEqual(res.peer.fingerprint256, origin.cert.x509.fingerprint256, "intercepted with pryx's certificate");
  for (const hook of ["next_layer", "tls_start_client", "tls_start_server"]) await proxy.waitLog(new RegExp(`Addon error in clumsy \\(${hook}\\): ${hook} broke`));
});

test("http://pryx.it/ through the proxy serves the onboarding page and the CA certificate", { timeout: 10_000 }, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  const page = await viaProxy(proxy.port, "http://pryx.it/");
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-type"]), /text\/html/);
  assert.match(page.body.toString(), /<a href="\/cert\/pem">/);
  const pem = await viaProxy(proxy.port, "http://pryx.it/cert/pem");
  assert.equal(pem.status, 200);
  const caFile = fs.readFileSync(path.join(testConfdir(), "pryx-ca-cert.pem"), "utf8");
  assert.equal(pem.body.toString(), caFile);
  // The same page inside a tunnel (a browser that tries https first): answered by pryx, no server.
  const tunnelled = await httpsViaProxy(proxy.port, { target: "pryx.it:443", servername: "pryx.it", path: "/cert/pem" });
  assert.equal(tunnelled.status, 200);
  assert.equal(tunnelled.body.toString(), caFile);
  // Asked of pryx itself (a device whose DNS points pryx.it at the proxy), as mitmproxy serves mitm.it; another Host is still refused.
  const direct = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: proxy.port, path: "/cert/pem", headers: { host: "pryx.it" } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
  assert.equal(direct.status, 200);
  assert.equal(direct.body, caFile);
  // Another Host in origin form is that server's request (mitmproxy routes it so), not the page.
  const other = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: proxy.port, path: "/", headers: { host: "elsewhere.test" } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
  assert.equal(other.status, 502);
  assert.match(other.body, /elsewhere\.test/);
});

test("sessions are not resumed: every client connection gets a full handshake (stateless tickets cost ~8% of a new connection)", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("fresh"));
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  const target = `127.0.0.1:${origin.port}`;
  const get = async (session?: Buffer): Promise<{ reused: boolean; session: Buffer | undefined; body: string }> => {
    const s = await tlsViaProxy(proxy.port, { target, servername: "tickets.test", ...(session ? { session } : {}) });
    const reused = s.isSessionReused();
    let got: Buffer | undefined;
    s.on("session", (b: Buffer) => (got = b));
    s.write("GET / HTTP/1.1\r\nHost: tickets.test\r\nConnection: close\r\n\r\n");
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    return { reused, session: got, body: Buffer.concat(chunks).toString("latin1") };
  };
  const first = await get();
  assert.match(first.body, /^HTTP\/1\.1 200[\s\S]*fresh$/);
  assert.ok(first.session, "the client kept a session to offer");
  const second = await get(first.session);
  assert.equal(second.reused, false, "the second connection resumed the first one's session");
  assert.match(second.body, /fresh$/);
});

test("a new server connection resumes the server's TLS session, records the chain of the handshake that made it, and is never resumed under other verification settings", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("again"));
  const dir = fs.mkdtempSync(path.join(testConfdir(), "resume-"));
  const originCa = path.join(dir, "origin-ca.pem");
  fs.writeFileSync(originCa, originCertificate().certPem);
  const proxy = await startProxy({ options: { ssl_verify_upstream_trusted_ca: originCa } });
  closeAfter(t, proxy, origin);
  // Connection: close, so each request has a server connection of its own rather than a pooled one.
  const req = { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/", headers: { connection: "close" } };
  for (let i = 0; i < 3; i++) assert.equal((await httpsViaProxy(proxy.port, req)).status, 200);
  assert.equal(origin.connections, 3);
  assert.equal(origin.resumed, 2, "the second and third server connections resumed a session");
  const flows = await proxy.waitFinished(3);
  for (const f of flows) {
    const flow = proxy.engine.store.get(f.id) as HTTPFlow;
    const chain = flow.server_conn.certificate_list.map((pem) => new X509Certificate(pem).fingerprint256);
    assert.deepEqual(chain, [origin.cert.x509.fingerprint256], "a resumed connection still records the server's chain");
  }
  // A resumed session keeps the verdict of the handshake that made it. Once another CA is the
  // trusted one, that verdict no longer holds: a full handshake must check the origin again.
  const otherCa = path.join(dir, "other-ca.pem");
  fs.writeFileSync(otherCa, pryxCaPem());
  await proxy.engine.handle({ op: "setOption", name: "ssl_verify_upstream_trusted_ca", value: otherCa });
  const refused = await httpsViaProxy(proxy.port, req);
  assert.equal(refused.status, 502, "verified against the new CA, not resumed on the old verdict");
  assert.match(refused.body.toString(), /app\.test/);
  assert.equal(origin.resumed, 2);
});

test("a server reached by IP address is verified against that address: a certificate for localhost only is refused, one with the IP in its SANs is taken", { timeout: 20_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(testConfdir(), "by-ip-"));
  const serve = async (cert: { keyPem: string; certPem: string }): Promise<number> => {
    const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => res.end("reached"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    return (server.address() as AddressInfo).port;
  };
  const namedOnly = selfSignedCert("named only", [], ["localhost"]);
  const ipOnly = selfSignedCert("ip only", ["127.0.0.1"], []);
  const caFile = path.join(dir, "both.pem");
  fs.writeFileSync(caFile, namedOnly.certPem + ipOnly.certPem);
  const proxy = await startProxy({ options: { ssl_verify_upstream_trusted_ca: caFile } });
  closeAfter(t, proxy);
  // No SNI: the client too asks for the server by its address.
  const refused = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${await serve(namedOnly)}`, path: "/" });
  assert.equal(refused.status, 502, refused.body.toString());
  assert.match(refused.body.toString(), /127\.0\.0\.1/);
  // A certificate the server should not have is a warning, as mitmproxy logs it (a refused connection is info).
  assert.equal((await proxy.waitLog(/error establishing server connection/)).level, "warn");
  const taken = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${await serve(ipOnly)}`, path: "/" });
  assert.equal(taken.status, 200, taken.body.toString());
  assert.equal(taken.body.toString(), "reached");
});

test("ssl_verify_upstream_trusted_ca: the origin's own CA file verifies it (no -k needed); a file with no certificate is refused up front", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("verified"));
  const dir = fs.mkdtempSync(path.join(testConfdir(), "trusted-"));
  const caFile = path.join(dir, "company-ca.pem");
  fs.writeFileSync(caFile, originCertificate().certPem);
  const proxy = await startProxy({ options: { ssl_verify_upstream_trusted_ca: caFile } });
  closeAfter(t, proxy, origin);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/v" });
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(res.body.toString(), "verified");
  // Another CA in the file: the origin is refused, so the file is what verification uses.
  const otherCa = path.join(dir, "other-ca.pem");
  fs.writeFileSync(otherCa, pryxCaPem());
  await proxy.engine.handle({ op: "setOption", name: "ssl_verify_upstream_trusted_ca", value: otherCa });
  const refused = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/v2" });
  assert.equal(refused.status, 502);
  assert.match(refused.body.toString(), /app\.test/);

  const notPem = path.join(dir, "notes.txt");
  fs.writeFileSync(notPem, "not a certificate\n");
  await assert.rejects(startProxy({ options: { ssl_verify_upstream_trusted_ca: notPem } }), /option ssl_verify_upstream_trusted_ca: .*holds no PEM certificate/);
  await assert.rejects(proxy.engine.handle({ op: "setOption", name: "ssl_verify_upstream_trusted_ca", value: path.join(dir, "missing.pem") }), /cannot read .*missing\.pem/);
});

test("ssl_verify_upstream_trusted_confdir: a directory of CA files (other files and a c_rehash link passed over) verifies the origin; one without it refuses; one with no certificate is an error", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("verified by dir"));
  const dir = fs.mkdtempSync(path.join(testConfdir(), "trusted-dir-"));
  const cas = path.join(dir, "cas");
  fs.mkdirSync(path.join(cas, "sub"), { recursive: true });
  fs.writeFileSync(path.join(cas, "company.pem"), originCertificate().certPem);
  fs.symlinkSync("company.pem", path.join(cas, "5f3a9c2e.0"));
  fs.writeFileSync(path.join(cas, "README"), "not a certificate\n");
  const proxy = await startProxy({ options: { ssl_verify_upstream_trusted_confdir: cas } });
  closeAfter(t, proxy, origin);
  const req = { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/", headers: { connection: "close" } };
  const ok = await httpsViaProxy(proxy.port, req);
  assert.equal(ok.status, 200, ok.body.toString());
  assert.equal(ok.body.toString(), "verified by dir");
  const others = path.join(dir, "others");
  fs.mkdirSync(others);
  fs.writeFileSync(path.join(others, "pryx.pem"), pryxCaPem());
  await proxy.engine.handle({ op: "setOption", name: "ssl_verify_upstream_trusted_confdir", value: others });
  assert.equal((await httpsViaProxy(proxy.port, req)).status, 502, "the origin's CA is not in that directory");
  const empty = path.join(dir, "empty");
  fs.mkdirSync(empty);
  await assert.rejects(proxy.engine.handle({ op: "setOption", name: "ssl_verify_upstream_trusted_confdir", value: empty }), /empty holds no file with a PEM certificate/);
});

test("turning verification on (ssl_insecure off) closes idle server connections made without it: the next request verifies", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("hello"));
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  const req = { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/", headers: { connection: "keep-alive" } };
  assert.equal((await httpsViaProxy(proxy.port, req)).status, 200);
  // The client has gone; its idle server connection waits in the shared pool. With -k still on it is reused.
  assert.equal((await httpsViaProxy(proxy.port, req)).status, 200);
  assert.equal(origin.connections, 1, "the second request reused the first connection");
  await proxy.engine.handle({ op: "setOption", name: "ssl_insecure", value: "false" });
  const res = await httpsViaProxy(proxy.port, req);
  assert.equal(res.status, 502, "verified now, and the self-signed origin refused");
  assert.match(res.body.toString(), /self[- ]signed/i);
});

test("onboarding_host moves the onboarding page, and onboarding=false passes its requests on like any other", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("the origin itself"));
  const proxy = await startProxy({ options: { onboarding_host: "127.0.0.1" } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  const page = await viaProxy(proxy.port, url);
  assert.match(page.body.toString(), /pryx-ca-cert/, "the onboarding page, at the host the option names");
  proxy.engine.options.setText("onboarding", "false");
  assert.equal((await viaProxy(proxy.port, url)).body.toString(), "the origin itself");
});

test("https:// to a server that does not speak TLS: a 502 that says so, not OpenSSL's error line", { timeout: 10_000 }, async (t) => {
  const plain = await startHttpOrigin((_req, res) => res.end("plain http"));
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, plain);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${plain.port}`, servername: "app.test", path: "/" });
  assert.equal(res.status, 502);
  assert.match(res.body.toString(), new RegExp(`TLS handshake with app\\.test:${plain.port} failed: the server does not speak TLS`));
  assert.doesNotMatch(res.body.toString(), /SSL routines|deps\/openssl/);
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /does not speak TLS/);
});
