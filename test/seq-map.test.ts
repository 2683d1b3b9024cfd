import { test } from "node:test";
import assert from "node:assert/strict";
import { SeqMap } from "../src/seq-map.ts";

const entries = (ix: SeqMap<number>): [number, number][] => {
  const out: [number, number][] = [];
  ix.forEach((slot, seq) => out.push([seq, slot]));
  return out;
};

test("slots are found by seq and listed lowest seq first; a deleted seq is gone", () => {
  const ix = new SeqMap<number>();
  ix.set(7, 70);
  ix.set(5, 50);
  ix.set(6, 60);
  ix.set(6, 61);
  assert.equal(ix.size, 3);
  assert.equal(ix.get(6), 61);
  assert.equal(ix.get(4), undefined);
  assert.equal(ix.get(8), undefined);
  ix.delete(5);
  ix.delete(5);
  ix.delete(99);
  assert.equal(ix.size, 2);
  assert.deepEqual(entries(ix), [[6, 61], [7, 70]]);
  assert.equal(ix.nextAfter(0), 6);
  assert.equal(ix.nextAfter(6), 7);
  assert.equal(ix.nextAfter(7), undefined);
  const from7: number[] = [];
  ix.forEach((_, seq) => from7.push(seq), 7);
  assert.deepEqual(from7, [7]);
});

test("grows far past its first size, and drops the room of seqs deleted below the lowest kept", () => {
  const ix = new SeqMap<number>();
  for (let seq = 1; seq <= 5000; seq++) ix.set(seq, seq * 2);
  for (let seq = 1; seq <= 4990; seq++) ix.delete(seq);
  ix.set(1_000_000, 1);
  assert.equal(ix.size, 11);
  assert.deepEqual(entries(ix).slice(0, 2), [[4991, 9982], [4992, 9984]]);
  assert.deepEqual(entries(ix).at(-1), [1_000_000, 1]);
  // A seq below all others still fits.
  ix.set(3, 33);
  assert.equal(ix.get(3), 33);
  assert.equal(ix.get(4991), 9982);
  assert.equal(ix.size, 12);
  ix.clear();
  assert.equal(ix.size, 0);
  assert.deepEqual(entries(ix), []);
});

test("dropping the oldest one by one, as max_flows does, leaves the rest listed in order", () => {
  const ix = new SeqMap<number>();
  for (let seq = 1; seq <= 3000; seq++) {
    ix.set(seq, seq);
    if (seq > 100) ix.delete(seq - 100);
  }
  assert.equal(ix.size, 100);
  assert.deepEqual(entries(ix).map(([seq]) => seq), Array.from({ length: 100 }, (_, i) => 2901 + i));
  assert.deepEqual([...ix.entries()][0], [2901, 2901]);
  assert.equal(ix.nextAfter(5), 2901);
  ix.set(2000, 7);
  assert.equal(ix.nextAfter(5), 2000);
  assert.equal(ix.size, 101);
});

test("agrees with a sorted Map through sets and deletes spread over many chunks, and a forEach that deletes as it goes", () => {
  let s = 11;
  const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const ix = new SeqMap<number>();
  const model = new Map<number, number>();
  const sorted = (): [number, number][] => [...model].sort((a, b) => a[0] - b[0]);
  for (let step = 0; step < 40_000; step++) {
    // Mostly rising seqs, as flows arrive, with some far below and above the others.
    const seq = step % 97 === 0 ? next() % 200_000 : 50_000 + step * 3 + (next() % 5);
    if (next() % 4 === 0) {
      const victim = sorted()[0]?.[0];
      if (victim !== undefined) {
        ix.delete(victim);
        model.delete(victim);
      }
    } else {
      ix.set(seq, step);
      model.set(seq, step);
    }
    if (step % 5000 === 0) assert.deepEqual(entries(ix), sorted(), `step ${step}`);
  }
  assert.equal(ix.size, model.size);
  assert.deepEqual([...ix.entries()], sorted());
  const [lowest] = sorted()[0] as [number, number];
  assert.equal(ix.nextAfter(-1), lowest);
  // Dropping every other flow while walking them, as max_flows's eviction does.
  const kept: number[] = [];
  let odd = false;
  ix.forEach((_, seq) => {
    if ((odd = !odd)) ix.delete(seq);
    else kept.push(seq);
  });
  assert.deepEqual(entries(ix).map(([seq]) => seq), kept);
  assert.equal(ix.size, kept.length);
});
