import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { readFileSync } from "node:fs";
import { decompress as zstdDecompress } from "fzstd";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

/** Made by the zstd tool (zstd -19), so decoding is checked against a real encoder. */
const ZSTD_BODY = readFileSync(new URL("../fixtures/body.json.zst", import.meta.url));
const ZSTD_PLAIN = readFileSync(new URL("../fixtures/body.json", import.meta.url), "utf8");
const TEXT = "a body the origin sends, long enough to be worth compressing: ".repeat(8);

/** An origin answering TEXT, gzipped when the path says so (or broken gzip), and a proxy pausing its responses. */
async function pausedResponse(t: TestContext, path: string) {
  const origin = await startHttpOrigin((req, res) => {
    req.resume();
    res.setHeader("content-type", "text/plain");
    if (req.url === "/gzip") {
      res.setHeader("content-encoding", "gzip");
      res.end(zlib.gzipSync(TEXT));
    } else if (req.url === "/zstd") {
      res.setHeader("content-encoding", "zstd");
      res.end(ZSTD_BODY);
    } else if (req.url === "/broken") {
      res.setHeader("content-encoding", "gzip");
      res.end("not gzip at all");
    } else res.end(TEXT);
  });
  const proxy = await startProxy({ options: { intercept: "~s" } });
  closeAfter(t, proxy, origin);
  const pending = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${path}`);
  const id = await waitIntercepted(proxy);
  return { proxy, pending, id };
}

async function waitIntercepted(proxy: TestProxy): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const f = proxy.engine.store.all().find((x) => x.intercepted);
    if (f) return f.id;
    if (Date.now() > deadline) throw new Error("timed out waiting for an intercepted flow");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const run = (proxy: TestProxy, line: string) => proxy.engine.handle({ op: "command", line });

test("flow.decode on a paused gzip response: the client gets the plain body, no Content-Encoding, the right length", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedResponse(t, "/gzip");
  assert.equal(await run(proxy, `flow.decode ${id} response`), "decoded 1 flow");
  await run(proxy, "flow.resume @all");
  const res = await pending;
  assert.equal(res.body.toString(), TEXT);
  assert.equal(res.headers["content-encoding"], undefined);
  assert.equal(res.headers["content-length"], String(Buffer.byteLength(TEXT)));
});

test("flow.encode.toggle on a request still waiting for its response says it has none, rather than counting 0 flows", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { intercept: "~q" } });
  closeAfter(t, proxy, origin);
  const pending = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  const id = await waitIntercepted(proxy);
  assert.equal(await run(proxy, `flow.encode.toggle ${id} response`), "flow.encode.toggle: no response to change (the flow has none)");
  assert.equal(proxy.engine.store.get(id)!.modified(), false);
  await run(proxy, "flow.resume @all");
  assert.equal((await pending).body.toString(), "ok");
});

test("flow.encode.toggle encodes a plain body with deflate (z in the flow view); V reverts it", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedResponse(t, "/plain");
  assert.equal(await run(proxy, `flow.encode.toggle ${id} response`), "toggled the encoding of 1 flow");
  const flow = proxy.engine.store.get(id)!;
  assert.ok(flow.modified());
  assert.equal(await run(proxy, `flow.revert ${id}`), "reverted 1 flow");
  // Toggled twice: deflate, then back to plain; then gzip by name, which the client receives.
  await run(proxy, `flow.encode.toggle ${id} response`);
  await run(proxy, `flow.encode.toggle ${id} response`);
  assert.equal(await run(proxy, `flow.encode ${id} response gzip`), "encoded 1 flow");
  await run(proxy, "flow.resume @all");
  const res = await pending;
  assert.equal(res.headers["content-encoding"], "gzip");
  assert.equal(res.headers["content-length"], String(res.body.length));
  assert.equal(zlib.gunzipSync(res.body).toString(), TEXT);
});

test("flow.encode with an unknown encoding, or flow.decode of a body that does not decode: a clear error, the flow untouched", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedResponse(t, "/broken");
  assert.equal(await run(proxy, "flow.encode.options"), "gzip,deflate,br,zstd");
  await assert.rejects(run(proxy, `flow.encode ${id} response compress`), /flow\.encode: unknown encoding "compress": one of gzip, deflate, br, zstd/);
  await assert.rejects(run(proxy, `flow.decode ${id} response`), /flow\.decode: the body does not decode as Content-Encoding "gzip"/);
  await assert.rejects(run(proxy, `flow.decode ${id} body`), /the part is request or response, not "body"/);
  assert.equal(proxy.engine.store.get(id)!.modified(), false);
  await run(proxy, "flow.resume @all");
  const res = await pending;
  assert.equal(res.headers["content-encoding"], "gzip");
  assert.equal(res.body.toString(), "not gzip at all");
});

test("a zstd response: an addon-side edit reads the decoded JSON, and the client gets valid zstd of the edit with the right length", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedResponse(t, "/zstd");
  const flow = proxy.engine.store.get(id) as import("../../src/engine/flow/http.ts").HTTPFlow;
  assert.equal(flow.response?.text, ZSTD_PLAIN);
  const edited = ZSTD_PLAIN.replace('"item 1"', '"edited"');
  flow.response!.text = edited;
  await run(proxy, "flow.resume @all");
  const res = await pending;
  assert.equal(res.headers["content-encoding"], "zstd");
  assert.equal(res.headers["content-length"], String(res.body.length));
  assert.equal(Buffer.from(zstdDecompress(res.body)).toString(), edited);
});

test("flow.decode on a zstd response made by the zstd tool: the client gets the plain JSON", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedResponse(t, "/zstd");
  assert.equal(await run(proxy, `flow.decode ${id} response`), "decoded 1 flow");
  await run(proxy, "flow.resume @all");
  const res = await pending;
  assert.equal(res.headers["content-encoding"], undefined);
  assert.equal(res.body.toString(), ZSTD_PLAIN);
});
