import { test } from "node:test";
import assert from "node:assert/strict";
import { NumberSlab } from "../src/number-slab.ts";

test("slots keep their numbers across pages, and a released slot is handed out again", () => {
  const slab = new NumberSlab(3);
  const slots = Array.from({ length: 5000 }, () => slab.alloc());
  for (const slot of slots) slab.page(slot).set([slot, -slot, slot / 2], slab.base(slot));
  for (const slot of slots) assert.deepEqual([...slab.page(slot).subarray(slab.base(slot), slab.base(slot) + 3)], [slot, -slot, slot / 2]);
  assert.notEqual(slab.page(0), slab.page(4999), "more than one page");
  slab.release(1234);
  assert.equal(slab.alloc(), 1234);
  assert.equal(slab.alloc(), 5000);
});
