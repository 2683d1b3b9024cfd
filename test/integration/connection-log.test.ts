import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import { decodeSummaries } from "../../src/summary-codec.ts";

test("connections coming and going are info lines, as mitmproxy's: client connect, server connect and disconnect with the address reached, client disconnect", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { connection_reuse: "client" } });
  closeAfter(t, proxy, origin);
  const r = await viaProxy(proxy.port, `http://localhost:${origin.port}/`, { headers: { connection: "close" } });
  assert.equal(r.status, 200);
  await proxy.waitLog(/server disconnect/);
  await proxy.waitLog(/client disconnect/);
  const info = proxy.logs.filter((l) => l.level === "info" && /: (client|server) /.test(l.msg)).map((l) => l.msg);
  const client = /^(127\.0\.0\.1:\d+): client connect$/.exec(info[0] ?? "")?.[1];
  assert.ok(client, `the first line is the client's connect: ${JSON.stringify(info)}`);
  assert.deepEqual(info.slice(1, 2), [`${client}: server connect localhost:${origin.port} (127.0.0.1:${origin.port})`]);
  assert.deepEqual(info.slice(2).sort(), [`${client}: client disconnect`, `${client}: server disconnect localhost:${origin.port} (127.0.0.1:${origin.port})`]);
});

test("in dump mode a log line comes in a later batch than the flows that finished before it (dump prints a batch's log first)", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ keepFlows: false, options: { flow_detail: "1" } });
  closeAfter(t, proxy, origin);
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`, { headers: { connection: "close" } })).status, 200);
  // Waited for without flushing: the engine's own batches, as dump gets them.
  await waitUntil(() => proxy.logs.some((l) => /client disconnect/.test(l.msg)), "the client's disconnect");
  const batches = proxy.events.filter((e) => e.t === "batch");
  const flowAt = batches.findIndex((b) => [...decodeSummaries(b.add), ...decodeSummaries(b.update)].some((f) => !f.live));
  const goneAt = batches.findIndex((b) => b.logs.some((l) => /client disconnect/.test(l.msg)));
  assert.ok(flowAt >= 0 && flowAt < goneAt, `the finished flow's batch (${flowAt}) comes before the disconnect's (${goneAt})`);
});

test("an IPv4 client of a dual-stack listener (listen_host ::) is its IPv4 address, not ::ffff:127.0.0.1, in the log and the flow", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { listen_host: "::" } });
  closeAfter(t, proxy, origin);
  const r = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`, { headers: { connection: "close" } });
  assert.equal(r.status, 200);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.client, `127.0.0.1:${/:(\d+)$/.exec(flow?.client ?? "")?.[1]}`, `client column: ${flow?.client}`);
  await proxy.waitLog(/client connect/);
  assert.ok(proxy.logs.some((l) => /^127\.0\.0\.1:\d+: client connect$/.test(l.msg)), JSON.stringify(proxy.logs.map((l) => l.msg)));
});
