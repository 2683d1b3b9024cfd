import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import http from "node:http";
import http2 from "node:http2";
import tls from "node:tls";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { portOf, startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { httpsViaProxy, pryxCaPem, startTlsOrigin } from "../helpers/tls-origin.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

test("--proxyauth answers 407 without credentials and serves with them", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { proxyauth: "alice:s3cret" } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  const denied = await viaProxy(proxy.port, url);
  assert.equal(denied.status, 407);
  assert.equal(denied.headers["proxy-authenticate"], 'Basic realm="pryx"');
  const wrong = await viaProxy(proxy.port, url, { headers: { "Proxy-Authorization": `Basic ${Buffer.from("alice:nope").toString("base64")}` } });
  assert.equal(wrong.status, 407);
  const ok = await viaProxy(proxy.port, url, { headers: { "Proxy-Authorization": `Basic ${Buffer.from("alice:s3cret").toString("base64")}` } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.toString(), "ok");
  assert.equal(origin.connections, 1);
});

test("a proxyauth value without a colon is refused naming the option", { timeout: 10_000 }, async () => {
  await assert.rejects(startProxy({ options: { proxyauth: "nocolon" } }), /option proxyauth: expected user:pass, any, or @path to an htpasswd file \(given "nocolon"\)/);
});

test("upstream_auth: an upstream:URL mode authenticates to a proxy that asks for credentials, plain HTTP and CONNECT", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const tlsOrigin = await startTlsOrigin((_req, res) => res.end("tls ok"));
  const upstream = await startProxy({ options: { proxyauth: "bob:pw", ssl_insecure: "true" } });
  const mode = `upstream:http://127.0.0.1:${upstream.port}`;
  const without = await startProxy({ options: { mode, ssl_insecure: "true" } });
  const proxy = await startProxy({ options: { mode, upstream_auth: "bob:pw", ssl_insecure: "true" } });
  closeAfter(t, proxy, without, upstream, origin, tlsOrigin);
  const url = `http://127.0.0.1:${origin.port}/`;
  assert.equal((await viaProxy(without.port, url)).status, 407, "without upstream_auth the upstream proxy refuses");
  const ok = await viaProxy(proxy.port, url);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.toString(), "ok");
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test" });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "tls ok");
  // Without upstream_auth, the client's own credentials go on to the upstream proxy (pryx has no proxyauth to take them), as mitmproxy passes them.
  const credentials = `Basic ${Buffer.from("bob:pw").toString("base64")}`;
  const passed = await viaProxy(without.port, url, { headers: { "Proxy-Authorization": credentials } });
  assert.equal(passed.status, 200);
  const tunnelled = await httpsViaProxy(without.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test", connectHeaders: { "Proxy-Authorization": credentials }, headers: { connection: "keep-alive" } });
  assert.equal(tunnelled.status, 200);
  // That tunnel, left idle in the shared pool when its client goes, was opened with bob's
  // credentials: another client with none, or with wrong ones, must not get through the upstream
  // proxy on it. Tried a few times, as the first client's going is the proxy's to notice.
  for (let i = 0; i < 5; i++) {
    const anonymous = await httpsViaProxy(without.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test" });
    assert.equal(anonymous.status, 502, "no credentials: the upstream proxy refuses the CONNECT");
    const wrong = await httpsViaProxy(without.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test", connectHeaders: { "Proxy-Authorization": `Basic ${Buffer.from("eve:guess").toString("base64")}` } });
    assert.equal(wrong.status, 502, "wrong credentials: refused too");
    await new Promise((r) => setTimeout(r, 30));
  }
  const again = await httpsViaProxy(without.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test", connectHeaders: { "Proxy-Authorization": credentials } });
  assert.equal(again.status, 200);
});

test("upstream:HOST:PORT without a scheme chains to an HTTP proxy, as mitmproxy reads it", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const tlsOrigin = await startTlsOrigin((_req, res) => res.end("tls ok"));
  const upstream = await startProxy({ options: { ssl_insecure: "true" } });
  const proxy = await startProxy({ options: { mode: `upstream:127.0.0.1:${upstream.port}`, ssl_insecure: "true" } });
  closeAfter(t, proxy, upstream, origin, tlsOrigin);
  const ok = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/plain`);
  assert.equal(ok.body.toString(), "ok");
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test" });
  assert.equal(res.body.toString(), "tls ok");
  // Both went through the upstream proxy: it recorded the request and the tunnelled one.
  await waitUntil(() => upstream.engine.store.all().length >= 2, "the upstream proxy's flows");
  assert.deepEqual(upstream.engine.store.all().map((f) => (f as HTTPFlow).request.path).sort(), ["/", "/plain"]);
  assert.throws(() => proxy.engine.options.setText("mode", "upstream:http://"), /mode upstream:http:\/\/: .* is not \[SCHEME:\/\/\]HOST\[:PORT\]|no host/);
});

test("upstream:https:// speaks TLS to the upstream proxy, plain HTTP and CONNECT inside it, as mitmproxy does; its certificate is verified unless -k", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const tlsOrigin = await startTlsOrigin((_req, res) => res.end("tls ok"));
  const upstream = await startProxy({ options: { ssl_insecure: "true" } });
  // The upstream proxy behind a TLS terminator, as an HTTPS proxy is.
  const { originCertificate } = await import("../helpers/tls-origin.ts");
  const cert = originCertificate();
  const terminator = tls.createServer({ key: cert.keyPem, cert: cert.certPem }, (s) => {
    const inner = net.connect(upstream.port, "127.0.0.1");
    s.pipe(inner).pipe(s);
    s.on("error", () => inner.destroy());
    inner.on("error", () => s.destroy());
  });
  await new Promise<void>((r) => terminator.listen(0, "127.0.0.1", r));
  const mode = `upstream:https://127.0.0.1:${portOf(terminator)}`;
  const proxy = await startProxy({ options: { mode, ssl_insecure: "true" } });
  const strict = await startProxy({ options: { mode } });
  closeAfter(t, proxy, strict, upstream, origin, tlsOrigin, { close: () => new Promise<void>((r) => terminator.close(() => r())) });
  const ok = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(ok.status, 200, ok.body.toString());
  assert.equal(ok.body.toString(), "ok");
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${tlsOrigin.port}`, servername: "app.test" });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "tls ok");
  await upstream.waitFinished(2);
  const refused = await viaProxy(strict.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(refused.status, 502);
  assert.match(refused.body.toString(), new RegExp(`upstream proxy 127\\.0\\.0\\.1:${portOf(terminator)}: .*certificate`, "i"));
});

test("an upstream proxy that drops a plain request is named in the error, not only the server it never reached", { timeout: 10_000 }, async (t) => {
  const dropper = net.createServer((s) => s.once("data", () => s.destroy()));
  await new Promise<void>((r) => dropper.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ options: { mode: `upstream:http://127.0.0.1:${portOf(dropper)}` } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => dropper.close(() => r())) });
  const r = await viaProxy(proxy.port, "http://origin.test:8000/");
  assert.equal(r.status, 502);
  assert.match(r.body.toString(), new RegExp(`server origin\\.test:8000 \\(through upstream proxy 127\\.0\\.0\\.1:${portOf(dropper)}\\)`));
});

test("http_connect_send_host_header: the CONNECT pryx sends an upstream proxy carries Host unless turned off", { timeout: 15_000 }, async (t) => {
  const heads: string[] = [];
  // An upstream proxy that records each CONNECT and refuses it.
  const upstream = net.createServer((sock) => {
    let got = "";
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (!got.includes("\r\n\r\n")) return;
      heads.push(got);
      sock.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
    });
    sock.on("error", () => undefined);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ options: { mode: `upstream:http://127.0.0.1:${portOf(upstream)}` } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => upstream.close(() => r())) });
  const target = { target: "app.test:443", servername: "app.test" };
  await httpsViaProxy(proxy.port, target).catch(() => undefined);
  proxy.engine.options.setText("http_connect_send_host_header", "false");
  await httpsViaProxy(proxy.port, target).catch(() => undefined);
  assert.equal(heads.length, 2, heads.join("\n---\n"));
  assert.match(heads[0] ?? "", /^CONNECT app\.test:443 HTTP\/1\.1\r\nHost: app\.test:443\r\n/);
  assert.doesNotMatch(heads[1] ?? "", /\r\nHost:/i);
});

const basic = (user: string, pass: string) => ({ headers: { "Proxy-Authorization": `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` } });

test("proxyauth any accepts whatever credentials come, still asks for some, and records them on the flow", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { proxyauth: "any" } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  assert.equal((await viaProxy(proxy.port, url)).status, 407);
  assert.equal((await viaProxy(proxy.port, url, basic("anyone", "anything"))).status, 200);
  // The flow records who came in, as mitmproxy's metadata.proxyauth does: what "any" is for.
  const flow = (await proxy.waitFinished(2)).find((f) => f.status === 200);
  assert.deepEqual(proxy.engine.store.get(flow!.id)?.metadata, { proxyauth: ["anyone", "anything"] });
});

test("accepted proxy credentials are not kept in the flow (nor saved, exported or replayed): not a plain request's, not a CONNECT's", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(String(req.headers["proxy-authorization"] ?? "none")));
  const tlsOrigin = await startTlsOrigin((_req, res) => res.end("tls ok"));
  const connects: string[][] = [];
  const proxy = await startProxy({ options: { proxyauth: "alice:pw", ssl_insecure: "true" }, addons: [{ name: "connect-seen", http_connect: (f: HTTPFlow) => void connects.push(f.request.headers.keys()) }] });
  closeAfter(t, proxy, origin, tlsOrigin);
  const ok = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`, basic("alice", "pw"));
  assert.equal(ok.body.toString(), "none", "the server never sees them");
  const [flow] = await proxy.waitFinished(1);
  assert.deepEqual((proxy.engine.store.get(flow!.id) as HTTPFlow | undefined)?.request.headers.getAll("proxy-authorization"), []);
  assert.deepEqual(proxy.engine.store.get(flow!.id)?.metadata, { proxyauth: ["alice", "pw"] });

  const socket = net.connect(proxy.port, "127.0.0.1");
  t.after(() => socket.destroy());
  const answer = await new Promise<string>((resolve, reject) => {
    socket.once("data", (d: Buffer) => resolve(d.toString("latin1")));
    socket.once("error", reject);
    socket.write(`CONNECT 127.0.0.1:${tlsOrigin.port} HTTP/1.1\r\nHost: 127.0.0.1:${tlsOrigin.port}\r\nProxy-Authorization: Basic ${Buffer.from("alice:pw").toString("base64")}\r\n\r\n`);
  });
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.equal(connects.length, 1);
  assert.ok(connects[0]!.includes("Host") && !connects[0]!.some((name) => /proxy-authorization/i.test(name)), connects[0]!.join(", "));
});

test("proxyauth @htpasswd checks htpasswd's MD5 (-m), SHA1 (-s), plain (-p) and bcrypt (-B) entries, and crypt's MD5 ($1$) and SHA ($5$, $6$); DES and a missing file are refused naming the file", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-htpasswd-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "users");
  // The MD5 lines were made by `openssl passwd -apr1 -salt abcdefgh password` and `openssl passwd -1 -salt abcdefgh password`, the SHA1 one from `sha1("secret")`,
  // the SHA-crypt ones by `openssl passwd -5 -salt saltstring pw` and `-6`; the bcrypt one is OpenBSD's test vector for "U*U", in htpasswd -B's $2y$ form.
  fs.writeFileSync(
    file,
    "# users\nmd5user:$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1\nshauser:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\nplain:letmein\ncryptuser:$1$abcdefgh$G//4keteveJp0qb8z2DxG/\n" +
      "sha256user:$5$saltstring$gpdvZHQ.qundoWJjAZwNzbBrhvpB73knRq.7HdH6Y9.\nsha512user:$6$saltstring$.vnWcCATS7HX9wLGcWGmRWMy3QtkFQmcbgZ0JzwapmXyqGJ2Gt5UXnLK..eJGzeBsKnKBZB8CvweVE1t5sq6n.\n" +
      "bcryptuser:$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n",
  );
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { proxyauth: `@${file}` } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  const status = async (user: string, pass: string) => (await viaProxy(proxy.port, url, basic(user, pass))).status;
  assert.deepEqual(
    [await status("md5user", "password"), await status("shauser", "secret"), await status("plain", "letmein"), await status("cryptuser", "password"), await status("sha256user", "pw"), await status("sha512user", "pw"), await status("bcryptuser", "U*U")],
    [200, 200, 200, 200, 200, 200, 200],
  );
  assert.deepEqual(
    [await status("md5user", "Password"), await status("shauser", "nope"), await status("nobody", "letmein"), await status("cryptuser", "passwort"), await status("sha256user", "pW"), await status("sha512user", "p"), await status("bcryptuser", "U*V")],
    [407, 407, 407, 407, 407, 407, 407],
  );

  const des = path.join(dir, "des");
  fs.writeFileSync(des, "alice:abJnggxhB/yWI\n");
  await assert.rejects(startProxy({ options: { proxyauth: `@${des}` } }), /des:1: crypt\(3\)'s DES hashes \(htpasswd -d\) are not supported/);
  await assert.rejects(startProxy({ options: { proxyauth: `@${path.join(dir, "missing")}` } }), /cannot read the htpasswd file .*missing/);
});

/** A reverse proxy in front of an origin that records each request's Authorization; `get` asks the proxy directly. */
async function reverseToAuthRecorder(t: TestContext, options: Record<string, string>) {
  const seen: (string | undefined)[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(req.headers.authorization);
    res.end("origin");
  });
  const proxy = await startProxy({ options: { mode: `reverse:http://127.0.0.1:${origin.port}`, ...options } });
  closeAfter(t, proxy, origin);
  const get = (headers: Record<string, string> = {}) =>
    new Promise<{ status: number; ask: string | undefined }>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port: proxy.port, path: "/", headers, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ask: res.headers["www-authenticate"] as string | undefined }));
      }).on("error", reject);
    });
  return { seen, proxy, get };
}

test("in reverse mode upstream_auth is the target's Basic Authorization, set in requestheaders as mitmproxy does, so the flow shows it", { timeout: 10_000 }, async (t) => {
  const { seen, proxy, get } = await reverseToAuthRecorder(t, { upstream_auth: "svc:s3cret" });
  assert.equal((await get()).status, 200);
  const basic = `Basic ${Buffer.from("svc:s3cret").toString("base64")}`;
  assert.deepEqual(seen, [basic]);
  const [f] = await proxy.waitFinished(1);
  assert.equal((proxy.engine.store.get(f!.id) as HTTPFlow).request.headers.get("authorization"), basic);
});

test("in reverse mode proxyauth asks with 401 and WWW-Authenticate, checks Authorization, and keeps it from the server, over HTTP/1 and HTTP/2", { timeout: 10_000 }, async (t) => {
  const { seen, proxy, get } = await reverseToAuthRecorder(t, { proxyauth: "alice:pw" });
  assert.deepEqual(await get(), { status: 401, ask: 'Basic realm="pryx"' });
  assert.equal((await get({ authorization: `Basic ${Buffer.from("alice:wrong").toString("base64")}` })).status, 401);
  assert.equal((await get({ authorization: `Basic ${Buffer.from("alice:pw").toString("base64")}` })).status, 200);
  assert.deepEqual(seen, [undefined], "the server saw one request, without pryx's credentials");

  const session = http2.connect(`https://app.test:${proxy.port}`, {
    createConnection: () => tls.connect({ host: "127.0.0.1", port: proxy.port, servername: "app.test", ca: [pryxCaPem()], ALPNProtocols: ["h2"] }),
  });
  t.after(() => session.close());
  const h2get = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = session.request({ ":path": "/", ...headers });
      req.on("response", (h) => resolve(Number(h[":status"])));
      req.on("error", reject);
      req.resume();
      req.end();
    });
  assert.equal(await h2get({}), 401);
  assert.equal(await h2get({ authorization: `Basic ${Buffer.from("alice:pw").toString("base64")}` }), 200);
  assert.deepEqual(seen, [undefined, undefined]);
});

test("a request or CONNECT refused for its proxy credentials is a flow with the 407 (dump prints it, -w saves it), as in mitmproxy: a request's goes through requestheaders (the 407 already set, as mitmproxy's proxyauth sets it there) and response", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const responses: string[] = [];
  const seen = (hook: string) => (f: HTTPFlow) => void responses.push(`${hook} ${f.request.method} ${f.response?.status_code} ${f.live ? "live" : "done"}`);
  const proxy = await startProxy({ options: { proxyauth: "alice:s3cret" }, addons: [{ name: "seen", requestheaders: seen("requestheaders"), response: seen("response"), http_connect_error: seen("http_connect_error") }] });
  closeAfter(t, proxy, origin);
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/refused`)).status, 407);
  const refusedTunnel = await new Promise<string>((resolve, reject) => {
    const s = net.connect(proxy.port, "127.0.0.1", () => s.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`));
    s.once("data", (d) => {
      resolve(d.toString().split("\r\n")[0] ?? "");
      s.destroy();
    });
    s.on("error", reject);
  });
  assert.equal(refusedTunnel, "HTTP/1.1 407 Proxy Authentication Required");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => [f.method, f.status, f.url]), [
    ["GET", 407, `http://127.0.0.1:${origin.port}/refused`],
    ["CONNECT", 407, `127.0.0.1:${origin.port}`],
  ]);
  assert.deepEqual(responses, ["requestheaders GET 407 live", "response GET 407 live", "http_connect_error CONNECT 407 live"]);
  assert.equal(origin.connections, 0, "nothing reached the server");
});

test("a request refused for its proxy credentials is answered once its hooks have run, as any flow's answer: an addon still in `response` holds the 407; one that kills it closes the connection unanswered", { timeout: 10_000 }, async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let inResponse = false;
  const hooks = {
    name: "slow",
    requestheaders: (f: HTTPFlow) => void (f.request.path === "/kill" ? f.kill() : undefined),
    response: async () => {
      inResponse = true;
      await gate;
    },
  };
  const proxy = await startProxy({ options: { proxyauth: "alice:s3cret" }, addons: [hooks] });
  closeAfter(t, proxy);
  const held = await RawClient.connect(proxy.port);
  t.after(() => held.close());
  held.send("GET http://127.0.0.1:9/held HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n");
  await waitUntil(() => inResponse, "the response hook");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(held.pending.length, 0, "nothing is sent while the response hook runs");
  release();
  assert.equal((await held.response()).status, 407);
  const killed = await RawClient.connect(proxy.port);
  t.after(() => killed.close());
  killed.send("GET http://127.0.0.1:9/kill HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n");
  await killed.whenClosed();
  assert.equal(killed.pending.length, 0, "a killed flow's client gets no answer");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => [f.path, f.status, f.error]), [
    ["/held", 407, undefined],
    ["/kill", 407, "Connection killed."],
  ]);
});

test("proxyauth with a transparent mode is refused, naming the mode, as mitmproxy refuses it: that listener would let everyone in", { timeout: 10_000 }, async () => {
  await assert.rejects(startProxy({ options: { mode: "transparent", proxyauth: "alice:s3cret" } }), /proxyauth cannot be asked of a transparent mode's clients \(transparent\)/);
  const proxy = await startProxy({ options: { proxyauth: "alice:s3cret" } });
  try {
    // Set later, beside a regular listener: refused too, and the modes stay as they were.
    assert.throws(() => proxy.engine.options.setValues({ mode: ["regular", "transparent@0"] }), /\(transparent@0\)/);
    assert.deepEqual(proxy.engine.options.get("mode"), ["regular"]);
  } finally {
    await proxy.stop();
  }
});
