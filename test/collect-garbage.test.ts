import { test } from "node:test";
import assert from "node:assert/strict";
import { collectGarbageSoon } from "../src/collect-garbage.ts";

test("collectGarbageSoon collects this thread's heap shortly after, without --expose-gc on the command line", async () => {
  let big: number[][] | undefined = Array.from({ length: 1000 }, () => new Array<number>(100).fill(1));
  const ref = new WeakRef(big);
  big = undefined;
  collectGarbageSoon();
  collectGarbageSoon();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ref.deref(), undefined);
});
