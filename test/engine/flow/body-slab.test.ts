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

test("once no body is left (every flow cleared) the slab lets go of all its chunks and regions, and fills again from the start", () => {
  const slab = new BodySlab();
  const place = new Float64Array(2);
  const body = Buffer.alloc(64 * 1024, 2);
  const places: [number, number][] = [];
  for (let i = 0; i < 64 * 3; i++) {
    slab.put(body, place, 0);
    places.push([place[0]!, place[1]!]);
  }
  assert.equal(slab.chunkCount, 3);
  for (const [chunk] of places.slice(1)) slab.release(chunk, body.length);
  assert.equal(slab.chunkCount, 2, "one body left keeps its chunk, and the current chunk stays");
  slab.release(places[0]![0], body.length);
  assert.equal(slab.chunkCount, 0);
  slab.put(body, place, 0);
  assert.deepEqual([place[0], place[1]], [0, 0]);
  assert.deepEqual(slab.get(0, 0, body.length), body);
});
