import { test } from "node:test";
import assert from "node:assert/strict";
import nonblocking from "../../addons/nonblocking.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("nonblocking holds each request for its delay, and two requests wait side by side, not one after the other", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`ok ${req.url}`));
  const proxy = await startProxy({ addons: [nonblocking], options: { nonblocking_delay_ms: "600" } });
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  const started = Date.now();
  const bodies = await Promise.all(["/a", "/b"].map(async (p) => (await viaProxy(proxy.port, `${base}${p}`)).body.toString()));
  const took = Date.now() - started;
  assert.deepEqual(bodies, ["ok /a", "ok /b"]);
  assert.ok(took >= 600, `each request waited its delay (${took} ms)`);
  assert.ok(took < 1100, `the two delays overlapped (${took} ms, one after the other would be 1200)`);
  await proxy.waitFinished(2);
  const lines = proxy.logs.map((l) => l.msg).filter((m) => /request: /.test(m));
  assert.deepEqual(lines.slice(0, 2).map((m) => m.slice(0, 15)).sort(), ["handle request:", "handle request:"], lines.join("\n"));
  assert.deepEqual(lines.slice(2).map((m) => m.slice(0, 15)), ["start  request:", "start  request:"], lines.join("\n"));
  assert.deepEqual(lines.map((m) => m.replace(/^.*: /, "")).sort(), ["127.0.0.1/a", "127.0.0.1/a", "127.0.0.1/b", "127.0.0.1/b"]);
});
