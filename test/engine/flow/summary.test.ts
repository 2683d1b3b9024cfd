import { test } from "node:test";
import assert from "node:assert/strict";
import { readable } from "../../../src/engine/flow/summary.ts";

const wire = (text: string): string => Buffer.from(text, "utf8").toString("latin1");

test("readable shows a target's UTF-8 bytes as text and leaves anything else as sent", () => {
  assert.equal(readable("/plain?q=1"), "/plain?q=1");
  assert.equal(readable(wire("/日本語?q=à")), "/日本語?q=à");
  // Not UTF-8 (a lone latin1 é): shown as the byte it is rather than as a replacement character.
  assert.equal(readable("/caf\u00e9"), "/caf\u00e9");
});
