import { test } from "node:test";
import { decodeSummaries } from "../../src/summary-codec.ts";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import type { EngineEvent } from "../../src/protocol.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

/** The ids the UI holds after every batch so far: what it was told of, less what it was told to drop. */
function uiFlows(events: EngineEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.t !== "batch") continue;
    for (const f of [...decodeSummaries(e.add), ...decodeSummaries(e.update)]) ids.add(f.id);
    for (const id of e.remove) ids.delete(id);
  }
  return [...ids];
}

test("max_flows keeps the newest flows and tells the console which went; marked flows stay; lowering it drops at once", { timeout: 20_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`for ${req.url}`));
  t.after(() => origin.close());
  const proxy = await startProxy({ options: { max_flows: "2" } });
  t.after(() => proxy.stop());
  const url = (n: number): string => `http://127.0.0.1:${origin.port}/${n}`;

  const first = await viaProxy(proxy.port, url(1));
  assert.equal(first.body.toString(), "for /1");
  const [one] = await proxy.waitFinished(1);
  await proxy.engine.handle({ op: "command", line: `flow.mark ${one!.id} true` });
  for (const n of [2, 3, 4]) {
    const r = await viaProxy(proxy.port, url(n));
    assert.equal(r.status, 200, "every request is still served");
  }
  proxy.engine.flush();
  const kept = proxy.engine.store.all();
  assert.deepEqual(kept.map((f) => (f as HTTPFlow).request.path), ["/1", "/4"], "the marked flow and the newest one");
  // Flows dropped before a flush reported them never reach the UI; the others go as removals.
  assert.deepEqual(uiFlows(proxy.events).sort(), kept.map((f) => f.id).sort(), "the UI holds just the kept flows");

  // Lowering the limit at run time drops the excess with the next flush; 0 means no limit.
  await proxy.engine.handle({ op: "setOption", name: "max_flows", value: "1" });
  proxy.engine.flush();
  assert.deepEqual(proxy.engine.store.all().map((f) => f.id), [one!.id], "only the marked flow: a mark pins a flow");
  assert.deepEqual(uiFlows(proxy.events), [one!.id]);
  await proxy.engine.handle({ op: "setOption", name: "max_flows", value: "0" });
  await viaProxy(proxy.port, url(5));
  proxy.engine.flush();
  assert.equal(proxy.engine.store.size, 2);
});

test("a negative max_flows is refused with the option's name", { timeout: 10_000 }, async () => {
  await assert.rejects(startProxy({ options: { max_flows: "-1" } }), /option max_flows: must be 0 \(no limit\) or more \(given "-1"\)/);
});
