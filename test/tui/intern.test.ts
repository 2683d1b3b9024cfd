import { test } from "node:test";
import assert from "node:assert/strict";
import { shareStrings } from "../../src/tui/intern.ts";
import { makeFlow } from "./helpers/fake-engine.ts";

test("sharing a summary's strings changes none of its values, absent ones stay absent", () => {
  const f = makeFlow({ method: "POST", host: "api.test", reason: undefined, contentType: "application/json", error: undefined, server: undefined });
  const before = structuredClone(f);
  shareStrings(f);
  assert.deepEqual(f, before);
  // A second summary with equal strings reads the same after sharing.
  const g = structuredClone(before);
  shareStrings(g);
  assert.deepEqual(g, f);
});

test("the shared table starts over when full, without losing values", () => {
  for (let i = 0; i < 25_000; i++) {
    const f = makeFlow({ client: `127.0.0.1:${i}` });
    shareStrings(f);
    assert.equal(f.client, `127.0.0.1:${i}`);
  }
});
