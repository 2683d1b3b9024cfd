import { test } from "node:test";
import assert from "node:assert/strict";
import { shareInkCaches } from "../../src/tui/ink-caches.ts";

test("Ink's per-frame text caches are shared across frames (the patch finds Ink 6's cache class)", async () => {
  assert.equal(await shareInkCaches(), true, "Ink's Output/OutputCaches layout changed: revisit src/tui/ink-caches.ts");
});
