import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Engine } from "../../src/engine/engine.ts";
import { LOCAL_OPTIONS } from "../../src/tui/controller.ts";
import { REPO } from "../helpers/cli.ts";

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

test("every option the console reads or sets is one the real engine defines, or one the console keeps itself", async () => {
  const engine = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  const known = new Set([...engine.options.names(), ...LOCAL_OPTIONS.map((o) => o.name)]);
  const used = new Map<string, string>();
  for (const file of sources(path.join(REPO, "src/tui"))) {
    for (const m of fs.readFileSync(file, "utf8").matchAll(/\b(?:option|setOption)\("([a-z_]+)"/g)) used.set(m[1] as string, path.relative(REPO, file));
  }
  assert.ok(used.size >= 10, `found only ${used.size} option names: the pattern no longer matches the console's code`);
  const missing = [...used].filter(([name]) => !known.has(name)).map(([name, file]) => `${name} (${file})`);
  assert.deepEqual(missing, [], "options the console uses but nobody defines: --set and the options editor would refuse them");
});
