import { test } from "node:test";
import assert from "node:assert/strict";
import { Headers, HeaderError } from "../../../src/engine/flow/headers.ts";

const wire = (): Headers =>
  Headers.fromRaw(["Host", "example.test", "X-Custom", "a", "accept", "*/*", "x-custom", "b", "Set-Cookie", "c=1"]);

test("get is case-insensitive and joins repeated fields", () => {
  const h = wire();
  assert.equal(h.get("host"), "example.test");
  assert.equal(h.get("HOST"), "example.test");
  assert.equal(h.get("X-CUSTOM"), "a, b");
  assert.equal(h.get("missing"), undefined);
  assert.ok(h.has("Accept"));
  assert.ok(!h.has("missing"));
});

test("getAll returns each value of a field in wire order", () => {
  const h = wire();
  assert.deepEqual(h.getAll("x-custom"), ["a", "b"]);
  assert.deepEqual(h.getAll("nope"), []);
});

test("iteration yields fields in wire order with their original case", () => {
  assert.deepEqual([...wire()], [
    ["Host", "example.test"],
    ["X-Custom", "a"],
    ["accept", "*/*"],
    ["x-custom", "b"],
    ["Set-Cookie", "c=1"],
  ]);
});

test("set replaces every field of the name in place of the first, keeping its case", () => {
  const h = wire();
  h.set("X-CUSTOM", "z");
  assert.deepEqual([...h], [
    ["Host", "example.test"],
    ["X-Custom", "z"],
    ["accept", "*/*"],
    ["Set-Cookie", "c=1"],
  ]);
  h.set("New-One", 5);
  assert.deepEqual(h.fields.at(-1), ["New-One", "5"]);
});

test("add appends another field even when the name exists", () => {
  const h = wire();
  h.add("set-cookie", "d=2");
  assert.deepEqual(h.getAll("Set-Cookie"), ["c=1", "d=2"]);
  assert.deepEqual(h.fields.at(-1), ["set-cookie", "d=2"]);
});

test("delete removes every field of the name, whatever the case", () => {
  const h = wire();
  assert.equal(h.delete("X-custom"), true);
  assert.equal(h.delete("X-custom"), false);
  assert.deepEqual(h.keys(), ["Host", "accept", "Set-Cookie"]);
});

test("the seed's headers[\"X-Custom\"] form reads, writes and deletes", () => {
  const h = wire();
  assert.equal(h["x-custom"], "a, b");
  h["X-Custom"] = "v";
  assert.deepEqual(h.getAll("x-custom"), ["v"]);
  h["X-Added"] = "w";
  assert.equal(h.get("x-added"), "w");
  assert.ok("x-added" in h);
  delete h["x-added"];
  assert.equal(h.get("X-Added"), undefined);
  // The class's own members are not shadowed by header names.
  assert.equal(typeof h.get, "function");
});

test("CR, LF and NUL in values, and non-token names, are refused", () => {
  const h = new Headers();
  assert.throws(() => h.set("X-Evil", "a\r\nInjected: 1"), HeaderError);
  assert.throws(() => h.add("X-Evil", "a\nb"), HeaderError);
  assert.throws(() => h.set("X-Evil", "a\0"), HeaderError);
  assert.throws(() => h.set("Bad Name", "v"), /invalid header name/);
  assert.throws(() => {
    h["X-Evil"] = "a\rb";
  }, HeaderError);
  assert.equal(h.size, 0);
});

test("a record builds fields in key order; clone is independent", () => {
  const h = new Headers({ "Content-Type": "text/plain", "X-A": "1" });
  const c = h.clone();
  c.set("X-A", "2");
  assert.equal(h.get("x-a"), "1");
  assert.equal(h.toWire(), "Content-Type: text/plain\r\nX-A: 1\r\n");
});
