import { test } from "node:test";
import assert from "node:assert/strict";
import block from "../../addons/block.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("block answers requests for blocked.test with 403 from request, without contacting it", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const proxy = await startProxy({ addons: [block] });
  closeAfter(t, proxy, origin);
  // The host is the Host header's (pretty_host); the connection would go to the origin.
  const blocked = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/ad.js`, { headers: { host: "blocked.test" } });
  assert.equal(blocked.status, 403);
  assert.equal(blocked.headers["content-type"], "text/plain");
  assert.match(blocked.body.toString(), /Blocked by pryx: blocked\.test/);
  assert.equal(origin.connections, 0);
  const passed = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(passed.body.toString(), "origin");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.status), [403, 200]);
});

test("the block_host option chooses the host, at start and at run time", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const proxy = await startProxy({ addons: [block], options: { block_host: "ads.test" } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  assert.equal((await viaProxy(proxy.port, url, { headers: { host: "ads.test" } })).status, 403);
  assert.equal((await viaProxy(proxy.port, url, { headers: { host: "blocked.test" } })).status, 200);
  await proxy.engine.handle({ op: "setOption", name: "block_host", value: "127.0.0.1" });
  assert.equal((await viaProxy(proxy.port, url)).status, 403);
  assert.equal((await viaProxy(proxy.port, url, { headers: { host: "ads.test" } })).status, 200);
});
