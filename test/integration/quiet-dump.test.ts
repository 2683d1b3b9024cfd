import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { deadPort } from "../helpers/wait.ts";

test("a quiet dump (flow_detail 0, -q) sends its main thread no flows, only the log; flows are still served and dropped", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("served"));
  // keepFlows off: dump mode, as `pryx dump` runs the engine.
  const quiet = await startProxy({ options: { flow_detail: "0" }, keepFlows: false });
  const loud = await startProxy({ keepFlows: false });
  closeAfter(t, quiet, loud, origin);
  for (const p of [quiet, loud]) {
    const res = await viaProxy(p.port, `http://127.0.0.1:${origin.port}/x`);
    assert.equal(res.body.toString(), "served");
  }
  const dead = await deadPort();
  assert.equal((await viaProxy(quiet.port, `http://127.0.0.1:${dead}/`)).status, 502);
  await quiet.waitLog(/127\.0\.0\.1/);
  await loud.waitFinished(1);
  const flowsSent = (p: typeof quiet): number => p.events.reduce((n, e) => n + (e.t === "batch" ? e.add.count + e.update.count : 0), 0);
  assert.equal(flowsSent(quiet), 0, "no summaries crossed to a quiet dump");
  assert.ok(flowsSent(loud) >= 1, "a dump that prints gets its flows");
  assert.equal(quiet.engine.store.size, 0, "finished flows are dropped all the same");
});
