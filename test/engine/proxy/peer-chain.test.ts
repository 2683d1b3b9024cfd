import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { loadOrCreateCA } from "../../../src/engine/ca/ca.ts";
import { LeafCertificates } from "../../../src/engine/ca/leaf-certs.ts";
import { peerChain } from "../../../src/engine/proxy/peer-chain.ts";
import { tmpConfdir } from "../ca/tmp-confdir.ts";

/** Connects to `port` and returns what peerChain records for `server`, as fingerprints. */
function chainOf(port: number, server: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ host: "127.0.0.1", port, servername: "chain.test", rejectUnauthorized: false }, () => {
      resolve(peerChain(t, server).map((pem) => new X509Certificate(pem).fingerprint256));
      t.destroy();
    });
    t.on("error", reject);
  });
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

test("a server's whole chain is recorded on every connection; a changed certificate is read afresh", { timeout: 10_000 }, async (t) => {
  const cleanups: (() => void)[] = [];
  t.after(() => cleanups.forEach((fn) => fn()));
  const ca = await loadOrCreateCA(tmpConfdir((fn) => cleanups.push(fn)));
  const leaves = new LeafCertificates(ca);
  // Each server sends its leaf and the CA that issued it, as a server with an intermediate does.
  const serve = async (host: string): Promise<{ port: number; chain: string[] }> => {
    const leaf = leaves.get(host);
    const server = tls.createServer({ key: leaf.keyPem, cert: `${leaf.certPem}\n${ca.certPem}` }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    t.after(() => server.close());
    return { port: (server.address() as AddressInfo).port, chain: [fingerprint(leaf.certPem), fingerprint(ca.certPem)] };
  };
  const first = await serve("one.test");
  const second = await serve("two.test");

  assert.deepEqual(await chainOf(first.port, "s"), first.chain);
  // Known now: checked by its leaf, and still the whole chain.
  assert.deepEqual(await chainOf(first.port, "s"), first.chain);
  assert.deepEqual(await chainOf(first.port, "s"), first.chain);
  // The same server name with another certificate (a renewal): its leaf, then its chain again.
  assert.deepEqual(await chainOf(second.port, "s"), second.chain.slice(0, 1));
  assert.deepEqual(await chainOf(second.port, "s"), second.chain);
});
