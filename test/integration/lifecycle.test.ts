import { test } from "node:test";
import net from "node:net";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { Loader } from "../../src/engine/hooks/loader.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";

test("load, configure, running and done follow Engine start and stop, in that order", { timeout: 10_000 }, async () => {
  const seen: string[] = [];
  let configuredWith: Set<string> | undefined;
  const addon: Addon = {
    name: "life",
    load: () => void seen.push("load"),
    configure: (updated) => {
      seen.push("configure");
      configuredWith ??= updated;
    },
    running: () => void seen.push("running"),
    done: () => void seen.push("done"),
  };
  const proxy = await startProxy({ addons: [addon] });
  assert.equal(seen[0], "load");
  assert.equal(seen.at(-1), "running");
  assert.ok(seen.includes("configure"));
  assert.ok(seen.indexOf("configure") < seen.indexOf("running"));
  // At start every option counts as changed.
  assert.ok(configuredWith?.has("listen_port") && configuredWith.has("confdir"));
  await proxy.stop();
  assert.equal(seen.at(-1), "done");
  assert.equal(seen.filter((h) => h === "done").length, 1);
});

test("an option added with loader.add_option takes --set values; configure names it", { timeout: 10_000 }, async (t) => {
  const configured: string[][] = [];
  let loader: Loader | undefined;
  const addon: Addon = {
    name: "greeter",
    load(l) {
      loader = l;
      l.add_option("greeting", "str", "hello", "What the greeter says.");
      l.add_option("greet_times", "int", 1, "How often.");
    },
    configure: (updated) => void configured.push([...updated].filter((n) => n.startsWith("greet"))),
  };
  const proxy = await startProxy({ addons: [addon], options: { greeting: "bonjour" } });
  t.after(() => proxy.stop());
  assert.ok(configured.some((u) => u.includes("greeting")));
  assert.equal(loader?.options["greeting"], "bonjour");
  assert.equal(loader?.options["greet_times"], 1);

  configured.length = 0;
  await proxy.engine.handle({ op: "setOption", name: "greet_times", value: "3" });
  assert.deepEqual(configured, [["greet_times"]]);
  assert.equal(loader?.options["greet_times"], 3);
  await assert.rejects(proxy.engine.handle({ op: "setOption", name: "greet_times", value: "thrice" }), /option greet_times expects an integer/);
});

test("an addon option set to a bad value at start fails start, naming it", { timeout: 10_000 }, async () => {
  const addon: Addon = { name: "typed", load: (l) => l.add_option("typed_level", "int", 0, "A number.") };
  await assert.rejects(startProxy({ addons: [addon], options: { typed_level: "high" } }), /option typed_level expects an integer, got "high"/);
});

test("a command added with loader.add_command runs through engine.handle", { timeout: 10_000 }, async (t) => {
  const calls: string[][] = [];
  const addon: Addon = {
    name: "cmds",
    load: (l) =>
      l.add_command("cmds.echo", (...args: string[]) => {
        calls.push(args);
        return `echo: ${args.join("|")}`;
      }, "Echoes its arguments."),
  };
  const proxy = await startProxy({ addons: [addon] });
  t.after(() => proxy.stop());
  const out = await proxy.engine.handle({ op: "command", line: `cmds.echo one "two words" three` });
  assert.equal(out, "echo: one|two words|three");
  assert.deepEqual(calls, [["one", "two words", "three"]]);
  const listed = await proxy.engine.handle({ op: "commands" });
  assert.ok(listed.some((c) => c.name === "cmds.echo" && c.help === "Echoes its arguments."));
  await assert.rejects(proxy.engine.handle({ op: "command", line: "cmds.ehco x" }), /unknown command "cmds.ehco"/);
});

test("an addon command given too few arguments is refused, and one that throws says which command and addon", { timeout: 10_000 }, async (t) => {
  const calls: string[] = [];
  const addon: Addon = {
    name: "greeter",
    load: (l) => {
      l.add_command("greet.hello", (who: string) => void calls.push(who), "Greets someone.", "greet.hello who");
      l.add_command("greet.fail", () => {
        throw new Error("no greeting today");
      });
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  t.after(() => proxy.stop());
  await assert.rejects(proxy.engine.handle({ op: "command", line: "greet.hello" }), /greet\.hello needs 1 argument \(greet\.hello who\), got 0/);
  assert.deepEqual(calls, [], "the addon never saw an undefined argument");
  await proxy.engine.handle({ op: "command", line: "greet.hello world" });
  assert.deepEqual(calls, ["world"]);
  await assert.rejects(proxy.engine.handle({ op: "command", line: "greet.fail" }), /^Error: greet\.fail \(from greeter\) failed: no greeting today$/);
});

test("an addon command's flows (or flow) parameter gets the flows themselves, from a spec at the prompt or flow objects from another addon; view.flows.resolve gives addons flows", { timeout: 10_000 }, async (t) => {
  const { ctx } = await import("../../src/api.ts");
  const origin = await startHttpOrigin((req, res) => res.end(req.url));
  const got: string[] = [];
  const addon: Addon = {
    name: "tagger",
    load: (l) => {
      l.add_command("tag.all", (flows: HTTPFlow[], tag: string) => {
        for (const f of flows) f.comment = tag;
        got.push(`${flows.length} ${flows.map((f) => f.request.path).join(",")} ${tag}`);
      }, "Comments flows.", "tag.all flows tag");
      l.add_command("tag.one", (flow: HTTPFlow) => void got.push(`one ${flow.request.path}`), "One flow.", "tag.one flow");
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  for (const p of ["/a", "/b"]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${p}`);
  const [a] = (await proxy.waitFinished(2)).sort((x, y) => x.seq - y.seq);
  await proxy.engine.handle({ op: "command", line: "tag.all @all seen" });
  await proxy.engine.handle({ op: "command", line: `tag.all '~u /b' b-only` });
  await proxy.engine.handle({ op: "command", line: `tag.one ${a!.id}` });
  await assert.rejects(proxy.engine.handle({ op: "command", line: "tag.one @all" }), /tag\.one takes one flow; "@all" names 2/);
  const resolved = (await ctx.master.commands.call("view.flows.resolve", "@all")) as HTTPFlow[];
  assert.deepEqual(resolved.map((f) => f.request.path).sort(), ["/a", "/b"]);
  await ctx.master.commands.call("tag.all", resolved.slice(0, 1), "given");
  assert.deepEqual(got, ["2 /a,/b seen", "1 /b b-only", "one /a", "1 /a given"]);
  assert.deepEqual(resolved.map((f) => f.comment).sort(), ["b-only", "given"], "the addon changed the flows themselves");
});

test("stop lets an in-flight flow finish before done runs", { timeout: 10_000 }, async (t) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const atOrigin = new Promise<void>((r) => (arrived = r));
  const origin = await startHttpOrigin((_req, res) => {
    arrived();
    void held.then(() => res.end("late but whole"));
  });
  const order: string[] = [];
  const proxy = await startProxy({ addons: [{ name: "watch", response: () => void order.push("response"), done: () => void order.push("done") }] });
  t.after(() => origin.close());
  const pending = viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  await atOrigin;
  const stopped = proxy.stop();
  // stop() is now waiting on the live flow; the origin answers only after that.
  release();
  const res = await pending;
  await stopped;
  assert.equal(res.body.toString(), "late but whole");
  assert.deepEqual(order, ["response", "done"]);
});

test("update fires with the flow when the user edits it", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const updated: { id: string; comment: string }[][] = [];
  const proxy = await startProxy({ addons: [{ name: "upd", update: (flows) => void updated.push(flows.map((f) => ({ id: f.id, comment: f.comment }))) }] });
  closeAfter(t, proxy, origin);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(updated.length, 0, "proxying a flow is no update");
  await proxy.engine.handle({ op: "edit", id: flow?.id as string, patch: { comment: "looked at" } });
  assert.deepEqual(updated, [[{ id: flow?.id, comment: "looked at" }]]);
});

test("update fires for the flows flow.resume and flow.kill act on (a and X in the console), as mitmproxy's core commands fire it", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const updated: string[][] = [];
  const proxy = await startProxy({ addons: [{ name: "upd", update: (flows) => void updated.push(flows.map((f) => `${f.id} ${f.intercepted ? "held" : "going"}`)) }], options: { intercept: "~q" } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  const first = viaProxy(proxy.port, url);
  const held = await waitUntil(() => proxy.engine.store.all().find((f) => f.intercepted), "a held request");
  assert.equal(await proxy.engine.handle({ op: "command", line: `flow.resume ${held.id}` }), "resumed 1 flow");
  assert.equal((await first).status, 200);
  const second = viaProxy(proxy.port, url).catch((err: Error) => err);
  const other = await waitUntil(() => proxy.engine.store.all().find((f) => f.intercepted && f.id !== held.id), "a second held request");
  assert.equal(await proxy.engine.handle({ op: "command", line: `flow.kill ${other.id}` }), "killed 1 flow");
  await second;
  assert.deepEqual(updated, [[`${held.id} going`], [`${other.id} going`]]);
});

test("ctx.options and ctx.log work for addons ported from mitmproxy", { timeout: 10_000 }, async (t) => {
  const { ctx } = await import("../../src/api.ts");
  const seen: unknown[] = [];
  const proxy = await startProxy({
    addons: [{ name: "ctx-user", running: () => void seen.push(ctx.options["listen_host"]), configure: () => ctx.log.info("configured via ctx") }],
  });
  t.after(() => proxy.stop());
  assert.deepEqual(seen, ["127.0.0.1"]);
  await proxy.waitLog(/configured via ctx/);
});

test("listen_port set while running moves the proxy there, as mitmproxy's does; a port in use is an error and the proxy listens where it did", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("moved"));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const first = proxy.port;
  const next = await deadPort();
  await proxy.engine.handle({ op: "command", line: `set listen_port ${next}` });
  await waitUntil(() => proxy.events.some((e) => e.t === "listening"), "the listeners moved");
  const moved = proxy.events.find((e) => e.t === "listening");
  assert.deepEqual(moved?.t === "listening" && moved.listen, [`127.0.0.1:${next}`]);
  assert.deepEqual(moved?.t === "listening" && moved.modes, ["regular"], "the modes listening, for the status bar");
  assert.equal((await viaProxy(next, `http://127.0.0.1:${origin.port}/`)).body.toString(), "moved");
  await assert.rejects(viaProxy(first, `http://127.0.0.1:${origin.port}/`), /ECONNREFUSED/, "the old port no longer listens");

  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
  t.after(() => taken.close());
  const busy = (taken.address() as net.AddressInfo).port;
  await proxy.engine.handle({ op: "command", line: `set listen_port ${busy}` });
  const line = await proxy.waitLog(/listening as before/);
  assert.equal(line.level, "error");
  assert.match(line.msg, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy}: the address is in use`));
  await waitUntil(() => proxy.engine.options.get<number>("listen_port") === next, "the option back to where pryx listens");
  await waitUntil(() => proxy.events.filter((e) => e.t === "listening").length === 2, "listening again");
  assert.equal((await viaProxy(next, `http://127.0.0.1:${origin.port}/`)).body.toString(), "moved");
});

test("server set false while running stops listening (connections made go on) and true listens again, as mitmproxy's; it was taken and ignored", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("served"));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const port = await deadPort();
  await proxy.engine.handle({ op: "command", line: `set listen_port ${port}` });
  await waitUntil(() => proxy.events.some((e) => e.t === "listening"), "listening on a known port");
  await proxy.engine.handle({ op: "command", line: "set server false" });
  await proxy.waitLog(/proxy server stopped \(server=false\)/);
  await assert.rejects(viaProxy(port, `http://127.0.0.1:${origin.port}/`), /ECONNREFUSED/);
  const stopped = proxy.events.filter((e) => e.t === "listening").at(-1);
  assert.deepEqual(stopped?.t === "listening" && stopped.listen, [], "the status bar learns it listens nowhere");
  await proxy.engine.handle({ op: "command", line: "set server true" });
  await waitUntil(() => proxy.events.filter((e) => e.t === "listening").length === 3, "listening again");
  assert.equal((await viaProxy(port, `http://127.0.0.1:${origin.port}/`)).body.toString(), "served");
});

test("the console keeps serving after -r, so its event log does not say it stops (only dump does)", { timeout: 10_000 }, async (t) => {
  const capture = new URL("../fixtures/mitmproxy-8.1.1.flow", import.meta.url).pathname;
  const proxy = await startProxy({ keepFlows: true, options: { rfile: capture } });
  t.after(() => proxy.stop());
  await waitUntil(() => proxy.engine.store.size > 0, "the file's flows");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(proxy.logs.filter((l) => /stopping/.test(l.msg)).map((l) => l.msg), []);
});

test("server set true where one mode's port is taken listens nowhere, the listeners that did bind closed again, and server goes back to false", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("served"));
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
  const busyPort = (busy.address() as net.AddressInfo).port;
  const proxy = await startProxy();
  closeAfter(t, proxy, origin, { close: () => new Promise<void>((r) => busy.close(() => r())) });
  await proxy.engine.handle({ op: "command", line: "set server false" });
  await proxy.waitLog(/proxy server stopped \(server=false\)/);
  const free = await deadPort();
  proxy.engine.options.setValues({ mode: [`regular@${free}`, `socks5@${busyPort}`] });
  await proxy.engine.handle({ op: "command", line: "set server true" });
  await proxy.waitLog(new RegExp(`pryx is not listening: .*${busyPort}`));
  await waitUntil(() => proxy.engine.options.get("server") === false, "server back to false");
  await assert.rejects(viaProxy(free, `http://127.0.0.1:${origin.port}/`), /ECONNREFUSED/, "the regular listener that bound is closed again");
});
