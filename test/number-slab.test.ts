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

test("once every slot is released its pages go, and slots start again from 0", () => {
  const slab = new NumberSlab(2);
  const slots = Array.from({ length: 3000 }, () => slab.alloc());
  const first = slab.page(0);
  for (const slot of slots.slice(0, 2999)) slab.release(slot);
  assert.equal(slab.page(0), first, "a slot still in use keeps the pages");
  slab.release(slots[2999]!);
  assert.equal(slab.page(0), undefined, "no page is kept");
  assert.equal(slab.alloc(), 0);
  assert.notEqual(slab.page(0), first, "a new page");
});
