import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";

function counting(): Addon & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const inc = (k: string) => () => void (counts[k] = (counts[k] ?? 0) + 1);
  return {
    name: "counting",
    counts,
    client_connected: inc("client_connected"),
    server_connect: inc("server_connect"),
    server_disconnected: inc("server_disconnected"),
    response: inc("response"),
  };
}

test("several requests on one client connection reuse one upstream connection", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => res.end(`${req.method} ${req.url} ${body}`));
  });
  const c = counting();
  const proxy = await startProxy({ addons: [c] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  closeAfter(t, agent, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  const bodies: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await viaProxy(proxy.port, `${base}/r${i}`, i % 2 ? { agent, method: "POST", body: `b${i}` } : { agent });
    bodies.push(res.body.toString());
  }
  assert.deepEqual(bodies, ["GET /r0 ", "POST /r1 b1", "GET /r2 ", "POST /r3 b3", "GET /r4 "]);
  assert.equal(c.counts["client_connected"], 1, "the client kept one connection");
  assert.equal(origin.connections, 1);
  assert.equal(c.counts["server_connect"], 1);
  assert.equal((await proxy.waitFinished(5)).length, 5);
});

/** An origin answering with the path it was asked for, a proxy, a raw client of it, and a GET for a path as the client writes it. */
async function pipelining(t: TestContext) {
  const origin = await startHttpOrigin((req, res) => res.end(req.url));
  const proxy = await startProxy();
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  const req = (p: string): string => `GET http://127.0.0.1:${origin.port}${p} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`;
  return { origin, proxy, client, req };
}

test("pipelined requests are answered in order over one upstream connection", { timeout: 10_000 }, async (t) => {
  const { origin, client, req } = await pipelining(t);
  client.send(req("/one") + req("/two") + req("/three"));
  const got: string[] = [];
  for (let i = 0; i < 3; i++) got.push((await client.response()).body.toString());
  assert.deepEqual(got, ["/one", "/two", "/three"]);
  assert.equal(origin.connections, 1);
});

test("a client alternating between two origins keeps one connection to each", { timeout: 10_000 }, async (t) => {
  const a = await startHttpOrigin((_req, res) => res.end("a"));
  const b = await startHttpOrigin((_req, res) => res.end("b"));
  const c = counting();
  const proxy = await startProxy({ addons: [c] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  closeAfter(t, agent, proxy, a, b);
  const order = [a, b, a, b, a];
  const got: string[] = [];
  for (const o of order) got.push((await viaProxy(proxy.port, `http://127.0.0.1:${o.port}/`, { agent })).body.toString());
  assert.deepEqual(got, ["a", "b", "a", "b", "a"]);
  assert.equal(a.connections, 1);
  assert.equal(b.connections, 1);
  assert.equal(c.counts["server_connect"], 2);
});

test("an upstream that closed its idle keep-alive connection is reconnected transparently", { timeout: 10_000 }, async (t) => {
  const server = http.createServer((_req, res) => res.end("fresh"));
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as import("node:net").AddressInfo).port;
  const c = counting();
  const proxy = await startProxy({ addons: [c] });
  const client = await RawClient.connect(proxy.port);
  t.after(async () => {
    client.close();
    await proxy.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const req = `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
  client.send(req);
  assert.equal((await client.response()).body.toString(), "fresh");
  // The origin drops its idle connections, as servers do when their keep-alive timeout ends.
  server.closeIdleConnections();
  await waitUntil(() => (c.counts["server_disconnected"] ?? 0) >= 1, "the proxy to see the upstream close");
  client.send(req);
  const again = await client.response();
  assert.equal(again.status, 200);
  assert.equal(again.body.toString(), "fresh");
  assert.equal(connections, 2);
  assert.equal(c.counts["client_connected"], 1, "the client connection outlived the upstream one");
});

test("a server connection a client left idle serves the next client (connection_reuse=shared), not with =client", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  t.after(() => origin.close());
  for (const [mode, expected] of [["shared", 1], ["client", 2]] as const) {
    const before = origin.connections;
    const connects: string[] = [];
    const proxy = await startProxy({ options: { connection_reuse: mode }, addons: [{ name: "count", server_connect: () => void connects.push("c") }] });
    for (let i = 0; i < 2; i++) {
      // Each request on its own keep-alive client connection, which the client then closes.
      const client = await RawClient.connect(proxy.port);
      client.send(`GET http://127.0.0.1:${origin.port}/${mode}/${i} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
      const res = await client.response();
      assert.equal(res.status, 200);
      client.close();
      await proxy.waitFinished(i + 1);
      await waitUntil(() => proxy.engine.store.all().every((f) => !f.live) || undefined, "flows to finish");
      await new Promise((r) => setImmediate(r));
    }
    await proxy.stop();
    assert.equal(origin.connections - before, expected, `${mode}: server connections opened`);
    assert.equal(connects.length, expected, `${mode}: server_connect fired once per new server connection`);
  }
});

test("connection_reuse=shared never hands another client a server connection that carried credentials: NTLM logs in the connection, not the request", { timeout: 15_000 }, async (t) => {
  // The origin lets in every later request on a connection that once sent NTLM credentials, as IIS does.
  const loggedIn = new WeakSet<object>();
  const origin = await startHttpOrigin((req, res) => {
    if (req.headers["authorization"] === "NTLM secret") loggedIn.add(req.socket);
    res.end(loggedIn.has(req.socket) ? "alice" : "anonymous");
  });
  const proxy = await startProxy({ options: { connection_reuse: "shared" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  const answers: string[] = [];
  for (const auth of ["Authorization: NTLM secret\r\n", "", "", ""]) {
    const client = await RawClient.connect(proxy.port);
    client.send(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${auth}\r\n`);
    answers.push((await client.response()).body.toString());
    client.close();
    await waitUntil(() => proxy.engine.store.all().every((f) => !f.live) || undefined, "flows to finish");
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(answers, ["alice", "anonymous", "anonymous", "anonymous"]);
  // The connections without credentials are still shared: the three later clients used one.
  assert.equal(origin.connections, 2);
});

test("connect_addr: connections to servers leave from that local address (a 127.0.0.2 the origin sees); not an IP is an error", { timeout: 10_000 }, async (t) => {
  const seen: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(req.socket.remoteAddress ?? "");
    res.end("ok");
  });
  const proxy = await startProxy({ options: { connect_addr: "127.0.0.2" } });
  closeAfter(t, proxy, origin);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.deepEqual(seen, ["127.0.0.2"]);
  proxy.engine.options.setText("connect_addr", "");
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/again`);
  assert.equal(seen[1], "127.0.0.1", "unset: the system's choice, on a new connection");
  assert.throws(() => proxy.engine.options.setText("connect_addr", "eth0"), /"eth0" is not an IP address/);
});

/** An origin that logs each request's method and path as it starts, and whether its body ended. */
async function loggingOrigin(handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<{ port: number; starts: string[]; ended: string[]; close(): Promise<void> }> {
  const starts: string[] = [];
  const ended: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    starts.push(`${req.method} ${req.url}`);
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      ended.push(`${req.method} ${req.url} ${Buffer.concat(parts).length}`);
      handle(req, res, Buffer.concat(parts));
    });
  });
  return { port: origin.port, starts, ended, close: () => origin.close() };
}

test("a POST on a reused server connection is sent once: not again when its client gives up (RFC 9110 9.2.2), nor when the server drops the connection unanswered; a GET is retried on a fresh connection", { timeout: 15_000 }, async (t) => {
  let dropNext = false;
  const origin = await loggingOrigin((req, res, body) => {
    if (dropNext) {
      dropNext = false;
      req.socket.destroy();
      return;
    }
    if (req.url === "/slow") setTimeout(() => res.end("late"), 1000);
    else res.end(`ok ${body.length}`);
  });
  const proxy = await startProxy({});
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  // One client connection throughout: its server connection is reused for each request.
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  const send = (method: string, path: string, body = ""): void =>
    client.send(`${method} ${base}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  send("GET", "/warm");
  assert.equal((await client.response()).status, 200);

  // The server reads the POST and drops the connection: the client gets a 502, the server one POST.
  dropNext = true;
  send("POST", "/charge", "amount=100");
  const refused = await client.response();
  assert.equal(refused.status, 502);
  assert.match(refused.body.toString(), /server 127\.0\.0\.1:\d+/);
  assert.deepEqual(origin.starts.filter((s) => s.startsWith("POST")), ["POST /charge"]);

  // The same for a GET: it may be repeated, so it is, on a new connection.
  send("GET", "/warm-again");
  assert.equal((await client.response()).status, 200);
  dropNext = true;
  send("GET", "/idempotent");
  const retried = await client.response();
  assert.equal(retried.status, 200);
  assert.deepEqual(origin.starts.filter((s) => s === "GET /idempotent"), ["GET /idempotent", "GET /idempotent"]);

  // A client that gives up on a slow POST: its cancellation is no reason to send it again.
  const quitter = await RawClient.connect(proxy.port);
  quitter.send(`GET ${base}/warm-3 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  await quitter.response();
  quitter.send(`POST ${base}/slow HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: 7\r\n\r\norder=1`);
  await waitUntil(() => origin.starts.includes("POST /slow"), "the POST reached the server");
  quitter.close();
  await waitUntil(() => proxy.engine.store.all().some((f) => f.error?.msg === "client closed the connection") || undefined, "the flow to fail");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(origin.starts.filter((s) => s === "POST /slow"), ["POST /slow"]);
});

test("a client that goes mid-body: a chunked upload streamed to the server (stream_large_bodies) is cut off there too, never ended as whole; a buffered one never reaches a reused server connection", { timeout: 15_000 }, async (t) => {
  const origin = await loggingOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { stream_large_bodies: "10k" } });
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  const head = (path: string): string => `POST ${base}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const big = Buffer.alloc(100_000, 66);
  const client = await RawClient.connect(proxy.port);
  client.send(`GET ${base}/warm HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  await client.response();
  client.send(Buffer.concat([Buffer.from(head("/streamed") + big.length.toString(16) + "\r\n"), big, Buffer.from("\r\n")]));
  await waitUntil(() => origin.starts.includes("POST /streamed"), "the streamed upload reached the server");
  client.close();
  await waitUntil(() => proxy.engine.store.all().some((f) => (f as HTTPFlow).request.path === "/streamed" && !f.live) || undefined, "the flow to end");

  // Under the streaming threshold the body is buffered: cut off, it is sent nowhere.
  const second = await RawClient.connect(proxy.port);
  second.send(`GET ${base}/warm-2 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  await second.response();
  second.send(head("/buffered") + "10\r\nhello\r\n");
  await waitUntil(() => proxy.engine.store.all().some((f) => (f as HTTPFlow).request.path === "/buffered") || undefined, "the buffered upload's flow");
  second.close();
  await waitUntil(() => proxy.engine.store.all().some((f) => (f as HTTPFlow).request.path === "/buffered" && !f.live) || undefined, "its flow to end");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(origin.ended.filter((e) => e.startsWith("POST")), [], "no cut-off upload looked whole to the server");
  assert.deepEqual(origin.starts.filter((s) => s === "POST /buffered"), []);
});

test("pipelined requests before bytes that are no request are answered first, then the 400, as mitmproxy does", { timeout: 10_000 }, async (t) => {
  const { origin, proxy, client, req } = await pipelining(t);
  client.send(`${req("/one")}${req("/two")}NOT A REQUEST\r\n\r\n`);
  const got: string[] = [];
  for (let i = 0; i < 2; i++) got.push((await client.response()).body.toString());
  assert.deepEqual(got, ["/one", "/two"]);
  const refused = await client.response();
  assert.equal(refused.status, 400);
  assert.match(refused.body.toString(), /^pryx: /);
  await client.whenClosed();
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => [f.path, f.status]), [["/one", 200], ["/two", 200]]);
  // The proxy serves the next client.
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/after`)).body.toString(), "/after");
});

test("pipelined requests before one whose body is malformed are answered first; that one is a flow with the error, and the 400", { timeout: 10_000 }, async (t) => {
  const { origin, proxy, client, req } = await pipelining(t);
  client.send(`${req("/one")}POST http://127.0.0.1:${origin.port}/bad HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`);
  assert.equal((await client.response()).body.toString(), "/one");
  const refused = await client.response();
  assert.equal(refused.status, 400);
  assert.equal(refused.body.toString(), "pryx: malformed request body: Invalid character in chunk size\n");
  await client.whenClosed();
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => [f.path, f.status, f.error]), [["/one", 200, undefined], ["/bad", undefined, "malformed request body: Invalid character in chunk size"]]);
});
