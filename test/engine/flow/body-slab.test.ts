import { test } from "node:test";
import assert from "node:assert/strict";
import { BodySlab } from "../../../src/engine/flow/body-slab.ts";

test("chunks are cut from shared regions, so V8 counts new external memory once per region rather than once per 4 MiB of bodies", () => {
  const slab = new BodySlab();
  const place = new Float64Array(2);
  const buffers = new Set<ArrayBufferLike>();
  const body = Buffer.alloc(64 * 1024, 1);
  // 4 chunks' worth of bodies (64 per 4 MiB chunk), then one more: the first region holds four chunks.
  for (let i = 0; i < 64 * 4 + 1; i++) {
    slab.put(body, place, 0);
    const view = slab.get(place[0]!, place[1]!, body.length);
    assert.deepEqual(view, body);
    buffers.add(view.buffer);
  }
  assert.equal(slab.chunkCount, 5);
  assert.equal(buffers.size, 2, "five chunks from two regions");
});
