import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTnetstring } from "../../../src/engine/flow/tnetstring.ts";

test("tnetstrings: values of every type, and an error deep inside names its byte in the whole file, not in the payload around it", () => {
  const t = (payload: string, tag: string): string => `${Buffer.byteLength(payload)}:${payload}${tag}`;
  const good = Buffer.from(t("a", ","));
  const whole = Buffer.concat([good, Buffer.from(t(t("name", ";") + t("hello", ";") + t("num", ";") + t("42", "#") + t("list", ";") + t(t("x", ",") + t("y", ","), "]") + t("t", ";") + t("true", "!"), "}"))]);
  const first = parseTnetstring(whole, 0);
  assert.deepEqual(first?.value, Buffer.from("a"));
  const second = parseTnetstring(whole, first!.end);
  assert.deepEqual(second?.value, { name: "hello", num: 42, list: [Buffer.from("x"), Buffer.from("y")], t: true });
  assert.equal(second?.end, whole.length);
  assert.equal(parseTnetstring(whole.subarray(0, whole.length - 1), first!.end), undefined, "cut off: read more");

  const bad = Buffer.concat([good, Buffer.from(t(t("name", ";") + "3:abcX", "}"))]);
  const x = bad.indexOf("X");
  assert.throws(() => parseTnetstring(bad, good.length), new RegExp(`unknown tnetstring type "X" at byte ${x}$`));
  const badLength = Buffer.concat([good, Buffer.from(t(t("name", ";") + "x:abc,", "}"))]);
  assert.throws(() => parseTnetstring(badLength, good.length), new RegExp(`not a tnetstring at byte ${badLength.indexOf("x:")}: bad length`));
  // A window of a larger file: bytes counted from where the window starts in it.
  assert.throws(() => parseTnetstring(bad, good.length, 1_000_000), new RegExp(`unknown tnetstring type "X" at byte ${1_000_000 + x}$`));
});
