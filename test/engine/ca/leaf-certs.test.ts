import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { loadOrCreateCA } from '../../../src/engine/ca/ca.ts';
import type { CertificateAuthority } from '../../../src/engine/ca/ca.ts';
import { LeafCertificates, normalizeHost } from '../../../src/engine/ca/leaf-certs.ts';
import { tmpConfdir } from './tmp-confdir.ts';

const DAY = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let ca: CertificateAuthority;
let caCert: X509Certificate;
let leaves: LeafCertificates;
const cleanups: (() => void)[] = [];

before(async () => {
  ca = await loadOrCreateCA(tmpConfdir((fn) => cleanups.push(fn)));
  caCert = new X509Certificate(ca.certPem);
  leaves = new LeafCertificates(ca);
});
after(() => cleanups.forEach((fn) => fn()));

function issuedByCA(pem: string): X509Certificate {
  const cert = new X509Certificate(pem);
  assert.ok(cert.verify(caCert.publicKey), 'signature verifies with the CA key');
  assert.ok(cert.checkIssued(caCert), 'issuer and key identifiers chain to the CA');
  return cert;
}

test('a name gets a DNS SAN and a certificate that current clients accept', () => {
  const leaf = leaves.get('app.test');
  const cert = issuedByCA(leaf.certPem);
  assert.equal(cert.subjectAltName, 'DNS:app.test');
  assert.equal(cert.checkHost('app.test'), 'app.test');
  assert.equal(cert.checkHost('other.test'), undefined);
  assert.equal(cert.subject, 'CN=app.test\nO=pryx');
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, [SERVER_AUTH]); // Node reports extKeyUsage here
  assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)));

  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  assert.ok(Math.abs(Date.now() - DAY - notBefore) < 60_000, 'backdated one day');
  assert.ok(notAfter <= Date.now() + 365 * DAY, 'at most 365 days');
  assert.ok(notAfter > Date.now() + 300 * DAY);
  assert.equal(leaf.notAfter.getTime(), notAfter);

  // forge reads RSA keys only, so the leaf (an EC key) is checked from its raw ASN.1.
  const tbs = (forge.asn1.fromDer(forge.pem.decode(leaf.certPem)[0]!.body).value as forge.asn1.Asn1[])[0]!;
  const fields = tbs.value as forge.asn1.Asn1[];
  assert.equal(forge.asn1.derToInteger((fields[0]!.value as forge.asn1.Asn1[])[0]!.value as string), 2, 'X.509 v3');
  assert.equal(forge.asn1.derToOid((fields[2]!.value as forge.asn1.Asn1[])[0]!.value as string), forge.pki.oids['sha256WithRSAEncryption']);
  assert.ok((fields[1]!.value as string).charCodeAt(0) < 0x80, 'positive serial');
  assert.equal(cert.publicKey.asymmetricKeyType, 'ec', 'an ECDSA key: cheap handshakes');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const extensions = new Map<string, forge.asn1.Asn1>();
  const extList = ((fields.at(-1)!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]);
  for (const e of extList) {
    const parts = e.value as forge.asn1.Asn1[];
    extensions.set(forge.asn1.derToOid(parts[0]!.value as string), forge.asn1.fromDer(parts.at(-1)!.value as string));
  }
  const ext = (name: string): forge.asn1.Asn1 => {
    const v = extensions.get(forge.pki.oids[name] as string);
    assert.ok(v, `has ${name}`);
    return v;
  };
  assert.deepEqual(ext('basicConstraints').value, [], 'cA false');
  const usage = (ext('keyUsage').value as string).charCodeAt(1);
  assert.equal(usage & 0x80, 0x80, 'digitalSignature');
  assert.equal(usage & 0x20, 0, 'no keyEncipherment for an EC key');
  assert.equal(usage & 0x04, 0, 'no keyCertSign');
  assert.equal(forge.asn1.derToOid((ext('extKeyUsage').value as forge.asn1.Asn1[])[0]!.value as string), forge.pki.oids['serverAuth']);
  const caSki = forge.pki.certificateFromPem(ca.certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
  const keyIdentifier = (ext('authorityKeyIdentifier').value as forge.asn1.Asn1[])[0]!;
  assert.equal(forge.util.bytesToHex(keyIdentifier.value as string), caSki.subjectKeyIdentifier);
  assert.equal((ext('subjectKeyIdentifier').value as string).length, 20, 'a SHA-1 key identifier');
});

test('IPv4 and IPv6 addresses get IP SANs', () => {
  const v4 = issuedByCA(leaves.get('127.0.0.1').certPem);
  assert.equal(v4.subjectAltName, 'IP Address:127.0.0.1');
  assert.equal(v4.checkIP('127.0.0.1'), '127.0.0.1');

  const v6 = issuedByCA(leaves.get('::1').certPem);
  assert.equal(v6.subjectAltName, 'IP Address:0:0:0:0:0:0:0:1');
  assert.equal(v6.checkIP('::1'), '::1');
  assert.equal(v6.checkIP('127.0.0.1'), undefined);

  const mapped = issuedByCA(leaves.get('::ffff:10.1.2.3').certPem);
  assert.equal(mapped.subjectAltName, 'IP Address:0:0:0:0:0:FFFF:A01:203');

  const full = issuedByCA(leaves.get('2001:db8:1:2:3:4:5:6').certPem);
  assert.equal(full.subjectAltName, 'IP Address:2001:DB8:1:2:3:4:5:6');
});

test('hosts are normalized, so spellings of one host share one certificate', () => {
  assert.equal(leaves.get('[::1]'), leaves.get('::1'));
  assert.equal(leaves.get('APP.Test.'), leaves.get('app.test'));
  assert.equal(normalizeHost('[fe80::1%eth0]'), 'fe80::1');
  assert.throws(() => leaves.get(''), /cannot issue a certificate/);
  assert.throws(() => leaves.get('bad host'), /cannot issue a certificate/);
  assert.throws(() => leaves.get('*.example.com'), /cannot issue a certificate/);
});

test('names with an underscore also get the parent wildcard', () => {
  const cert = issuedByCA(leaves.get('my_svc.example.com').certPem);
  assert.equal(cert.subjectAltName, 'DNS:my_svc.example.com, DNS:*.example.com');
  assert.equal(cert.checkHost('my_svc.example.com'), 'my_svc.example.com');
  // Too short a parent for a wildcard: only the exact name.
  assert.equal(issuedByCA(leaves.get('my_svc.test').certPem).subjectAltName, 'DNS:my_svc.test');
});

test('a long name keeps the full name in the SAN and a 64-character CN', () => {
  const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
  const cert = issuedByCA(leaves.get(host).certPem);
  assert.equal(cert.subjectAltName, `DNS:${host}`);
  assert.equal(cert.subject.split('\n')[0], `CN=${host.slice(0, 64)}`);
});

test('two hosts get two certificates with one shared key; a host gets its cached object', () => {
  const a = leaves.get('a.test');
  const b = leaves.get('b.test');
  assert.notEqual(a.certPem, b.certPem);
  assert.notEqual(new X509Certificate(a.certPem).serialNumber, new X509Certificate(b.certPem).serialNumber);
  assert.equal(a.keyPem, b.keyPem);
  assert.equal(leaves.get('a.test'), a);
  // Other spellings of the name find the same entry, before and after its normal form is cached.
  assert.equal(leaves.get('A.Test.'), a);
  const c = leaves.get('C.TEST');
  assert.equal(leaves.get('c.test'), c);
});

test('the cache evicts the least recently used host beyond its capacity', () => {
  const small = new LeafCertificates(ca, 2);
  const a = small.get('a.test');
  const b = small.get('b.test');
  assert.equal(small.get('a.test'), a); // a is now the most recently used
  small.get('c.test');
  assert.equal(small.size, 2);
  assert.equal(small.get('a.test'), a, 'a survived');
  const b2 = small.get('b.test');
  assert.notEqual(b2, b, 'b was evicted and issued again');
  assert.equal(small.size, 2);
  assert.throws(() => new LeafCertificates(ca, 0), RangeError);
});

test('a new host costs only a signature', (t) => {
  const fresh = new LeafCertificates(ca);
  fresh.get('warm-up.test');
  const n = 50;
  const start = performance.now();
  for (let i = 0; i < n; i++) fresh.get(`host-${i}.example.com`);
  const perHost = (performance.now() - start) / n;
  t.diagnostic(`new host certificate: ${perHost.toFixed(2)} ms (mean of ${n})`);
  // Generous bound for slow CI; a forge-generated key per host would take hundreds of ms.
  assert.ok(perHost < 50, `${perHost} ms per host`);
});

test('sniCallback answers with the cached context, and with an error for a bad name', async () => {
  const sni = leaves.sniCallback();
  const ctx = await new Promise<tls.SecureContext | undefined>((resolve, reject) =>
    sni('app.test', (err, c) => (err ? reject(err) : resolve(c))));
  assert.ok(ctx !== undefined && 'context' in ctx);
  const err = await new Promise<Error | null>((resolve) => sni('bad host', (e) => resolve(e)));
  assert.match(String(err), /cannot issue a certificate/);
});

test('a TLS client trusting the CA connects to a loopback server using sniCallback', { timeout: 10_000 }, async (t) => {
  const server = tls.createServer({ SNICallback: leaves.sniCallback() }, (socket) => {
    socket.end('hello over pryx TLS');
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const { authorized, authorizationError, subjectCN, text } = await new Promise<{
    authorized: boolean;
    authorizationError: Error | undefined;
    subjectCN: string;
    text: string;
  }>((resolve, reject) => {
    const client = tls.connect({ host: '127.0.0.1', port, servername: 'app.test', ca: [ca.certPem] }, () => {
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      client.on('end', () => {
        resolve({
          authorized: client.authorized,
          authorizationError: client.authorizationError,
          subjectCN: String(client.getPeerCertificate().subject.CN),
          text: Buffer.concat(chunks).toString(),
        });
        client.destroy();
      });
    });
    client.once('error', reject);
  });
  assert.equal(authorizationError, null);
  assert.equal(authorized, true);
  assert.equal(subjectCN, 'app.test');
  assert.equal(text, 'hello over pryx TLS');
});

test('a TLS client that does not trust the CA is refused', { timeout: 10_000 }, async (t) => {
  const server = tls.createServer({ SNICallback: leaves.sniCallback() }, (socket) => socket.end());
  server.on('tlsClientError', () => {}); // the client aborts the handshake; that is the point
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
    const client = tls.connect({ host: '127.0.0.1', port, servername: 'app.test', ca: [] }, () => {
      client.destroy();
      reject(new Error('connected without trusting the CA'));
    });
    client.once('error', resolve);
  });
  // Which of the two depends on the OpenSSL build; both mean "issuer not trusted".
  assert.match(String(err.code), /^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)$/);
});

test('a cached certificate close to expiry is issued again', (t) => {
  const certs = new LeafCertificates(ca);
  const first = certs.get('renew.test');
  t.mock.timers.enable({ apis: ['Date'], now: first.notAfter.getTime() - 30 * 60 * 1000 });
  const renewed = certs.get('renew.test');
  assert.notEqual(renewed, first);
  assert.ok(renewed.notAfter > first.notAfter);
  assert.equal(certs.get('renew.test'), renewed);
});

test('a leaf never outlives the CA', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: ca.notAfter.getTime() - 100 * DAY });
  const cert = issuedByCA(new LeafCertificates(ca, 1).get('late.test').certPem);
  assert.equal(Date.parse(cert.validTo), ca.notAfter.getTime());
});

test('the leaf context picks AES-128-GCM over the AES-256 a default OpenSSL client asks for first, and ChaCha20 for a client that puts it first', async (t) => {
  // As pryx's tunnel does: a TLSSocket over the accepted socket, started with the leaf's context
  // (the cipher order is that of the first context, not of one an SNICallback switches to).
  const server = net.createServer((socket) => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: leaves.contextFor('app.test') });
    secure.on('error', () => socket.destroy());
    secure.once('secure', () => secure.end());
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const cipherWith = (ciphers: string | undefined, maxVersion: tls.SecureVersion = 'TLSv1.3'): Promise<string> =>
    new Promise((resolve, reject) => {
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'app.test', ca: [ca.certPem], maxVersion, ...(ciphers ? { ciphers } : {}) }, () => {
        resolve(client.getCipher().standardName);
        client.destroy();
      });
      client.once('error', reject);
    });
  assert.match(tls.DEFAULT_CIPHERS, /^TLS_AES_256_GCM_SHA384:/, "the client's default order, which the server overrides");
  assert.equal(await cipherWith(undefined), 'TLS_AES_128_GCM_SHA256');
  assert.equal(await cipherWith(`TLS_CHACHA20_POLY1305_SHA256:${tls.DEFAULT_CIPHERS}`), 'TLS_CHACHA20_POLY1305_SHA256');
  assert.equal(await cipherWith(undefined, 'TLSv1.2'), 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS 1.2 clients still connect');
});

test('new hosts whose sockets are made one after the other each present their own certificate, first and later connections alike', { timeout: 10_000 }, async (t) => {
  const certs = new LeafCertificates(ca);
  // Hosts in the order their TLS sockets are made, all made before any handshake runs: the
  // first connection of a host borrows the context the next new host's certificate goes into.
  const hosts = ['first-a.test', 'first-b.test', 'first-a.test', 'first-c.test', 'first-b.test', 'first-b.test'];
  const accepted: net.Socket[] = [];
  let onAccept: () => void = () => undefined;
  const server = net.createServer((socket) => {
    accepted.push(socket);
    onAccept();
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const clients: Promise<string>[] = [];
  // One connection at a time, so the i-th socket accepted is the i-th host's.
  for (const servername of hosts) {
    const raw = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => (onAccept = resolve));
    clients.push(new Promise<string>((resolve, reject) => {
      const client = tls.connect({ socket: raw, servername, ca: [ca.certPem] }, () => {
        resolve(new X509Certificate(client.getPeerCertificate(true).raw).subjectAltName ?? '');
        client.destroy();
      });
      client.once('error', reject);
    }));
  }
  for (const [i, host] of hosts.entries()) {
    const socket = accepted[i] as net.Socket;
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: certs.contextFor(host) });
    secure.on('error', () => socket.destroy());
  }
  assert.deepEqual(await Promise.all(clients), hosts.map((h) => `DNS:${h}`));
});

test('a host first seen after setProtocol gets the new protocol, not that of a context made ahead of it', async (t) => {
  const certs = new LeafCertificates(ca);
  // Let the contexts made ahead (with the default protocol) be made.
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  certs.setProtocol({ minVersion: 'TLSv1.3', ciphers: tls.DEFAULT_CIPHERS });
  const server = net.createServer((socket) => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: certs.contextFor('late-protocol.test') });
    secure.on('error', () => socket.destroy());
    secure.once('secure', () => secure.end());
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const versionWith = (maxVersion: tls.SecureVersion): Promise<string> =>
    new Promise((resolve) => {
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'late-protocol.test', ca: [ca.certPem], maxVersion }, () => {
        resolve(String(client.getProtocol()));
        client.destroy();
      });
      client.once('error', (err: NodeJS.ErrnoException) => resolve(`refused: ${err.code}`));
    });
  assert.equal(await versionWith('TLSv1.3'), 'TLSv1.3');
  assert.match(await versionWith('TLSv1.2'), /^refused: /, 'a TLS 1.2 client is below the new minimum');
});
