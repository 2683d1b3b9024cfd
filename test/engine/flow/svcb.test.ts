import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeAlpn, decodeSvcb, encodeSvcb, svcbText } from "../../../src/engine/flow/svcb.ts";
import { httpsRdata } from "../../helpers/svcb.ts";

test("HTTPS record data reads into priority, target and parameters, and writes back byte for byte", () => {
  const data = httpsRdata();
  const r = decodeSvcb(data);
  assert.equal(r.priority, 1);
  assert.deepEqual([...r.target], [0]);
  assert.deepEqual(r.params.map((p) => p.key), [1, 5, 4]);
  assert.deepEqual(decodeAlpn(r.params[0]!.value), ["h3", "h2"]);
  assert.deepEqual(encodeSvcb(r), data);
  // A named target: svc.example.test.
  const named = Buffer.concat([Buffer.from([0, 2, 3]), Buffer.from("svc"), Buffer.from([7]), Buffer.from("example"), Buffer.from([4]), Buffer.from("test"), Buffer.from([0])]);
  assert.equal(decodeSvcb(named).target.length, 18);
  assert.deepEqual(decodeSvcb(named).params, []);
});

test("data that is not SVCB is an error that says where it breaks", () => {
  assert.throws(() => decodeSvcb(Buffer.from([0, 1])), /too short/);
  assert.throws(() => decodeSvcb(Buffer.from([0, 1, 5, 0x61])), /target name runs past/);
  assert.throws(() => decodeSvcb(Buffer.from([0, 1, 0xc0, 0x0c])), /compressed names are not allowed/);
  assert.throws(() => decodeSvcb(Buffer.from([0, 1, 0, 0, 5, 0, 9, 1])), /parameter 5 runs past/);
  assert.throws(() => decodeAlpn(Buffer.from([5, 0x68])), /alpn value runs past/);
});

test("HTTPS data reads in RFC 9460's presentation form", () => {
  assert.equal(svcbText(httpsRdata()), "1 . alpn=h3,h2 ech=AEX+DQBBqg== ipv4hint=104.16.0.1");
  const named = Buffer.concat([Buffer.from([0, 2, 3]), Buffer.from("svc"), Buffer.from([4]), Buffer.from("test"), Buffer.from([0, 0, 3, 0, 2, 0x20, 0xfb])]);
  assert.equal(svcbText(named), "2 svc.test. port=8443");
});
