import { test, type TestContext } from "node:test";
import { decodeSummaries } from "../../src/summary-codec.ts";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import type { FlowSummary } from "../../src/protocol.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function echoOrigin() {
  const seen: Seen[] = [];
  const origin = await startHttpOrigin((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.setHeader("content-type", "text/plain");
      res.end(`origin saw ${req.method} ${req.url}`);
    });
  });
  return { origin, seen };
}

/** Polls the engine's store until `n` flows are intercepted. */
async function waitIntercepted(proxy: TestProxy, n: number, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = proxy.engine.store.all().filter((f) => f.intercepted).map((f) => f.id);
    if (ids.length >= n) return ids;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} intercepted flows (have ${ids.length})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const run = (proxy: TestProxy, line: string) => proxy.engine.handle({ op: "command", line });

/**
 * An echo origin and a proxy intercepting `intercept` (both closed when the test ends), and one
 * request to the origin's `path` sent through it and paused: its flow id and the answer to come.
 */
async function pausedRequest(t: TestContext, intercept: string, path: string, init?: Parameters<typeof viaProxy>[2]) {
  const { origin, seen } = await echoOrigin();
  const proxy = await startProxy({ options: { intercept } });
  closeAfter(t, proxy, origin);
  const pending = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${path}`, init);
  const [id] = await waitIntercepted(proxy, 1);
  return { origin, seen, proxy, pending, id: id as string };
}

test("an intercepted request is edited (method, path, header, body) and resumed: the origin sees exactly the edits", { timeout: 15_000 }, async (t) => {
  const { origin, seen, proxy, pending, id } = await pausedRequest(t, "~u /login & ~m POST", "/login?a=1", {
    method: "POST",
    body: "user=alice",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-keep": "1" },
  });
  assert.equal(seen.length, 0, "the paused request must not reach the origin");
  proxy.engine.flush();
  const flowsBefore = proxy.events.flatMap((e) => (e.t === "batch" ? [...decodeSummaries(e.add), ...decodeSummaries(e.update)] : [])).filter((f: FlowSummary) => f.id === id);
  assert.ok(flowsBefore.some((f) => f.intercepted && f.interceptedAt === "request"), "the UI is told the flow is intercepted at the request");
  await proxy.engine.handle({
    op: "edit",
    id,
    patch: {
      method: "PUT",
      path: "/login/edited?b=2",
      requestHeaders: [["Host", `127.0.0.1:${origin.port}`], ["Content-Type", "text/plain"], ["X-Edited", "yes"], ["Content-Length", "10"]],
      requestBody: Buffer.from("user=mallory"),
    },
  });
  await run(proxy, `flow.resume ${id}`);
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(seen.length, 1);
  const s = seen[0] as Seen;
  assert.equal(s.method, "PUT");
  assert.equal(s.url, "/login/edited?b=2");
  assert.equal(s.headers["x-edited"], "yes");
  assert.equal(s.headers["x-keep"], undefined, "the header grid replaced the headers");
  assert.equal(s.body, "user=mallory");
  assert.equal(s.headers["content-length"], "12", "Content-Length follows the edited body");
});

test("an intercepted response is edited (status, body) and the client sees the edits", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedRequest(t, "~s & ~u /resp", "/resp");
  await proxy.engine.handle({ op: "edit", id, patch: { statusCode: 418, responseBody: Buffer.from("edited body") } });
  await run(proxy, "flow.resume @all");
  const res = await pending;
  assert.equal(res.status, 418);
  assert.equal(res.body.toString(), "edited body");
  assert.equal(res.headers["content-length"], "11");
});

test("killing a paused flow closes the client's connection and records an error flow", { timeout: 15_000 }, async (t) => {
  const { seen, proxy, pending, id } = await pausedRequest(t, "~q", "/doomed");
  const outcome = pending.then(
    () => "answered",
    (err: Error) => `failed: ${err.message}`,
  );
  await run(proxy, `flow.kill ${id}`);
  assert.match(await outcome, /^failed: /);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.error, "Connection killed.");
  assert.equal(seen.length, 0);
});

test("d (view.flows.remove) on a live flow kills it, as mitmproxy's: the waiting client's connection closes", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => void setTimeout(() => res.end("too late"), 3000));
  const proxy = await startProxy({ keepFlows: true });
  closeAfter(t, proxy, origin);
  const outcome = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/slow`).then(
    () => "answered",
    (err: Error) => `failed: ${err.message}`,
  );
  let id: string | undefined;
  while (!(id = proxy.engine.store.all().find((f) => f.live)?.id)) await new Promise((r) => setTimeout(r, 10));
  await run(proxy, `view.flows.remove ${id}`);
  assert.match(await outcome, /^failed: /);
  assert.equal(proxy.engine.store.size, 0);
});

test("ten paused flows from ten clients all complete after resume @all; other clients are served meanwhile", { timeout: 20_000 }, async (t) => {
  const { origin, seen } = await echoOrigin();
  const proxy = await startProxy({ options: { intercept: "~q & ~u /paused" } });
  closeAfter(t, proxy, origin);
  const paused = Array.from({ length: 10 }, (_, i) => viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/paused/${i}`));
  await waitIntercepted(proxy, 10);
  const other = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/free`);
  assert.equal(other.body.toString(), "origin saw GET /free", "a request that does not match goes through while ten are paused");
  assert.equal(seen.length, 1);
  const out = await run(proxy, "flow.resume @all");
  assert.equal(out, "resumed 10 flows");
  const results = await Promise.all(paused);
  assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
  assert.equal(seen.length, 11);
});

test("changing the intercept filter leaves paused flows paused until resumed", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedRequest(t, "~u /a", "/a");
  await run(proxy, "set intercept ''");
  assert.equal(proxy.engine.store.get(id)?.intercepted, true);
  await run(proxy, `flow.resume ${id}`);
  assert.equal((await pending).status, 200);
});

test("a bad edit is refused with a clear error and the flow is left as it was", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id } = await pausedRequest(t, "~q", "/x");
  await assert.rejects(proxy.engine.handle({ op: "edit", id, patch: { requestHeaders: [["X-Evil", "a\r\nInjected: 1"]] } }), /CR, LF and NUL are not allowed/);
  await assert.rejects(proxy.engine.handle({ op: "edit", id, patch: { method: "GE T" } }), /invalid HTTP method/);
  await assert.rejects(proxy.engine.handle({ op: "edit", id, patch: { statusCode: 42 } }), /invalid status code 42/);
  const flow = proxy.engine.store.get(id);
  assert.equal(flow?.modified(), false);
  await run(proxy, `flow.resume ${id}`);
  assert.equal((await pending).status, 200);
});

test("replay sends the request again as a new flow marked is_replay; revert restores an edited flow", { timeout: 15_000 }, async (t) => {
  const { origin, seen } = await echoOrigin();
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/again`, { method: "POST", body: "payload" });
  const [first] = await proxy.waitFinished(1);
  await run(proxy, `replay.client ${first?.id}`);
  const flows = await proxy.waitFinished(2);
  const replay = flows.find((f) => f.id !== first?.id);
  assert.equal(replay?.replay, "request");
  assert.equal(replay?.status, 200);
  assert.deepEqual(seen.map((s) => `${s.method} ${s.url} ${s.body}`), ["POST /again payload", "POST /again payload"]);

  await proxy.engine.handle({ op: "edit", id: first?.id as string, patch: { path: "/changed" } });
  const stored = proxy.engine.store.get(first?.id as string);
  assert.equal(stored?.modified(), true);
  assert.equal(await run(proxy, `flow.revert ${first?.id}`), "reverted 1 flow");
  assert.equal((stored as unknown as { request: { path: string } }).request.path, "/again");
});

test("on shutdown with intercept_on_exit=resume paused flows are resumed and complete without pausing again", { timeout: 15_000 }, async (t) => {
  const { origin } = await echoOrigin();
  t.after(() => origin.close());
  const proxy = await startProxy({ options: { intercept: "~u /bye", intercept_on_exit: "resume" } });
  const pending = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/bye`);
  await waitIntercepted(proxy, 1);
  await proxy.stop();
  // Had the response paused again, shutdown would have closed the connection at its deadline instead.
  assert.equal((await pending).status, 200);
});

test("on shutdown paused flows are killed, as mitmproxy does (intercept_on_exit's default): a request paused to keep it from its server never reaches it", { timeout: 15_000 }, async (t) => {
  const { origin, seen } = await echoOrigin();
  t.after(() => origin.close());
  const proxy = await startProxy({ options: { intercept: "~q" } });
  const pending = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/doomed`).then(
    () => "answered",
    () => "failed",
  );
  await waitIntercepted(proxy, 1);
  await proxy.stop();
  assert.equal(await pending, "failed");
  assert.equal(seen.length, 0);
});

/** Polls until the flow is paused again (at its response, after a resume at its request). */
async function waitPausedAgain(proxy: TestProxy, id: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(proxy.engine.store.get(id) as { intercepted?: boolean; response?: unknown } | undefined)?.response || !proxy.engine.store.get(id)?.intercepted) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the response to be intercepted");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("an edit at the request, then revert while the response is paused: the client gets the server's response, not a 502", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id, seen } = await pausedRequest(t, "~u /rv", "/rv");
  await proxy.engine.handle({ op: "edit", id, patch: { method: "PUT" } });
  await run(proxy, `flow.resume ${id}`);
  await waitPausedAgain(proxy, id);
  assert.equal(await run(proxy, `flow.revert ${id}`), "reverted 1 flow");
  const flow = proxy.engine.store.get(id) as unknown as { request: { method: string }; response?: { status_code: number } };
  assert.equal(flow.request.method, "GET", "the request is back to what the client sent");
  assert.equal(flow.response?.status_code, 200, "the response the server sent is part of what was recorded");
  await run(proxy, `flow.resume ${id}`);
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "origin saw PUT /rv", "the client gets the server's answer (to the request as it was sent)");
  assert.equal(seen.length, 1);
});

test("a response made by an edit at the request, reverted while paused: the request goes to the server after all", { timeout: 15_000 }, async (t) => {
  const { proxy, pending, id, seen } = await pausedRequest(t, "~u /made", "/made");
  await proxy.engine.handle({ op: "edit", id, patch: { responseBody: Buffer.from("made up") } });
  await run(proxy, `flow.resume ${id}`);
  await waitPausedAgain(proxy, id);
  assert.equal(await run(proxy, `flow.revert ${id}`), "reverted 1 flow");
  await run(proxy, `flow.resume ${id}`);
  // The server's answer is intercepted in its turn (the filter still matches).
  await waitPausedAgain(proxy, id);
  await run(proxy, `flow.resume ${id}`);
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "origin saw GET /made");
  assert.equal(seen.length, 1);
});

test("X on a flow waiting for its server (not paused) closes the client's connection at once, as the flow says", { timeout: 15_000 }, async (t) => {
  let held: http.ServerResponse | undefined;
  const origin = await startHttpOrigin((_req, res) => {
    held = res;
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  t.after(() => held?.end());
  const started = Date.now();
  const outcome = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/slow`).then(
    (r) => `answered ${r.status}`,
    () => "failed",
  );
  const deadline = Date.now() + 5000;
  while (!held) {
    if (Date.now() > deadline) throw new Error("the request never reached the origin");
    await new Promise((r) => setTimeout(r, 10));
  }
  const id = proxy.engine.store.all()[0]!.id;
  assert.equal(await run(proxy, `flow.kill ${id}`), "killed 1 flow");
  // Had the kill only been recorded, the client would wait for the server (here: forever).
  const raced = await Promise.race([outcome, new Promise((r) => setTimeout(() => r("still waiting"), 2000))]);
  assert.equal(raced, "failed");
  assert.ok(Date.now() - started < 2500);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.error, "Connection killed.");
});

test("X on a flow in its response hook (not paused): the client does not get the response", { timeout: 15_000 }, async (t) => {
  const { origin } = await echoOrigin();
  let release!: () => void;
  const inHook = new Promise<void>((r) => {
    release = r;
  });
  let entered!: () => void;
  const hookEntered = new Promise<void>((r) => {
    entered = r;
  });
  const proxy = await startProxy({
    addons: [
      {
        async response() {
          entered();
          await inHook;
        },
      },
    ],
  });
  closeAfter(t, proxy, origin);
  const outcome = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/x`).then(
    (r) => `answered ${r.status}`,
    () => "failed",
  );
  await hookEntered;
  const id = proxy.engine.store.all()[0]!.id;
  await run(proxy, `flow.kill ${id}`);
  release();
  assert.equal(await outcome, "failed");
});

test("editing a flow still in progress and not paused is refused, since the server's response would replace the edit silently; once finished it is edited", { timeout: 15_000 }, async (t) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const origin = await startHttpOrigin(async (_req, res) => {
    await held;
    res.end("from the origin");
  });
  const proxy = await startProxy({ keepFlows: true });
  closeAfter(t, proxy, origin);
  const answer = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/slow`);
  let id = "";
  await waitUntil(() => (id = proxy.engine.store.all().find((f) => f.live)?.id ?? "") !== "", "the flow in progress");
  await assert.rejects(proxy.engine.handle({ op: "edit", id, patch: { responseBody: Buffer.from("edited in flight") } }), /still in progress: .*pause it with the intercept filter \(i\)/);
  // A comment is the user's own, and never replaced: it may be set at any time.
  await proxy.engine.handle({ op: "edit", id, patch: { comment: "watching" } });
  release();
  assert.equal((await answer).body.toString(), "from the origin");
  await proxy.waitFinished(1);
  await proxy.engine.handle({ op: "edit", id, patch: { responseBody: Buffer.from("edited after") } });
  assert.equal(Buffer.from((proxy.engine.store.get(id) as import("../../src/engine/flow/http.ts").HTTPFlow).response!.content!).toString(), "edited after");
});

test("in pryx dump (no console) the first flow the intercept filter holds says why its client waits and what resumes it, once; the console says nothing", { timeout: 15_000 }, async (t) => {
  const { origin } = await echoOrigin();
  const dump = await startProxy({ keepFlows: false, options: { intercept: "~u /held" } });
  closeAfter(t, dump, origin);
  const answers = [1, 2].map(() => viaProxy(dump.port, `http://127.0.0.1:${origin.port}/held`).catch(() => undefined));
  await dump.waitLog(/intercept filter "~u \/held" is holding a flow: pryx dump has no keys to resume it/);
  await run(dump, "flow.resume @all");
  await Promise.all(answers);
  assert.equal(dump.logs.filter((l) => l.level === "warn" && /is holding a flow/.test(l.msg)).length, 1);
  const { proxy, pending, id } = await pausedRequest(t, "~q", "/held");
  await run(proxy, `flow.resume ${id}`);
  await pending;
  assert.deepEqual(proxy.logs.filter((l) => /is holding a flow/.test(l.msg)), []);
});

test("a client that goes away while its request is paused: the request goes to no server, and no server connection is opened for it", { timeout: 15_000 }, async (t) => {
  const { origin, seen } = await echoOrigin();
  const proxy = await startProxy({ options: { intercept: "~q" } });
  closeAfter(t, proxy, origin);
  const socket = net.connect(proxy.port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  socket.write(`GET http://127.0.0.1:${origin.port}/abandoned HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  await waitIntercepted(proxy, 1);
  socket.destroy();
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /client (closed the connection|disconnected)/);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(seen, []);
  assert.deepEqual(proxy.logs.filter((l) => /server connect/.test(l.msg)).map((l) => l.msg), []);
});
