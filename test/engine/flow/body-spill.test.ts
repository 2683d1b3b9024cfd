import { test } from "node:test";
import assert from "node:assert/strict";
import { BodySpill } from "../../../src/engine/flow/body-spill.ts";

test("spilled bodies fill segments; a segment no kept body is in is closed (its disk space freed), the one written to stays", () => {
  const spill = new BodySpill(1000);
  const a = spill.append(Buffer.alloc(600, "a"));
  const b = spill.append(Buffer.alloc(600, "b"));
  const c = spill.append(Buffer.alloc(300, "c"));
  assert.deepEqual([a.segment, b.segment, c.segment], [0, 1, 1], "a body that does not fit starts the next segment");
  assert.equal(spill.openSegments, 2);
  assert.equal(spill.bytes, 1500);
  spill.release(a);
  assert.equal(spill.openSegments, 1, "segment 0 held only a");
  assert.equal(spill.retain(a), false, "its bytes are gone: a flow packed again writes its body anew");
  assert.throws(() => spill.read(a), /closed segment 0/);
  assert.deepEqual(spill.read(b), Buffer.alloc(600, "b"));
  spill.release(b);
  spill.release(c);
  assert.equal(spill.openSegments, 1, "the segment being written to stays open, empty or not");
  assert.equal(spill.retain(c), true);
  assert.deepEqual(spill.read(c), Buffer.alloc(300, "c"));
  spill.close();
  assert.equal(spill.openSegments, 0);
});
