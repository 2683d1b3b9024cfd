import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { startHttpOrigin } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `text` one byte every `everyMs` (never ending it unless it runs out); stops when the connection closes. */
function trickle(c: RawClient, text: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (c.closed || i >= text.length) return clearInterval(timer);
    c.send(text[i++] as string);
  }, everyMs);
  return () => clearInterval(timer);
}

/** An origin answering "ok" and a proxy with http_head_timeout set, both closed after the test. */
async function setup(t: TestContext, headTimeout: string): Promise<{ proxy: TestProxy; host: string }> {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { http_head_timeout: headTimeout } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  return { proxy, host: `127.0.0.1:${origin.port}` };
}

test("a request head trickled in slower than http_head_timeout is answered 408 and closed, its flow fails with the reason, and other clients are served meanwhile", { timeout: 15_000 }, async (t) => {
  const { proxy, host } = await setup(t, "1");
  const target = `http://${host}`;

  // The request line whole, then the headers a byte every 150 ms: each byte would restart tcp_timeout.
  const slow = await RawClient.connect(proxy.port);
  t.after(() => slow.close());
  const started = Date.now();
  slow.send(`GET ${target}/slow HTTP/1.1\r\n`);
  const stop = trickle(slow, `Host: ${host}\r\nX-Slow: ${"x".repeat(200)}\r\n\r\n`, 150);
  t.after(stop);

  // Another client is served while that one trickles.
  await sleep(300);
  const other = await RawClient.connect(proxy.port);
  t.after(() => other.close());
  other.send(`GET ${target}/other HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const fine = await other.response(undefined, 2000);
  assert.equal(fine.status, 200);
  assert.equal(fine.body.toString(), "ok");

  const res = await slow.response(undefined, 4000);
  const waited = Date.now() - started;
  assert.match(res.head, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(res.head, /\r\nConnection: close\r\n/);
  assert.equal(res.body.toString(), "pryx: request head not complete within 1 s (http_head_timeout)\n");
  assert.ok(waited >= 900 && waited < 3000, `answered after ${waited} ms`);
  await slow.whenClosed(2000);
  await proxy.waitLog(/^127\.0\.0\.1:\d+: request head not complete within 1 s \(http_head_timeout\): answered 408 Request Timeout, closing the connection$/);

  const flows = await proxy.waitFinished(2);
  const failed = flows.find((f) => f.url.endsWith("/slow"));
  assert.ok(failed, "the cut-off request is a flow");
  assert.equal(failed.method, "GET");
  assert.equal(failed.url, `${target}/slow`);
  assert.equal(failed.error, "request head not complete within 1 s (http_head_timeout)");
  assert.equal(failed.status, undefined);
  assert.equal(flows.find((f) => f.url.endsWith("/other"))?.status, 200);

  // The other client's connection is still open and usable.
  other.send(`GET ${target}/again HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  assert.equal((await other.response(undefined, 2000)).status, 200);
});

test("the deadline counts from a head's first byte: a keep-alive connection's later head, a request line never finished (408, no flow), a slow head within the limit (served)", { timeout: 15_000 }, async (t) => {
  const { proxy, host } = await setup(t, "1");

  // A head sent in pieces over 600 ms is within the limit; the connection then waits 1.2 s idle
  // (not a head), and its next request line trickles without ever ending.
  const c = await RawClient.connect(proxy.port);
  t.after(() => c.close());
  c.send(`GET http://${host}/first HTTP/1.1\r\n`);
  await sleep(300);
  c.send(`Host: ${host}\r\n`);
  await sleep(300);
  c.send("\r\n");
  assert.equal((await c.response(undefined, 2000)).status, 200);
  await sleep(1200);
  assert.equal(c.closed, false, "idle between requests is tcp_timeout's, not the head deadline's");
  const started = Date.now();
  const stop = trickle(c, `GET http://${host}/${"never-ending".repeat(20)}`, 100);
  t.after(stop);
  const res = await c.response(undefined, 4000);
  assert.equal(res.status, 408);
  assert.ok(Date.now() - started < 3000);
  await c.whenClosed(2000);

  // Only the first request is a flow: the unfinished line named no request.
  await proxy.waitLog(/request head not complete within 1 s/);
  await sleep(200);
  proxy.engine.flush();
  assert.deepEqual(proxy.finished().map((f) => [f.url, f.status]), [[`http://${host}/first`, 200]]);
});

test("with http_head_timeout 0 a trickled head is not cut off", { timeout: 10_000 }, async (t) => {
  const { proxy, host } = await setup(t, "0");
  const c = await RawClient.connect(proxy.port);
  t.after(() => c.close());
  c.send(`GET http://${host}/ HTTP/1.1\r\n`);
  // 13 bytes 120 ms apart: the head takes past 1.5 s.
  const stop = trickle(c, "X-Slow: yes\r\n", 120);
  t.after(stop);
  await sleep(1800);
  assert.equal(c.closed, false);
  assert.equal(c.pending.length, 0);
  c.send(`Host: ${host}\r\n\r\n`);
  assert.equal((await c.response(undefined, 2000)).status, 200);
});
