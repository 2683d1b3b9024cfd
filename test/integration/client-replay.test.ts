import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import { HTTPFlow, Request } from "../../src/engine/flow/http.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import fs from "node:fs";
import path from "node:path";

test("replay.client queues requests and sends them one at a time; replay.client.count sees the queue and .stop empties it", { timeout: 20_000 }, async (t) => {
  let open = 0;
  let most = 0;
  const paths: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    open++;
    most = Math.max(most, open);
    paths.push(req.url ?? "");
    // Held long enough to see the queue.
    setTimeout(() => {
      open--;
      res.end("ok");
    }, 150);
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const run = (line: string) => proxy.engine.handle({ op: "command", line });
  for (const n of [1, 2, 3, 4]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${n}`);
  const flows = await proxy.waitFinished(4);
  paths.length = 0;
  most = 0;

  assert.equal(await run(`replay.client ${flows.map((f) => f.id).join(",")}`), "replaying 4 flows");
  await waitUntil(() => paths.length === 1, "the first replay reaches the server");
  assert.equal(await run("replay.client.count"), "4", "one in flight, three waiting");
  await waitUntil(() => paths.length === 2, "the second replay");
  assert.equal(await run("replay.client.stop"), "client replay stopped: 2 requests dropped");
  for (let i = 0; (await run("replay.client.count")) !== "0"; i++) {
    assert.ok(i < 100, "the request in flight finishes");
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(paths, ["/1", "/2"], "in order, and nothing after the stop");
  assert.equal(most, 1, "never two replays at once");
});

test("replay.client gives the ids its replays come under, in order, to the console's start request and to an addon's commands.call", { timeout: 20_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(req.url));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  for (const n of [1, 2]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${n}`);
  const recorded = await proxy.waitFinished(2);
  const pathOf = (id: string | undefined): string | undefined => proxy.finished().find((f) => f.id === id)?.url.replace(/^.*\//, "/");

  const started = await proxy.engine.handle({ op: "start", line: `replay.client ${recorded.map((f) => f.id).join(",")}` });
  assert.equal(started.said, "replaying 2 flows", "what the status line says, as the command line's answer");
  assert.equal(started.ids.length, 2);
  const { ctx } = await import("../../src/api.ts");
  const called: string[] = await ctx.master.commands.call("replay.client", recorded[1]!.id);
  assert.equal(called.length, 1);
  await proxy.waitFinished(5);
  assert.deepEqual([...started.ids, ...called].map(pathOf), ["/1", "/2", "/2"], "each id is its replay's, in the order given");
  assert.ok([...started.ids, ...called].every((id) => proxy.finished().find((f) => f.id === id)?.replay === "request"));
});

test("client_replay_concurrency: -1 sends every queued request at once, 2 two at a time; 0 is refused", { timeout: 20_000 }, async (t) => {
  let open = 0;
  let most = 0;
  let served = 0;
  const origin = await startHttpOrigin((_req, res) => {
    open++;
    most = Math.max(most, open);
    setTimeout(() => {
      open--;
      served++;
      res.end("ok");
    }, 150);
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const run = (line: string) => proxy.engine.handle({ op: "command", line });
  for (const n of [1, 2, 3, 4, 5]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${n}`);
  const ids = (await proxy.waitFinished(5)).map((f) => f.id).join(",");

  for (const [limit, expected] of [["-1", 5], ["2", 2]] as const) {
    proxy.engine.options.setText("client_replay_concurrency", limit);
    most = 0;
    served = 0;
    await run(`replay.client ${ids}`);
    await waitUntil(() => served === 5, `five replays with client_replay_concurrency=${limit}`);
    assert.equal(most, expected, `at most ${expected} at once`);
    for (let i = 0; (await run("replay.client.count")) !== "0"; i++) {
      assert.ok(i < 100, "the queue empties");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  assert.throws(() => proxy.engine.options.setText("client_replay_concurrency", "0"), /positive number of requests, or -1/);
});

for (const keepFlows of [true, false]) {
  test(`an addon duplicates a flow, changes it and replays it with ctx.master.commands.call, as mitmproxy's duplicate-modify-replay example (${keepFlows ? "console" : "dump"})`, { timeout: 15_000 }, async (t) => {
    const { ctx } = await import("../../src/api.ts");
    const paths: string[] = [];
    const origin = await startHttpOrigin((req, res) => {
      paths.push(req.url ?? "");
      res.end("ok");
    });
    const results: unknown[] = [];
    const addon: Addon = {
      name: "dup",
      async request(flow: HTTPFlow) {
        if (flow.is_replay === "request") return;
        const copy = flow.copy();
        copy.request.path = "/changed";
        // The example adds the copy to the view first, then replays it.
        results.push(await ctx.master.commands.call("view.flows.add", [copy]));
        results.push(await ctx.master.commands.call("replay.client", [copy]));
      },
    };
    const proxy = await startProxy({ addons: [addon], keepFlows });
    closeAfter(t, proxy, origin);
    await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/original`);
    await waitUntil(() => paths.length === 2, "the original and its changed copy reach the server");
    assert.deepEqual(paths.sort(), ["/changed", "/original"]);
    // replay.client gives the new flow's id (mitmproxy's gives None): the replay that went out is that flow.
    const [added, replayIds] = results as [string, string[]];
    assert.equal(added, "added 1 flow");
    assert.equal(replayIds.length, 1);
    const replay = (await proxy.waitFinished(2)).find((f) => f.id === replayIds[0]);
    assert.ok(replay, "a flow with the id replay.client gave");
    assert.equal(replay.replay, "request");
    assert.match(replay.url, /\/changed$/);
  });
}

test("a command an addon calls without await that fails is an error in the event log naming the command, not pryx's unhandled rejection", { timeout: 15_000 }, async (t) => {
  const { ctx } = await import("../../src/api.ts");
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const caught: string[] = [];
  const addon: Addon = {
    name: "careless",
    async request() {
      void ctx.master.commands.call("view.flows.nosuch", []);
      // Awaited and caught: the script handles it, and nothing is logged for it.
      try {
        await ctx.master.commands.call("view.flows.caught");
      } catch (err) {
        caught.push((err as Error).message);
      }
    },
  };
  const rejections: unknown[] = [];
  const onRejection = (err: unknown): void => void rejections.push(err);
  process.on("unhandledRejection", onRejection);
  t.after(() => process.off("unhandledRejection", onRejection));
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`)).status, 200);
  const entry = await proxy.waitLog(/view\.flows\.nosuch/);
  assert.equal(entry.level, "error");
  assert.match(entry.msg, /ctx\.master\.commands\.call\("view\.flows\.nosuch"\) failed: unknown command/);
  assert.deepEqual(rejections, []);
  assert.equal(caught.length, 1);
  await new Promise((r) => setTimeout(r, 100));
  proxy.engine.flush();
  assert.ok(!proxy.logs.some((l) => l.msg.includes("view.flows.caught")), "an awaited failure is the script's to handle");
});

test("with marked flows only shown (the console's M), @shown and @hidden are what the list shows: Z removes the unmarked, w saves the marked", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const run = (line: string) => proxy.engine.handle({ op: "command", line });
  /** The ids `view.flows.resolve` names, one a line. */
  const ids = async (spec: string): Promise<string[]> => ((await run(`view.flows.resolve ${spec}`)) ?? "").split("\n").filter(Boolean).map((l) => l.split(" ")[0]!);
  for (const n of [1, 2, 3]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${n}`);
  const flows = await proxy.waitFinished(3);
  await run(`flow.mark ${flows[1]!.id}`);
  assert.deepEqual(await ids("@shown"), flows.map((f) => f.id), "M off: every flow is shown");
  await run("view.properties.marked.set true");
  assert.deepEqual(await ids("@shown"), [flows[1]!.id]);
  assert.equal(await run("view.flows.remove @hidden"), "removed 2 flows");
  await run("view.properties.marked.set false");
  assert.deepEqual(await ids("@all"), [flows[1]!.id]);
  await assert.rejects(run("view.properties.marked.set maybe"), /takes true or false/);
});

test("flow.mark sets mitmproxy's markers: an emoji name or a letter is kept and ~marker finds it, false unmarks, anything else is refused (it unmarked)", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ keepFlows: true });
  closeAfter(t, proxy, origin);
  const run = (line: string) => proxy.engine.handle({ op: "command", line });
  const ids = async (spec: string): Promise<string[]> => ((await run(`view.flows.resolve ${spec}`)) ?? "").split("\n").filter(Boolean).map((l) => l.split(" ")[0]!);
  for (const n of [1, 2]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${n}`);
  const [a, b] = await proxy.waitFinished(2);
  await run(`flow.mark ${a!.id} :grapes:`);
  await run(`flow.mark ${b!.id} true`);
  assert.equal(proxy.engine.store.get(a!.id)?.marked, ":grapes:");
  assert.deepEqual(await ids('"~marker grapes"'), [a!.id]);
  assert.deepEqual(await ids('"~marker default"'), [b!.id]);
  assert.deepEqual((await ids("~marked")).sort(), [a!.id, b!.id].sort());
  for (const bad of ["yes", ":no_such_emoji:", "é"]) {
    await assert.rejects(run(`flow.mark ${a!.id} ${bad}`), { message: `flow.mark: ${JSON.stringify(bad)} is not a marker: give true, false, a letter or digit, or an emoji name such as :grapes:` });
  }
  assert.equal(proxy.engine.store.get(a!.id)?.marked, ":grapes:", "a refused marker leaves the mark as it was");
  // mitmproxy's single-character markers.
  await run(`flow.mark ${b!.id} X`);
  assert.deepEqual(await ids('"~marker ^X$"'), [b!.id]);
  await run(`flow.mark ${b!.id} true`);
  await run(`flow.mark ${a!.id} false`);
  assert.deepEqual(await ids("~marked"), [b!.id]);
});

/** An origin that counts the requests it serves, and a proxy, both closed after the test. */
async function countingOriginAndProxy(t: TestContext) {
  let count = 0;
  const origin = await startHttpOrigin((_req, res) => {
    count++;
    res.end("ok");
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  return { origin, proxy, served: () => count };
}

test("client_replay set while the proxy runs (the console's :set) replays the file at once", { timeout: 15_000 }, async (t) => {
  const { origin, proxy, served } = await countingOriginAndProxy(t);
  const dir = tempDir("pryx-replay-later-");
  const file = path.join(dir, "one.pryx");
  const flow = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", origin.port]), Request.make("GET", `http://127.0.0.1:${origin.port}/again`));
  flow.live = false;
  fs.writeFileSync(file, `${encodeFlow(flow)}\n`);
  proxy.engine.options.setText("client_replay", file);
  await waitUntil(() => served() === 1, "the file's request replayed");
});

test("client replay of a file with WebSocket flows says it leaves them out, as mitmdump does, and replays the rest; replay.client.file gives an addon the replays' ids", { timeout: 15_000 }, async (t) => {
  const { origin, proxy, served } = await countingOriginAndProxy(t);
  const { WebSocketData } = await import("../../src/engine/flow/websocket.ts");
  const make = (p: string, ws: boolean): HTTPFlow => {
    const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", origin.port]), Request.make("GET", `http://127.0.0.1:${origin.port}${p}`));
    if (ws) f.websocket = new WebSocketData();
    f.live = false;
    return f;
  };
  const file = path.join(tempDir("pryx-replay-ws-"), "mixed.pryx");
  fs.writeFileSync(file, [make("/plain", false), make("/socket", true), make("/socket2", true)].map((f) => `${encodeFlow(f)}\n`).join(""));
  proxy.engine.options.setText("client_replay", file);
  await proxy.waitLog(/client replay: 2 WebSocket flows not replayed: only HTTP requests are/);
  await waitUntil(() => served() === 1, "the plain request replayed");
  assert.equal(await proxy.engine.handle({ op: "command", line: `replay.client.file ${file}` }), "replaying 1 flow; 2 WebSocket flows not replayed: only HTTP requests are");
  // As replay.client's, the value to an addon is the ids of the replays it queued (mitmproxy's gives None).
  const { ctx } = await import("../../src/api.ts");
  const ids: string[] = await ctx.master.commands.call("replay.client.file", file);
  assert.equal(ids.length, 1);
  const replay = (await proxy.waitFinished(3)).find((f) => f.id === ids[0]);
  assert.ok(replay, "a flow with the id replay.client.file gave");
  assert.equal(replay.replay, "request");
  assert.match(replay.url, /\/plain$/);
});
