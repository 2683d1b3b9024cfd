import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
// @ts-expect-error: a plain JS module hook, without type declarations
import { load } from "../../src/ts-loader.mjs";

type Loaded = { format: string; source: string; shortCircuit?: boolean };
type LoadHook = (url: string, context: object, next: (url: string, context: object) => Promise<Loaded>) => Promise<Loaded>;
const hook = load as LoadHook;
const fromTsx = async (): Promise<Loaded> => ({ format: "tsx", source: "" });

test("pryx's own modules load as ES modules without keepNames' per-closure __name calls", async () => {
  // exchange.ts names arrow functions (`const startStreaming = (res) => …`) made per request.
  const url = pathToFileURL("src/engine/proxy/exchange.ts").href;
  const out = await hook(url, {}, fromTsx);
  assert.equal(out.format, "module");
  assert.equal(out.shortCircuit, true);
  assert.match(out.source, /const startStreaming = \(res\) =>/);
  assert.doesNotMatch(out.source, /__name\(/);
  assert.match(out.source, /sourceMappingURL=data:/, "stack traces still point at the TypeScript");
  // The second load comes from the cache, the same text.
  assert.equal((await hook(url, {}, fromTsx)).source, out.source);
  const cache = "node_modules/.cache/pryx-ts";
  assert.ok(existsSync(cache) && readdirSync(cache).some((f) => f.endsWith(".mjs")));
  assert.ok(!readdirSync(cache).some((f) => f.endsWith(".tmp")), "no half-written entry is left behind");
});

test("the console's .tsx compiles with React's automatic runtime", async () => {
  const out = await hook(pathToFileURL("src/tui/app.tsx").href, {}, fromTsx);
  assert.match(out.source, /from "react\/jsx-runtime"/);
});

test("modules outside src/ (addon scripts, tests) go on to tsx", async () => {
  for (const file of ["test/helpers/proxy.ts", "addons/add-header.ts"]) {
    const out = await hook(pathToFileURL(file).href, {}, fromTsx);
    assert.equal(out.format, "tsx", file);
  }
});
