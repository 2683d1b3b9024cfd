import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Engine } from "../../../src/engine/engine.ts";

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
  const logs: string[] = [];
  const engine = new Engine({ options: { confdir: dir, scripts }, keepFlows: false, noServer: true }, (ev) => {
    if (ev.t === "batch") logs.push(...ev.logs.filter((l) => l.level === "error").map((l) => l.msg));
  });
  t.after(() => engine.stop());
  await engine.start();
  engine.flush();
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
  const logs: string[] = [];
  const engine = new Engine({ options: { confdir: dir, scripts: [file] }, keepFlows: false, noServer: true }, (ev) => {
    if (ev.t === "batch") logs.push(...ev.logs.filter((l) => l.level === "error").map((l) => l.msg));
  });
  t.after(() => engine.stop());
  await engine.start();
  engine.flush();
  assert.equal(logs.length, 1, logs.join("\n"));
  assert.match(logs[0]!, new RegExp(`failed to load script .*broken\\.mjs: syntax error: .* \\(at .*broken\\.mjs:3:\\d+\\)`));
});
