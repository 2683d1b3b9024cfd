import { test } from "node:test";
import assert from "node:assert/strict";
import { calcTop, clampScroll } from "../../src/tui/window.ts";
import { comparators, indexOf, lowerBound, mergeSorted, removeSorted } from "../../src/tui/order.ts";
import type { FlowSummary } from "../../src/protocol.ts";
import { makeFlow } from "./helpers/fake-engine.ts";

/** The orders over summaries themselves, read as the store reads its slots. */
const COMPARE = comparators<FlowSummary>({
  seq: (f) => f.seq,
  method: (f) => f.method,
  url: (f) => f.url,
  size: (f) => f.reqSize + (f.respSize ?? 0),
});

test("calcTop keeps the window still while the focus stays inside it", () => {
  assert.equal(calcTop({ count: 100, height: 10, focus: 5, top: 0 }), 0);
  assert.equal(calcTop({ count: 100, height: 10, focus: 9, top: 0 }), 0);
  assert.equal(calcTop({ count: 100, height: 10, focus: 10, top: 0 }), 1);
  assert.equal(calcTop({ count: 100, height: 10, focus: 3, top: 5 }), 3);
  assert.equal(calcTop({ count: 100, height: 10, focus: 99, top: 0 }), 90);
  assert.equal(calcTop({ count: 5, height: 10, focus: 4, top: 3 }), 0);
  assert.equal(calcTop({ count: 0, height: 10, focus: 0, top: 7 }), 0);
  // A list that shrank under the window pulls the window back.
  assert.equal(calcTop({ count: 20, height: 10, focus: 12, top: 50 }), 10);
});

test("clampScroll keeps a scroll offset within the content", () => {
  assert.equal(clampScroll(-3, 50, 10), 0);
  assert.equal(clampScroll(45, 50, 10), 40);
  assert.equal(clampScroll(5, 3, 10), 0);
});

test("orders are total: seq breaks ties", () => {
  const a = makeFlow({ seq: 1, method: "POST", url: "http://b/" });
  const b = makeFlow({ seq: 2, method: "GET", url: "http://a/" });
  const c = makeFlow({ seq: 3, method: "GET", url: "http://a/", respSize: 10 });
  assert.deepEqual([c, a, b].sort(COMPARE.time).map((f) => f.seq), [1, 2, 3]);
  assert.deepEqual([a, c, b].sort(COMPARE.method).map((f) => f.seq), [2, 3, 1]);
  assert.deepEqual([a, c, b].sort(COMPARE.url).map((f) => f.seq), [2, 3, 1]);
  assert.deepEqual([a, b, c].sort(COMPARE.size).map((f) => f.seq), [3, 1, 2]);
});

test("mergeSorted appends, inserts and merges", () => {
  const mk = (seqs: number[]) => seqs.map((seq) => makeFlow({ seq }));
  const seqs = (fs: { seq: number }[]) => fs.map((f) => f.seq);
  assert.deepEqual(seqs(mergeSorted(mk([1, 2]), mk([4, 3]), COMPARE.time)), [1, 2, 3, 4]);
  assert.deepEqual(seqs(mergeSorted(mk([1, 5]), mk([3]), COMPARE.time)), [1, 3, 5]);
  const many = mk(Array.from({ length: 20 }, (_, i) => i * 2 + 1));
  assert.deepEqual(seqs(mergeSorted(mk([2, 10, 40]), many, COMPARE.time)).slice(0, 6), [1, 2, 3, 5, 7, 9]);
  const arr = mk([1, 3, 5, 7]);
  assert.equal(lowerBound(arr, makeFlow({ seq: 4 }), COMPARE.time), 2);
  assert.equal(indexOf(arr, arr[2]!, COMPARE.time), 2);
  assert.equal(indexOf(arr, makeFlow({ seq: 4 }), COMPARE.time), -1);
});

test("removeSorted takes out runs at either end, scattered rows, and rows it cannot find", () => {
  const seqs = (fs: { seq: number }[]) => fs.map((f) => f.seq);
  const list = () => Array.from({ length: 40 }, (_, i) => makeFlow({ seq: i + 1 }));
  const a = list();
  assert.deepEqual(seqs(removeSorted(a, a.slice(0, 10), COMPARE.time)), Array.from({ length: 30 }, (_, i) => i + 11), "the oldest, as max_flows drops them");
  const b = list();
  assert.deepEqual(seqs(removeSorted(b, [b[39]!, b[0]!, b[20]!], COMPARE.time)).length, 37);
  const c = list();
  const odd = c.filter((f) => f.seq % 2 === 1);
  assert.deepEqual(seqs(removeSorted(c, odd, COMPARE.time)), Array.from({ length: 20 }, (_, i) => 2 * (i + 1)), "twenty runs: one pass");
  const d = list();
  assert.deepEqual(seqs(removeSorted(d, [makeFlow({ seq: 5 }), d[9]!], COMPARE.time)).length, 39, "an object not in the list is passed over");
  const e = list();
  assert.equal(removeSorted(e, [], COMPARE.time), e);
});
