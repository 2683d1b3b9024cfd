import { test } from "node:test";
import assert from "node:assert/strict";
import { addressKind, plainAddress } from "../../../src/engine/builtins/address-kind.ts";

test("addresses are classified as Python's ipaddress does (what mitmproxy's block addon asks)", () => {
  const cases: [string, ReturnType<typeof addressKind>][] = [
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["169.254.1.2", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["::ffff:192.168.1.1", "private"],
    ["fd00::1", "private"],
    ["192.0.2.7", "private"],
    ["192.0.0.9", "global"],
    ["8.8.8.8", "global"],
    ["172.32.0.1", "global"],
    ["::ffff:1.1.1.1", "global"],
    ["2606:4700::1111", "global"],
    ["100.64.0.1", "other"],
  ];
  for (const [address, kind] of cases) assert.equal(addressKind(address), kind, address);
  // Asked again, from the addresses already seen: the same answers.
  for (const [address, kind] of cases) assert.equal(addressKind(address), kind, `${address} again`);
});

test("what is not an IP address has no kind (a replay's client is \"replay\")", () => {
  assert.equal(addressKind("replay"), undefined);
  assert.equal(addressKind("?"), undefined);
});

test("an IPv4-mapped address is its IPv4 address, and a zone is dropped", () => {
  assert.equal(plainAddress("::ffff:10.0.0.1"), "10.0.0.1");
  assert.equal(plainAddress("fe80::1%lo0"), "fe80::1");
  assert.equal(plainAddress("2001:db8::1"), "2001:db8::1");
});
