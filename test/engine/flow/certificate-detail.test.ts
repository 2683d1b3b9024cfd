import { test } from "node:test";
import assert from "node:assert/strict";
import { certificateDetail, leafCertificateDetail } from "../../../src/engine/flow/certificate-detail.ts";
import { selfSignedCert } from "../../../bench/cert.ts";

const { certPem } = selfSignedCert("detail.test", ["127.0.0.1"], ["detail.test", "www.detail.test"]);

test("a server's leaf is summarized as mitmproxy's Detail tab shows it: type, digest, validity, names", () => {
  const d = certificateDetail(certPem, 2);
  assert.equal(d.error, undefined);
  if (d.error !== undefined) return;
  assert.equal(d.type, "RSA, 2048 bits");
  assert.match(d.sha256, /^[0-9a-f]{64}$/);
  assert.ok(Date.parse(d.validFrom) <= Date.now() && Date.now() < Date.parse(d.validTo), `${d.validFrom} .. ${d.validTo}`);
  assert.match(d.validFrom, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  assert.match(d.serial, /^[0-9A-F]+$/);
  assert.match(d.subject, /CN=detail\.test/);
  assert.match(d.issuer, /CN=detail\.test/);
  assert.deepEqual(d.altNames.sort(), ["127.0.0.1", "detail.test", "www.detail.test"]);
  assert.equal(d.chainLength, 2);
});

test("a PEM that does not parse gives its reason instead of failing the detail", () => {
  const d = certificateDetail("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", 1);
  assert.match(d.error ?? "", /^unreadable certificate: /);
});

test("a server's leaf is read once, whichever connection's copy of its chain asks; no chain, no certificate", () => {
  const first = leafCertificateDetail([certPem]);
  assert.equal(leafCertificateDetail([certPem]), first, "another connection's array, the same PEM");
  assert.equal(first?.chainLength, 1);
  assert.equal(leafCertificateDetail([certPem, "issuer"])?.chainLength, 2);
  assert.equal(leafCertificateDetail([]), undefined);
});
