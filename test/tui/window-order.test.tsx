import { test } from "node:test";
import assert from "node:assert/strict";
import { calcTop, clampScroll } from "../../src/tui/window.ts";
import { comparators, indexOf, lowerBound, mergeSorted } from "../../src/tui/order.ts";
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
