import { test } from "node:test";
import assert from "node:assert/strict";
import { IntMap } from "../src/int-map.ts";

/** A small deterministic generator, so a failure repeats. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
}

test("agrees with a Map through adds, overwrites and deletes, across growth", () => {
  const next = lcg(7);
  const model = new Map<number, number>();
  const map = new IntMap();
  // Keys from a narrow range collide often in their home slots, which is what deletion must survive.
  for (let step = 0; step < 60_000; step++) {
    const key = next() % 5000;
    const op = next() % 3;
    if (op === 2) assert.equal(map.delete(key), model.delete(key), `delete ${key} at step ${step}`);
    else {
      const value = next() & 0x7fffffff;
      map.set(key, value);
      model.set(key, value);
    }
  }
  assert.equal(map.size, model.size);
  for (let key = 0; key < 5000; key++) {
    assert.equal(map.get(key), model.get(key), `key ${key}`);
    assert.equal(map.has(key), model.has(key));
  }
});

test("holds a large index and finds every entry, including key 0 and the largest key", () => {
  const map = new IntMap();
  const next = lcg(99);
  const keys = new Set<number>([0, 0x3fffffff]);
  while (keys.size < 200_000) keys.add(next() & 0x3fffffff);
  let seq = 1;
  for (const key of keys) map.set(key, seq++);
  assert.equal(map.size, keys.size);
  seq = 1;
  for (const key of keys) assert.equal(map.get(key), seq++);
  assert.equal(map.get(0), 1);
  assert.equal(map.get(0x3fffffff), 2);
});

test("dump mode's steady add-and-drop leaves every live entry reachable", () => {
  const map = new IntMap();
  const next = lcg(3);
  const live: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const key = next() & 0x3fffffff;
    if (map.has(key)) continue;
    map.set(key, i);
    live.push(key);
    if (live.length > 50) assert.equal(map.delete(live.shift() as number), true);
  }
  assert.equal(map.size, 50);
  for (const key of live) assert.notEqual(map.get(key), undefined);
});

test("clear empties it, and keys or values out of range are refused by name", () => {
  const map = new IntMap();
  for (let i = 0; i < 3000; i++) map.set(i, i);
  map.clear();
  assert.equal(map.size, 0);
  assert.equal(map.get(5), undefined);
  map.set(5, 6);
  assert.equal(map.get(5), 6);
  assert.throws(() => map.set(-1, 0), /IntMap key out of range: -1/);
  assert.throws(() => map.set(2 ** 30, 0), /key out of range/);
  assert.throws(() => map.set(1.5, 0), /key out of range/);
  assert.throws(() => map.set(1, 2 ** 31), /IntMap value out of range/);
  assert.equal(map.delete(999), false);
});
