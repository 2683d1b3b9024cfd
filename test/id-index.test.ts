import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { IdIndex, hashId } from "../src/id-index.ts";

/** A store's view of its flows: seq → id. */
function indexOver(): { ix: IdIndex; ids: Map<number, string> } {
  const ids = new Map<number, string>();
  return { ix: new IdIndex((seq) => ids.get(seq)), ids };
}

test("ids are found by their hash and checked against the flow stored under the seq", () => {
  const { ix, ids } = indexOver();
  for (let seq = 1; seq <= 1000; seq++) {
    ids.set(seq, `flow-${seq}`);
    ix.set(`flow-${seq}`, seq);
  }
  assert.equal(ix.get("flow-500"), 500);
  assert.equal(ix.get("flow-1001"), undefined);
  ix.delete("flow-500");
  ids.delete(500);
  assert.equal(ix.get("flow-500"), undefined);
  // A flow gone from the store without a delete is not found either.
  ids.delete(7);
  assert.equal(ix.get("flow-7"), undefined);
  assert.equal(hashId("abc"), hashId("xabcx", 1, 4), "a range of a text hashes as the string it holds");
  ix.clear();
  assert.equal(ix.get("flow-1"), undefined);
});

test("two ids with one hash are both found, and either can go", () => {
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair && i < 300_000; i++) {
    const id = createHash("md5").update(String(i)).digest("hex");
    const other = seen.get(hashId(id));
    if (other) pair = [other, id];
    seen.set(hashId(id), id);
  }
  assert.ok(pair, "some of 300,000 ids share a 30-bit hash (about 40 pairs are expected)");
  const [a, b] = pair;
  const { ix, ids } = indexOver();
  ids.set(1, a);
  ix.set(a, 1);
  ids.set(2, b);
  ix.setHashed(hashId(b), 2);
  assert.equal(ix.get(a), 1);
  assert.equal(ix.get(b), 2);
  ix.delete(a);
  ids.delete(1);
  assert.equal(ix.get(a), undefined);
  assert.equal(ix.get(b), 2);
  ix.delete(b);
  ids.delete(2);
  assert.equal(ix.get(b), undefined);
});
