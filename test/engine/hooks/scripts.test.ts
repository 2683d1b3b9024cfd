import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Engine } from "../../../src/engine/engine.ts";
import { startProxy } from "../../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../../helpers/origin.ts";
import { closeAfter } from "../../helpers/close-after.ts";

/** An engine started with these scripts, and the error lines it logged (it stops when the test ends). */
async function startWithScripts(t: TestContext, dir: string, scripts: string[]): Promise<{ logs: string[]; engine: Engine }> {
  const logs: string[] = [];
  const engine = new Engine({ options: { confdir: dir, scripts }, keepFlows: false, noServer: true }, (ev) => {
    if (ev.t === "batch") logs.push(...ev.logs.filter((l) => l.level === "error").map((l) => l.msg));
  });
  t.after(() => engine.stop());
  await engine.start();
  engine.flush();
  return { logs, engine };
}

test("two -s scripts with the same file name in different directories both load, in order", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-scripts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const scripts = ["api", "auth"].map((sub) => {
    fs.mkdirSync(path.join(dir, sub));
    const file = path.join(dir, sub, "index.ts");
    // The scripts run in this process: they report through a global.
    fs.writeFileSync(file, `export default { running() { ((globalThis as Record<string, unknown>).__pryxScripts as string[]).push(${JSON.stringify(sub)}); } };\n`);
    return file;
  });
  const seen: string[] = [];
  (globalThis as Record<string, unknown>)["__pryxScripts"] = seen;
  const { logs, engine } = await startWithScripts(t, dir, scripts);
  assert.deepEqual(logs, []);
  assert.deepEqual(seen, ["api", "auth"]);
  // The first keeps the short name the logs show; the second is told apart by its path.
  assert.deepEqual(engine.addons.names.filter((n) => n.endsWith("index.ts")), ["index.ts", scripts[1]]);
});

test("a JavaScript script's syntax error names its file, line and column, as a TypeScript script's does", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-scripts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "broken.mjs");
  fs.writeFileSync(file, `export default {\n  request(f) {\n    let x = = 3;\n  }\n};\n`);
  const { logs } = await startWithScripts(t, dir, [file]);
  assert.equal(logs.length, 1, logs.join("\n"));
  assert.match(logs[0]!, new RegExp(`failed to load script .*broken\\.mjs: syntax error: .* \\(at .*broken\\.mjs:3:\\d+\\)`));
});

test("a script written as mitmproxy's are, with hook functions as named exports or an addons array, loads; one with neither says how to write one", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-scripts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hooks = path.join(dir, "hooks.ts");
  fs.writeFileSync(hooks, `import type { http } from "pryx";\nexport function request(flow: http.HTTPFlow) { flow.request.headers.set("x-from", "module hook"); }\nexport function response(flow: http.HTTPFlow) { flow.response!.headers.set("x-seen", flow.request.headers.get("x-from") ?? "none"); }\n`);
  const listed = path.join(dir, "listed.ts");
  fs.writeFileSync(listed, `class Tagger { response(flow: { response?: { headers: { set(k: string, v: string): void } } }) { flow.response?.headers.set("x-tagger", "yes"); } }\nexport const addons = [new Tagger()];\n`);
  const none = path.join(dir, "none.ts");
  fs.writeFileSync(none, `export const answer = 42;\n`);
  const origin = await startHttpOrigin((req, res) => res.end(String(req.headers["x-from"])));
  const proxy = await startProxy({ options: { scripts: [hooks, listed, none].join(",") } });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.body.toString(), "module hook", "the request hook ran before the server saw it");
  assert.equal(res.headers["x-seen"], "module hook");
  assert.equal(res.headers["x-tagger"], "yes");
  await proxy.waitLog(/script .*none\.ts has no addon: export default an addon object, class instance or array of them, or export hook functions \(export function request\(flow\) \{\.\.\.\}\) or an addons array/);
});

test("ctx.master.addons.get finds a script's addon by its own name or its class's, in lower case, as mitmproxy's does, as well as by the script's file name", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-addons-get-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const named = path.join(dir, "block.ts");
  fs.writeFileSync(named, `export default { name: "block", request() {} };\n`);
  const classy = path.join(dir, "tagging.ts");
  fs.writeFileSync(classy, `class Tagger { response() {} }\nexport default new Tagger();\n`);
  const engine = new Engine({ options: { confdir: dir, scripts: [named, classy] }, keepFlows: false, noServer: true }, () => undefined);
  t.after(() => engine.stop());
  await engine.start();
  const byFile = engine.addons.get("block.ts");
  assert.ok(byFile);
  assert.equal(engine.addons.get("block"), byFile);
  const tagger = engine.addons.get("tagging.ts");
  assert.ok(tagger);
  assert.equal(engine.addons.get("tagger"), tagger);
  assert.equal(engine.addons.get("nosuch"), undefined);
});

test("scripts set while running loads a new script (its running hook too) and unloads one no longer named (its done hook), as mitmproxy's does; it did nothing", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-scripts-live-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "live.ts");
  fs.writeFileSync(file, `const seen = (globalThis as Record<string, unknown>).__pryxLive as string[];\nexport default { running() { seen.push("running"); }, done() { seen.push("done"); } };\n`);
  const seen: string[] = [];
  (globalThis as Record<string, unknown>)["__pryxLive"] = seen;
  const engine = new Engine({ options: { confdir: dir }, keepFlows: false, noServer: true }, () => undefined);
  t.after(() => engine.stop());
  await engine.start();
  const waitFor = async (what: string): Promise<void> => {
    for (let i = 0; i < 100 && !seen.includes(what); i++) await new Promise((r) => setTimeout(r, 20));
  };
  engine.options.setValues({ scripts: [file] });
  await waitFor("running");
  assert.deepEqual(seen, ["running"]);
  assert.ok(engine.addons.get("live.ts"), "loaded");
  engine.options.setValues({ scripts: [] });
  await waitFor("done");
  assert.deepEqual(seen, ["running", "done"]);
  assert.equal(engine.addons.get("live.ts"), undefined, "unloaded");
});

test("a mitmproxy Python script given to -s is refused saying pryx addons are TypeScript or JavaScript, not with Node's bare unknown-extension error", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-scripts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "addon.py");
  fs.writeFileSync(file, `def request(flow):\n    flow.request.headers["x"] = "1"\n`);
  const { logs } = await startWithScripts(t, dir, [file]);
  assert.equal(logs.length, 1, logs.join("\n"));
  assert.match(logs[0]!, /failed to load script .*addon\.py: pryx addons are TypeScript or JavaScript modules \(\.ts, .*\), not Python: port the script/);
});
