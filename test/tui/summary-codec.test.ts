import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import { decodeSummaries, encodeSummaries, recordField, T_URL, forEachRecord } from "../../src/summary-codec.ts";
import { makeFlow } from "./helpers/fake-engine.ts";
import { FlowStore } from "../../src/tui/store.ts";

test("summaries survive the packed batch, optional fields and flags included", () => {
  const flows = [
    makeFlow({ seq: 1 }),
    // Absent and empty are different values: a 200 with reason "" is not a flow without a response.
    makeFlow({ seq: 2, status: undefined, reason: undefined, contentType: undefined, respSize: undefined, duration: undefined, server: undefined, live: true }),
    makeFlow({ seq: 3, httpVersion: "HTTP/2.0", responseVersion: "HTTP/1.1", reason: "", contentType: "", error: "connection reset", intercepted: true, interceptedAt: "response", marker: ":default:", replay: "response", modified: true, shown: false, messages: 0 }),
    makeFlow({ seq: 4, type: "dns", method: "A", scheme: "dns", path: "", url: "dns://10.0.0.1:53", httpVersion: "", comment: "日本語 ✓", ts: 1_700_000_000.123456 }),
  ];
  // Across threads the batch is structured-cloned, as postMessage does.
  const wire = v8.deserialize(v8.serialize(encodeSummaries(flows)));
  assert.deepEqual(decodeSummaries(wire), flows);
});

test("a separator inside a field cannot shift the fields after it", () => {
  const f = makeFlow({ seq: 7, comment: "a\u0000b", error: "x\u0000y" });
  const [back] = decodeSummaries(encodeSummaries([f]));
  assert.equal(back?.comment, "a\ufffdb");
  assert.equal(back?.error, "x\ufffdy");
  assert.equal(back?.url, f.url);
  assert.equal(back?.seq, 7);
});

test("a record's field is read without splitting it", () => {
  const b = encodeSummaries([makeFlow({ seq: 9, url: "https://x.test/a?b=c" }), makeFlow({ seq: 10, url: "" })]);
  const urls: string[] = [];
  forEachRecord(b, (record) => urls.push(recordField(record, T_URL)));
  assert.deepEqual(urls, ["https://x.test/a?b=c", ""]);
});

test("the console's store gives the same summary object until the flow changes", () => {
  const s = new FlowStore();
  const f = makeFlow({ seq: 1 });
  const batch = (add: typeof f[], update: typeof f[] = []) => ({ add: encodeSummaries(add), update: encodeSummaries(update), remove: [], reset: false });
  s.applyBatch(batch([f]));
  const first = s.get(f.id);
  assert.deepEqual(first, f);
  assert.equal(s.get(f.id), first, "React's useSyncExternalStore needs a stable snapshot");
  s.applyBatch(batch([], [{ ...f, status: 404 }]));
  assert.notEqual(s.get(f.id), first);
  assert.equal(s.get(f.id)?.status, 404);
  assert.equal(s.total, 1);
});
