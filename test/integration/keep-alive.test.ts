import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
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

test("pipelined requests are answered in order over one upstream connection", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(req.url));
  const proxy = await startProxy();
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  const req = (p: string): string => `GET http://127.0.0.1:${origin.port}${p} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`;
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
