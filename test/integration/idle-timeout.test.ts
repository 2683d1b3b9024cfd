import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("tcp_timeout closes a keep-alive client connection left idle between requests, never one mid-request", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { tcp_timeout: "1" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  const get = (path: string) => `GET http://127.0.0.1:${origin.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`;

  // Requests every 600 ms keep the connection open past the timeout.
  const busy = await RawClient.connect(proxy.port);
  t.after(() => busy.close());
  for (let i = 0; i < 4; i++) {
    busy.send(get(`/busy/${i}`));
    assert.equal((await busy.response(2)).status, 200);
    await sleep(600);
  }
  assert.equal(busy.closed, false, "open after 2.4 s of requests 600 ms apart");
  // Then a second with none closes it, with a line in the event log.
  await busy.whenClosed(3000);
  await proxy.waitLog(/^127\.0\.0\.1:\d+: closing the connection, idle for 1 s \(tcp_timeout\)$/);

  // A request paused by the intercept filter for twice the timeout is answered, not cut.
  proxy.engine.options.setText("intercept", "~u /held");
  const held = await RawClient.connect(proxy.port);
  t.after(() => held.close());
  held.send(get("/held"));
  let flow: HTTPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as HTTPFlow | undefined) !== undefined, "the request paused");
  await sleep(2200);
  assert.equal(held.closed, false, "a paused request is not idleness");
  // Cleared first, or the response would be held in its turn.
  proxy.engine.options.setText("intercept", "");
  flow!.resume();
  assert.equal((await held.response(2)).status, 200);
});

test("with tcp_timeout 0 an idle connection stays open", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { tcp_timeout: "0" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  const c = await RawClient.connect(proxy.port);
  t.after(() => c.close());
  c.send(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  assert.equal((await c.response(2)).status, 200);
  await sleep(1500);
  assert.equal(c.closed, false);
});

test("a server that takes the request and sends nothing for tcp_timeout seconds is given up: the client gets a 504 saying so, and a response intercepted for longer is not cut", { timeout: 15_000 }, async (t) => {
  // Accepts, reads the request, never answers.
  const silent = net.createServer((s) => s.resume());
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const silentPort = (silent.address() as net.AddressInfo).port;
  const origin = await startHttpOrigin((_req, res) => res.end("late but fine"));
  const proxy = await startProxy({ options: { tcp_timeout: "1" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
    await new Promise<void>((r) => silent.close(() => r()));
  });
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET http://127.0.0.1:${silentPort}/never HTTP/1.1\r\nHost: 127.0.0.1:${silentPort}\r\n\r\n`);
  const res = await client.response(undefined, 4000);
  assert.equal(res.status, 504);
  assert.match(res.body.toString(), new RegExp(`server 127\\.0\\.0\\.1:${silentPort} sent nothing for 1 s after the request \\(tcp_timeout\\)`));

  // A response held by the intercept filter for twice the timeout goes on when resumed.
  proxy.engine.options.setText("intercept", "~s & ~u /held");
  const held = await RawClient.connect(proxy.port);
  t.after(() => held.close());
  held.send(`GET http://127.0.0.1:${origin.port}/held HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  let flow: HTTPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as HTTPFlow | undefined) !== undefined, "the response paused");
  await sleep(2200);
  proxy.engine.options.setText("intercept", "");
  flow!.resume();
  const answer = await held.response();
  assert.equal(answer.status, 200);
  assert.equal(answer.body.toString(), "late but fine");
});
