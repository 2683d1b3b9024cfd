import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import type tls from "node:tls";
import { startProxy } from "../helpers/proxy.ts";
import { rawExchange, startHttpOrigin } from "../helpers/origin.ts";
import { pryxCaPem, startTlsOrigin } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

interface Answer {
  status: number;
  body: string;
  /** The certificate the client was shown, for a TLS client. */
  peer: tls.PeerCertificate | undefined;
  headers: http.IncomingHttpHeaders;
}

/** One GET to the reverse proxy's listener, in TLS (trusting the pryx CA, with `sni` if given) or plain. */
function get(port: number, path: string, useTls: boolean, sni?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      const peer = useTls ? (res.socket as tls.TLSSocket).getPeerCertificate() : undefined;
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), peer, headers: res.headers }));
      res.on("error", reject);
    };
    const opts = { host: "127.0.0.1", port, path, agent: false };
    const req = useTls ? https.get({ ...opts, ...(sni ? { servername: sni } : {}), ca: [pryxCaPem()] }, onResponse) : http.get(opts, onResponse);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
  });
}

for (const originScheme of ["http", "https"] as const) {
  test(`reverse:${originScheme} accepts TLS and plain HTTP clients on its listener`, { timeout: 10_000 }, async (t) => {
    const handler = (req: { url?: string }, res: http.ServerResponse): void => void res.end(`${originScheme} origin ${req.url}`);
    const origin = originScheme === "https" ? await startTlsOrigin((req, res) => handler({ url: req.path }, res)) : await startHttpOrigin(handler);
    const proxy = await startProxy({ options: { mode: `reverse:${originScheme}://127.0.0.1:${origin.port}`, ssl_insecure: "true" } });
    closeAfter(t, proxy, origin);

    const secure = await get(proxy.port, "/tls", true, "app.test");
    assert.equal(secure.status, 200);
    assert.equal(secure.body, `${originScheme} origin /tls`);
    assert.match(secure.peer?.subjectaltname ?? "", /DNS:app\.test/, "a certificate for the client's SNI");
    // An IP carries no SNI: the certificate is for the reverse target's host.
    const noSni = await get(proxy.port, "/ip", true);
    assert.equal(noSni.body, `${originScheme} origin /ip`);
    assert.match(noSni.peer?.subjectaltname ?? "", /IP Address:127\.0\.0\.1/);
    const plain = await get(proxy.port, "/plain", false);
    assert.equal(plain.status, 200);
    assert.equal(plain.body, `${originScheme} origin /plain`);

    const flows = [...(await proxy.waitFinished(3))].sort((a, b) => a.seq - b.seq);
    // The scheme is the one pryx speaks to the server, whatever the client spoke to pryx.
    assert.deepEqual(
      flows.map((f) => [f.scheme, f.path, f.status]),
      [
        [originScheme, "/tls", 200],
        [originScheme, "/ip", 200],
        [originScheme, "/plain", 200],
      ],
    );
    const clientTls = flows.map((f) => (proxy.engine.store.get(f.id) as HTTPFlow).client_conn.tls);
    assert.deepEqual(clientTls, [true, true, false]);
  });
}

test("a reverse-mode client speaking HTTP/2 is served over h2, its requests sent to the target with the target's Host unless keep_host_header", { timeout: 10_000 }, async (t) => {
  const http2 = await import("node:http2");
  const seen: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(`${req.headers.host} ${req.url}`);
    res.end(`origin saw ${req.url}`);
  });
  const proxy = await startProxy({ options: { mode: `reverse:http://127.0.0.1:${origin.port}` } });
  closeAfter(t, proxy, origin);
  const tls = await import("node:tls");
  // The client asks for app.test (its :authority and SNI) and reaches pryx on loopback.
  const session = http2.connect(`https://app.test:${proxy.port}`, {
    createConnection: () => tls.connect({ host: "127.0.0.1", port: proxy.port, servername: "app.test", ca: [pryxCaPem()], ALPNProtocols: ["h2"] }),
  });
  t.after(() => session.close());
  const get = (path: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = session.request({ ":path": path });
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d: string) => (body += d));
      req.on("end", () => resolve(body));
      req.on("error", reject);
      req.end();
    });
  assert.equal(await get("/first"), "origin saw /first");
  assert.equal((session.socket as unknown as { alpnProtocol: string }).alpnProtocol, "h2");
  proxy.engine.options.setText("keep_host_header", "true");
  assert.equal(await get("/kept"), "origin saw /kept");
  assert.deepEqual(seen, [`127.0.0.1:${origin.port} /first`, `app.test:${proxy.port} /kept`]);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.httpVersion, "HTTP/2.0");
  assert.equal(flow?.url, `http://127.0.0.1:${origin.port}/first`);
});

test("reverse mode: a client that leaves before its first byte, or fails the TLS handshake, gets client_disconnected once", { timeout: 10_000 }, async (t) => {
  const net = await import("node:net");
  const { connect } = await import("node:tls");
  const seen: string[] = [];
  const origin = await startHttpOrigin((_req, res) => void res.end("ok"));
  const proxy = await startProxy({
    options: { mode: `reverse:http://127.0.0.1:${origin.port}` },
    addons: [{ name: "rec", client_connected: () => void seen.push("connected"), client_disconnected: () => void seen.push("disconnected") }],
  });
  closeAfter(t, proxy, origin);
  const silent = net.connect(proxy.port, "127.0.0.1");
  await new Promise<void>((r) => silent.once("connect", () => r()));
  silent.end();
  await waitUntil(() => seen.length === 2, "the silent client's two hooks");
  // No CA given: the client refuses pryx's certificate and closes during the handshake.
  await new Promise<void>((resolve) => {
    const s = connect({ host: "127.0.0.1", port: proxy.port, servername: "app.test" });
    s.on("error", () => resolve());
    s.on("close", () => resolve());
  });
  await waitUntil(() => seen.length === 4, "the refusing client's two hooks");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, ["connected", "disconnected", "connected", "disconnected"]);
});

test("keep_host_header: a reverse proxy rewrites Host to its target unless told to keep the client's", { timeout: 10_000 }, async (t) => {
  const hosts: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    hosts.push(req.headers.host ?? "");
    res.end("ok");
  });
  const proxy = await startProxy({ options: { mode: `reverse:http://127.0.0.1:${origin.port}` } });
  closeAfter(t, proxy, origin);
  await get(proxy.port, "/rewritten", false);
  proxy.engine.options.setText("keep_host_header", "true");
  await get(proxy.port, "/kept", false);
  assert.deepEqual(hosts, [`127.0.0.1:${origin.port}`, `127.0.0.1:${proxy.port}`]);
});

test("a reverse proxy sends every request to its target, whatever its request line names, and refuses CONNECT: it is no open proxy (as mitmproxy's)", { timeout: 10_000 }, async (t) => {
  const seen: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(`target ${req.url} host=${req.headers.host ?? "none"}`);
    res.end("target");
  });
  const elsewhere = await startHttpOrigin((_req, res) => {
    seen.push("elsewhere");
    res.end("elsewhere");
  });
  t.after(() => elsewhere.close());
  const proxy = await startProxy({ options: { mode: `reverse:http://127.0.0.1:${origin.port}` } });
  closeAfter(t, proxy, origin);
  const absolute = await rawExchange(proxy.port, `GET http://127.0.0.1:${elsewhere.port}/internal?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${elsewhere.port}\r\nConnection: close\r\n\r\n`);
  assert.match(absolute.toString(), /^HTTP\/1\.1 200[\s\S]*target$/);
  const connect = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${elsewhere.port} HTTP/1.1\r\nHost: 127.0.0.1:${elsewhere.port}\r\n\r\n`);
  assert.match(connect.toString(), new RegExp(`^HTTP/1\\.1 502 Bad Gateway[\\s\\S]*pryx: this is a reverse proxy to http://127\\.0\\.0\\.1:${origin.port}: it takes no CONNECT`));
  // HTTP/1.0 without a Host header: the target's is added, as mitmproxy does.
  const old = await rawExchange(proxy.port, "GET /old HTTP/1.0\r\n\r\n");
  assert.match(old.toString(), /^HTTP\/1\.[01] 200/);
  assert.deepEqual(seen, [`target /internal?x=1 host=127.0.0.1:${origin.port}`, `target /old host=127.0.0.1:${origin.port}`]);
  const flows = await proxy.waitFinished(3);
  assert.ok(flows.some((f) => f.method === "CONNECT" && f.status === 502), "the refused CONNECT is a flow");
});

test("reverse mode points the server's Alt-Svc alternatives at pryx's port, so clients do not go around it; keep_alt_svc_header keeps them; other modes leave them", { timeout: 10_000 }, async (t) => {
  const ALT_SVC = 'h3="example.com:443"; ma=3600, h2=":443"; ma=3600';
  const origin = await startHttpOrigin((_req, res) => {
    res.setHeader("alt-svc", ALT_SVC);
    res.end("ok");
  });
  const proxy = await startProxy({ options: { mode: `reverse:http://127.0.0.1:${origin.port}` } });
  const regular = await startProxy({});
  closeAfter(t, proxy, regular, origin);
  const rewritten = await get(proxy.port, "/", false);
  assert.equal(rewritten.headers["alt-svc"], `h3=":${proxy.port}"; ma=3600, h2=":${proxy.port}"; ma=3600`);
  proxy.engine.options.setText("keep_alt_svc_header", "true");
  assert.equal((await get(proxy.port, "/", false)).headers["alt-svc"], ALT_SVC);
  const through = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: regular.port, path: `http://127.0.0.1:${origin.port}/`, agent: false }, (res) => resolve(res.resume())).on("error", reject);
  });
  assert.equal(through.headers["alt-svc"], ALT_SVC, "a regular proxy's client reaches the server by name anyway");
});
