import { test } from "node:test";
import assert from "node:assert/strict";
import { uuid } from "../../../src/engine/flow/uuid.ts";

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("uuid() gives RFC 4122 version 4 ids, all distinct across pool refills", () => {
  const seen = new Set<string>();
  // Several times the 256-id pool, so refills are crossed.
  for (let i = 0; i < 5000; i++) {
    const id = uuid();
    assert.match(id, V4);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});

test("uuid() returns a fresh string each call (the shared output buffer is not aliased)", () => {
  const a = uuid();
  const copy = `${a}`;
  uuid();
  assert.equal(a, copy);
});
