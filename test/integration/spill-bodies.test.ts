import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { FlowDetail } from "../../src/protocol.ts";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** This process's open files that were removed from the file system, with their sizes (Linux's /proc). */
function deletedOpenFiles(): { name: string; size: number }[] {
  const out: { name: string; size: number }[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      const name = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (name.endsWith(" (deleted)")) out.push({ name, size: fs.statSync(`/proc/self/fd/${fd}`).size });
    } catch {
      // closed between the listing and the look
    }
  }
  return out;
}

test("spill_bodies: a kept flow's large body goes to a removed temporary file and comes back intact; small ones stay in memory", { timeout: 10_000, skip: fs.existsSync("/proc/self/fd") ? false : "needs Linux's /proc" }, async (t) => {
  const big = randomBytes(300 * 1024);
  const origin = await startHttpOrigin((req, res) => res.end(req.url === "/big" ? big : "small"));
  const proxy = await startProxy({ keepFlows: true, options: { spill_bodies: "true" } });
  closeAfter(t, proxy, origin);
  const before = deletedOpenFiles().filter((f) => f.name.includes("pryx-bodies-"));
  for (const path of ["/big", "/small"]) {
    const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${path}`);
    assert.equal(res.body.length, path === "/big" ? big.length : 5);
  }
  const flows = await proxy.waitFinished(2);
  const spilled = deletedOpenFiles().filter((f) => f.name.includes("pryx-bodies-") && !before.some((b) => b.name === f.name));
  assert.equal(spilled.length, 1, "one spill file, open and already removed from the temp directory");
  assert.equal(spilled[0]!.size, big.length, "the large body and nothing else");
  const detail = async (path: string): Promise<FlowDetail> => {
    const f = flows.find((x) => x.path === path)!;
    return (await proxy.engine.handle({ op: "detail", id: f.id, bodyLimit: 1 << 20 })) as FlowDetail;
  };
  assert.equal(sha((await detail("/big")).response!.body), sha(big));
  assert.equal(Buffer.from((await detail("/small")).response!.body).toString(), "small");
  // Shown (so unpacked), then packed again at the next flush with news: the bytes already on disk
  // are pointed at, not written twice.
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/small`);
  await proxy.waitFinished(3);
  assert.equal(sha((await detail("/big")).response!.body), sha(big), "read back after packing again");
  assert.equal(deletedOpenFiles().find((f) => f.name === spilled[0]!.name)?.size, big.length);
});

test("a flow unpacked to be shown is packed again soon after in an idle session, without a batch for the console", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ keepFlows: true });
  closeAfter(t, proxy, origin);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/shown`);
  const [f] = await proxy.waitFinished(1);
  const shown = async (): Promise<void> => {
    await proxy.engine.handle({ op: "detail", id: f!.id, bodyLimit: 1024 });
    assert.equal(proxy.engine.store.unpackedCount(), 1);
    await waitUntil(() => proxy.engine.store.unpackedCount() === 0, "the shown flow packed again with no traffic");
  };
  // The client's connection closing is a log line, and a batch: past before the count starts.
  await proxy.waitLog(/client disconnect/);
  await shown();
  const batches = proxy.events.filter((e) => e.t === "batch").length;
  await shown();
  assert.equal(proxy.events.filter((e) => e.t === "batch").length, batches, "nothing changed that the console would be told of");
});
