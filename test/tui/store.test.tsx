import { test } from "node:test";
import { encodeSummaries } from "../../src/summary-codec.ts";
import assert from "node:assert/strict";
import { FlowStore, type BatchDelta } from "../../src/tui/store.ts";
import type { FlowSummary } from "../../src/protocol.ts";
import { makeFlow, makeFlows } from "./helpers/fake-engine.ts";

type Delta = { add?: FlowSummary[]; update?: FlowSummary[]; remove?: string[]; reset?: boolean };
/** A batch as the engine sends it: summaries packed. */
const batch = (d: Delta): BatchDelta => ({ add: encodeSummaries(d.add ?? []), update: encodeSummaries(d.update ?? []), remove: d.remove ?? [], reset: d.reset ?? false });
const ids = (s: FlowStore) => Array.from({ length: s.size }, (_, i) => s.at(i)!.seq);

function storeWith(flows: FlowSummary[], height = 5): FlowStore {
  const s = new FlowStore();
  s.setViewport(height);
  s.applyBatch(batch({ add: flows }));
  return s;
}

test("adds in arrival order and focuses the first flow", () => {
  const s = storeWith(makeFlows(3, (i) => ({ seq: 101 + i })));
  assert.deepEqual(ids(s), [101, 102, 103]);
  assert.equal(s.focused()?.seq, 101);
  assert.deepEqual(s.counts(), { shown: 3, total: 3, intercepted: 0, focus: 0 });
});

test("the focus stays on its flow as others arrive, and moves to the next row when its flow goes", () => {
  const fs = makeFlows(5, (i) => ({ seq: 201 + i }));
  const s = storeWith(fs);
  s.focusTo(2);
  s.applyBatch(batch({ add: [makeFlow({ seq: 206 })] }));
  assert.equal(s.focused()?.seq, 203);
  s.applyBatch(batch({ remove: [fs[2]!.id] }));
  assert.equal(s.focused()?.seq, 204);
  assert.equal(s.focusIndex(), 2);
  s.applyBatch(batch({ remove: fs.slice(3).map((f) => f.id).concat(["no-such-id"]) }));
  assert.deepEqual(ids(s), [201, 202, 206]);
  assert.equal(s.focusIndex(), 2);
});

test("updates replace in place, and re-sort when the order key changes", () => {
  const fs = makeFlows(3, (i) => ({ seq: 301 + i, respSize: 100 * (i + 1) }));
  const s = storeWith(fs);
  s.setOrder("size");
  assert.deepEqual(ids(s), [301, 302, 303]);
  s.applyBatch(batch({ update: [{ ...fs[0]!, respSize: 1000 }] }));
  assert.deepEqual(ids(s), [302, 303, 301]);
  s.applyBatch(batch({ update: [{ ...fs[1]!, status: 500 }] }));
  assert.equal(s.at(0)!.status, 500);
});

test("orders by method and URL, reversed without re-sorting", () => {
  const s = storeWith([
    makeFlow({ seq: 1, method: "POST", url: "https://b/" }),
    makeFlow({ seq: 2, method: "GET", url: "https://c/" }),
    makeFlow({ seq: 3, method: "DELETE", url: "https://a/" }),
  ]);
  s.setOrder("method");
  assert.deepEqual(ids(s), [3, 2, 1]);
  s.setOrder("url");
  assert.deepEqual(ids(s), [3, 1, 2]);
  s.focusTo(0);
  s.setReversed(true);
  assert.deepEqual(ids(s), [2, 1, 3]);
  // The focus follows its flow to the other end.
  assert.equal(s.focused()?.seq, 3);
  assert.equal(s.focusIndex(), 2);
  s.applyBatch(batch({ add: [makeFlow({ seq: 4, url: "https://b2/" })] }));
  assert.deepEqual(ids(s), [2, 4, 1, 3]);
});

test("marked-only and the view filter hide flows", () => {
  const fs = makeFlows(4, (i) => ({ seq: 401 + i, marker: i % 2 === 0 ? ":default:" : "" }));
  const s = storeWith(fs);
  s.setMarkedOnly(true);
  assert.deepEqual(ids(s), [401, 403]);
  s.applyBatch(batch({ update: [{ ...fs[1]!, marker: ":default:" }] }));
  assert.deepEqual(ids(s), [401, 402, 403]);
  s.setMarkedOnly(false);
  s.applyView(Uint32Array.of(fs[0]!.seq, fs[3]!.seq));
  assert.deepEqual(ids(s), [401, 404]);
  assert.deepEqual({ shown: s.counts().shown, total: s.counts().total }, { shown: 2, total: 4 });
  // A summary's own `shown` flag counts for later changes.
  s.applyBatch(batch({ add: [makeFlow({ seq: 405, shown: false }), makeFlow({ seq: 406, shown: true })] }));
  assert.deepEqual(ids(s), [401, 404, 406]);
});

test("follow mode focuses the newest flow", () => {
  const s = storeWith(makeFlows(3, (i) => ({ seq: 501 + i })));
  s.setFollow(true);
  assert.equal(s.focused()?.seq, 503);
  s.applyBatch(batch({ add: [makeFlow({ seq: 504 }), makeFlow({ seq: 505 })] }));
  assert.equal(s.focused()?.seq, 505);
  s.setReversed(true);
  s.applyBatch(batch({ add: [makeFlow({ seq: 506 })] }));
  assert.equal(s.focusIndex(), 0);
});

test("counts intercepted flows", () => {
  const fs = makeFlows(3, (i) => ({ seq: 601 + i, intercepted: i < 2 }));
  const s = storeWith(fs);
  assert.equal(s.counts().intercepted, 2);
  s.applyBatch(batch({ update: [{ ...fs[0]!, intercepted: false }] }));
  assert.equal(s.counts().intercepted, 1);
  s.applyBatch(batch({ remove: [fs[1]!.id] }));
  assert.equal(s.counts().intercepted, 0);
});

test("the window snapshot is the same object when a batch changes nothing on screen", () => {
  const s = storeWith(makeFlows(50, (i) => ({ seq: 1001 + i })), 10);
  const w1 = s.window();
  assert.equal(w1.rows.length, 10);
  s.applyBatch(batch({ add: makeFlows(20, (i) => ({ seq: 2001 + i })) }));
  assert.equal(s.window(), w1);
  s.focusBy(1);
  const w2 = s.window();
  assert.notEqual(w2, w1);
  assert.equal(w2.rows[0], w1.rows[0]);
  s.applyBatch(batch({ update: [{ ...w2.rows[3]!, status: 404 }] }));
  assert.notEqual(s.window(), w2);
});

test("reset empties the store", () => {
  const s = storeWith(makeFlows(3));
  s.applyBatch(batch({ reset: true, add: [makeFlow({ seq: 9001 })] }));
  assert.deepEqual(ids(s), [9001]);
  assert.equal(s.total, 1);
});

test("100,000 flows: batches and focus moves stay cheap", () => {
  const s = new FlowStore();
  s.setViewport(22);
  const all = makeFlows(100_000, (i) => ({ seq: 100_000 + i }));
  for (let i = 0; i < all.length; i += 1000) s.applyBatch(batch({ add: all.slice(i, i + 1000) }));
  assert.equal(s.size, 100_000);
  s.focusTo(s.size - 1);
  assert.equal(s.window().rows.length, 22);
  assert.equal(s.focused()?.seq, 199_999);
  assert.equal(s.indexOfId(all[12345]!.id), 12345);
  s.setOrder("url");
  s.applyBatch(batch({ update: [{ ...all[5]!, url: "https://zzz/" }], add: makeFlows(50, (i) => ({ seq: 300_000 + i })) }));
  assert.equal(s.size, 100_050);
  assert.equal(s.at(s.size - 1)!.url, "https://zzz/");
});

test("a flood's batch that moves no visible row tells the screen within 250 ms; batches that move rows, within 100 ms and once", async () => {
  const s = storeWith(makeFlows(10, (i) => ({ seq: 1 + i })), 5);
  let repaints = 0;
  s.subscribe(() => repaints++);
  s.applyBatch(batch({ add: makeFlows(150, (i) => ({ seq: 100 + i })) }), true);
  assert.equal(repaints, 0);
  // What is read meanwhile (by a key's repaint) is already current.
  assert.equal(s.counts().total, 160);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(repaints, 1);

  // In follow mode the visible rows move with the flood: one repaint for the batches of 100 ms.
  s.setFollow(true);
  const before = repaints;
  s.applyBatch(batch({ add: makeFlows(150, (i) => ({ seq: 300 + i })) }), true);
  s.applyBatch(batch({ add: makeFlows(150, (i) => ({ seq: 500 + i })) }), true);
  assert.equal(repaints, before);
  assert.equal(s.counts().total, 460);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(repaints, before + 1);
  // A batch that is no flood repaints at once, the counts that waited with it.
  s.setFollow(false);
  const counted = repaints;
  s.applyBatch(batch({ add: makeFlows(150, (i) => ({ seq: 700 + i })) }), true);
  s.applyBatch(batch({ add: makeFlows(1, () => ({ seq: 900 })) }));
  assert.equal(repaints, counted + 1);
  s.dispose();
});

test("flows are found by id whether they came before or after the first lookup, and removed by id", () => {
  const first = makeFlows(3, (i) => ({ seq: 301 + i }));
  const s = storeWith(first);
  assert.equal(s.get(first[1]!.id)?.seq, 302);
  const later = makeFlows(2, (i) => ({ seq: 304 + i }));
  s.applyBatch(batch({ add: later }));
  assert.equal(s.get(later[1]!.id)?.seq, 305);
  assert.equal(s.indexOfId(later[0]!.id), 3);
  s.applyBatch(batch({ update: [{ ...first[0]!, status: 404 }], remove: [later[0]!.id] }));
  assert.equal(s.get(first[0]!.id)?.status, 404);
  assert.equal(s.get(later[0]!.id), undefined);
  assert.equal(s.indexOfId(later[0]!.id), -1);
  assert.deepEqual(ids(s), [301, 302, 303, 305]);
  s.applyBatch(batch({ reset: true, add: [makeFlow({ seq: 400 })] }));
  assert.equal(s.get(first[1]!.id), undefined);
  assert.equal(s.total, 1);
});

test("records with text beyond ASCII read back whole, and their ids are found", () => {
  const flows = [makeFlow({ seq: 501, id: "flöw-ü-1", path: "/café?q=€", comment: "naïve 😀" }), makeFlow({ seq: 502, path: "/plain" })];
  const s = storeWith(flows);
  assert.equal(s.get("flöw-ü-1")?.path, "/café?q=€");
  assert.equal(s.get("flöw-ü-1")?.comment, "naïve 😀");
  assert.equal(s.get(flows[1]!.id)?.path, "/plain", "the record after a multi-byte one starts where it should");
  assert.equal(s.indexOfId("flöw-ü-1"), 0);
});
