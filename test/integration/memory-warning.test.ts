import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryWatch, type MemoryReading } from "../../src/engine/memory-watch.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";

const GiB = 1024 ** 3;
const reading = (heapShare: number, rssShare = 0.1): MemoryReading => ({ heapUsed: heapShare * 4 * GiB, heapLimit: 4 * GiB, rss: rssShare * 16 * GiB, available: 16 * GiB });

test("the memory watch warns once per level as use rises (heap or resident memory), again after it fell, and reads at most once per interval", () => {
  let now = reading(0.5);
  let reads = 0;
  const watch = new MemoryWatch(() => {
    reads++;
    return now;
  }, 1000);
  assert.equal(watch.check(0, 10), undefined);
  now = reading(0.72);
  assert.equal(watch.check(500, 10), undefined, "within the interval: not read");
  assert.equal(reads, 1);
  const first = watch.check(1000, 120_000);
  assert.match(first ?? "", /^memory: the engine's heap is at 72% of its limit \(2,949 MiB of 4,096 MiB\) with 120,000 flows kept; .*save them \(w/);
  assert.match(first ?? "", /--set max_flows=N/);
  now = reading(0.75);
  assert.equal(watch.check(2000, 130_000), undefined, "the same level is not told twice");
  // Bodies are outside the heap: the process's resident memory counts too.
  now = reading(0.4, 0.9);
  assert.match(watch.check(3000, 140_000) ?? "", /^memory: pryx holds 90% of the memory it may use \(14,746 MiB of 16,384 MiB\)/);
  now = reading(0.3);
  assert.equal(watch.check(4000, 0), undefined, "fell (the flows were cleared)");
  now = reading(0.71);
  assert.match(watch.check(5000, 50_000) ?? "", /heap is at 71%/, "and rose again: told again");
});

test("the console's engine puts the memory warning in the event log as flows come in, and keeps serving; dump mode keeps no flows and does not warn", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`for ${req.url}`));
  t.after(() => origin.close());
  let now = reading(0.5);
  const proxy = await startProxy({ memory: new MemoryWatch(() => now, 0) });
  t.after(() => proxy.stop());
  const url = (n: number): string => `http://127.0.0.1:${origin.port}/${n}`;
  assert.equal((await viaProxy(proxy.port, url(1))).status, 200);
  await proxy.waitFinished(1);
  assert.equal(proxy.logs.filter((l) => l.msg.startsWith("memory:")).length, 0);
  now = reading(0.86);
  assert.equal((await viaProxy(proxy.port, url(2))).status, 200);
  const warning = await proxy.waitLog(/^memory: /);
  assert.equal(warning.level, "warn");
  assert.match(warning.msg, /heap is at 86% of its limit .* with [12] flows kept/);
  assert.equal((await viaProxy(proxy.port, url(3))).status, 200, "the proxy keeps serving");
  await proxy.waitFinished(3);

  const dump = await startProxy({ keepFlows: false, memory: new MemoryWatch(() => reading(0.9), 0) });
  t.after(() => dump.stop());
  assert.equal((await viaProxy(dump.port, url(4))).status, 200);
  await dump.waitFinished(1);
  assert.equal(dump.logs.filter((l) => l.msg.startsWith("memory:")).length, 0);
});
