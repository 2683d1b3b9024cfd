import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import fs from "node:fs";
import path from "node:path";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { selfSignedCert } from "../../bench/cert.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import tls from "node:tls";
import { once } from "node:events";
import { startProxy, portOf } from "../helpers/proxy.ts";
import { connectTunnel, httpsViaProxy, originCertificate, pryxCaPem, startTlsOrigin, tlsViaProxy } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

test("tls_version_client_min/max: a client below the floor fails its handshake with a log line naming it; TLS1 lets a TLS 1.0 client in", { timeout: 15_000 }, async (t) => {
  const proxy = await startProxy({ options: { tls_version_client_min: "TLS1_3" } });
  closeAfter(t, proxy);
  // Nothing listens behind the tunnel: what is tested is the client's handshake with pryx.
  const target = "127.0.0.1:9";
  await assert.rejects(tlsViaProxy(proxy.port, { target, servername: "old.test", version: "TLSv1.2" }));
  const line = await proxy.waitLog(/client TLS handshake failed for old\.test/);
  assert.match(line.msg, /no TLS version that tls_version_client_min and tls_version_client_max allow/, line.msg);
  assert.doesNotMatch(line.msg, /CA trusted/, "not blamed on the certificate");
  const modern = await tlsViaProxy(proxy.port, { target, servername: "new.test", version: "TLSv1.3" });
  assert.equal(modern.getProtocol(), "TLSv1.3");
  const issued = modern.getPeerX509Certificate()?.fingerprint256;
  modern.destroy();

  proxy.engine.options.setText("tls_version_client_min", "TLS1");
  proxy.engine.options.setText("tls_version_client_max", "TLS1");
  const legacy = await tlsViaProxy(proxy.port, { target, servername: "legacy.test", version: "TLSv1" });
  assert.equal(legacy.getProtocol(), "TLSv1");
  legacy.destroy();
  const same = await tlsViaProxy(proxy.port, { target, servername: "new.test", version: "TLSv1" });
  assert.equal(same.getPeerX509Certificate()?.fingerprint256, issued, "a host's certificate is kept, not signed again, when the versions change");
  same.destroy();
  await assert.rejects(tlsViaProxy(proxy.port, { target, servername: "legacy.test", version: "TLSv1.3" }), "above the ceiling now");
});

test("tls_version_server_min: a server that speaks only TLS 1.2 is a 502 naming why under TLS1_3, and is reached by default", { timeout: 15_000 }, async (t) => {
  const cert = originCertificate();
  const origin = https.createServer({ key: cert.keyPem, cert: cert.certPem, maxVersion: "TLSv1.2" }, (_req, res) => res.end("tls 1.2 only"));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const strict = await startProxy({ options: { ssl_insecure: "true", tls_version_server_min: "TLS1_3" } });
  const usual = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, strict, usual, { close: () => new Promise<void>((r) => origin.close(() => r())) });
  const req = { target: `127.0.0.1:${portOf(origin)}`, servername: "old-server.test", path: "/" };

  const refused = await httpsViaProxy(strict.port, req);
  assert.equal(refused.status, 502);
  assert.match(refused.body.toString(), /old-server\.test/);
  assert.match(refused.body.toString(), /share no TLS version .*tls_version_server_min/);

  const ok = await httpsViaProxy(usual.port, req);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.toString(), "tls 1.2 only");
  const [done] = await usual.waitFinished(1);
  assert.equal((usual.engine.store.get(done?.id ?? "") as HTTPFlow).server_conn.tls_version, "TLSv1.2");
});

test("SSL3 is refused up front: Node's OpenSSL has none", async (t) => {
  const proxy = await startProxy();
  closeAfter(t, proxy);
  assert.throws(() => proxy.engine.options.setText("tls_version_server_min", "SSL3"), /SSL3 is not in the OpenSSL.*TLS1 is the oldest/);
  assert.throws(() => proxy.engine.options.setText("tls_version_client_max", "TLS2"), /TLS1_3/);
});


test("ciphers_client, tls_ecdh_curve_client and ciphers_server pick what each side's handshake uses; a list OpenSSL rejects is an error", { timeout: 15_000 }, async (t) => {
  const cert = originCertificate();
  const origin = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => res.end("chosen"));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  // A TLS 1.2 suite outside Node's defaults, for the origin's own key type.
  const serverCipher = cert.x509.publicKey.asymmetricKeyType === "rsa" ? "ECDHE-RSA-AES128-SHA256" : "ECDHE-ECDSA-AES128-SHA256";
  const proxy = await startProxy({
    options: {
      ssl_insecure: "true",
      tls_version_client_max: "TLS1_2",
      ciphers_client: "ECDHE-ECDSA-CHACHA20-POLY1305",
      tls_ecdh_curve_client: "P-384",
      tls_version_server_max: "TLS1_2",
      ciphers_server: serverCipher,
    },
  });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => origin.close(() => r())) });
  const client = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${portOf(origin)}`, servername: "app.test" });
  assert.equal(client.getCipher().standardName, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  assert.equal((client.getEphemeralKeyInfo() as tls.EphemeralKeyInfo).name, "secp384r1");
  client.destroy();

  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${portOf(origin)}`, servername: "app.test", path: "/" });
  assert.equal(res.body.toString(), "chosen");
  const [done] = await proxy.waitFinished(1);
  assert.equal((proxy.engine.store.get(done?.id ?? "") as HTTPFlow).server_conn.cipher, serverCipher);
  assert.throws(() => proxy.engine.options.setText("ciphers_client", "NO-SUCH-CIPHER"), /OpenSSL does not accept "NO-SUCH-CIPHER"/);
  assert.throws(() => proxy.engine.options.setText("tls_ecdh_curve_server", "P-999"), /OpenSSL does not accept "P-999"/);
});

test("certs: a host matching a [domain=]path entry gets that certificate, wildcards included; others get pryx's; a PEM without its key is refused", { timeout: 15_000 }, async (t) => {
  const dir = tempDir("pryx-certs-");
  const own = selfSignedCert("own certificate", [], ["custom.test", "a.wild.test"]);
  const file = path.join(dir, "own.pem");
  fs.writeFileSync(file, `${own.certPem}\n${own.keyPem}\n`);
  const proxy = await startProxy({ options: { certs: `custom.test=${file},*.wild.test=${file}` } });
  closeAfter(t, proxy);
  const target = "127.0.0.1:9";
  const ownFingerprint = new X509Certificate(own.certPem).fingerprint256;
  for (const name of ["custom.test", "a.wild.test"]) {
    const c = await tlsViaProxy(proxy.port, { target, servername: name, ca: [own.certPem] });
    assert.equal(c.getPeerX509Certificate()?.fingerprint256, ownFingerprint, name);
    c.destroy();
  }
  const other = await tlsViaProxy(proxy.port, { target, servername: "other.test" });
  assert.match(other.getPeerX509Certificate()?.issuer ?? "", /pryx/i);
  other.destroy();

  const keyless = path.join(dir, "keyless.pem");
  fs.writeFileSync(keyless, own.certPem);
  assert.throws(() => proxy.engine.options.setText("certs", `x.test=${keyless}`), /keyless\.pem holds no private key/);
});

test("cert_passphrase opens a certs entry whose key is stored encrypted; without it, or with a wrong one, the start is refused naming the file", { timeout: 15_000 }, async (t) => {
  const dir = tempDir("pryx-certs-enc-");
  const own = selfSignedCert("encrypted key", [], ["locked.test"]);
  const encrypted = createPrivateKey(own.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "s3cret" }) as string;
  const file = path.join(dir, "locked.pem");
  fs.writeFileSync(file, `${own.certPem}\n${encrypted}`);
  const certs = `locked.test=${file}`;
  await assert.rejects(startProxy({ options: { certs } }), /locked\.pem: its private key is encrypted: give its passphrase with --set cert_passphrase/);
  await assert.rejects(startProxy({ options: { certs, cert_passphrase: "wrong" } }), /locked\.pem: cannot open its private key with cert_passphrase/);
  const proxy = await startProxy({ options: { certs, cert_passphrase: "s3cret" } });
  closeAfter(t, proxy);
  const c = await tlsViaProxy(proxy.port, { target: "127.0.0.1:9", servername: "locked.test", ca: [own.certPem] });
  assert.equal(c.getPeerX509Certificate()?.fingerprint256, new X509Certificate(own.certPem).fingerprint256);
  c.destroy();
});

test("request_client_cert asks the client for a certificate and records the chain it sends in client_conn; off, none is asked for", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("mutual"));
  const asking = await startProxy({ options: { ssl_insecure: "true", request_client_cert: "true" } });
  const plain = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, asking, plain, origin);
  const mine = selfSignedCert("pryx test client", [], ["client.test"]);
  const getWithCert = async (port: number): Promise<string[]> => {
    const socket = await connectTunnel(port, `127.0.0.1:${origin.port}`);
    const c = tls.connect({ socket, servername: "app.test", ca: [pryxCaPem()], cert: mine.certPem, key: mine.keyPem, ALPNProtocols: ["http/1.1"] });
    await once(c, "secureConnect");
    c.write("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
    const chunks: Buffer[] = [];
    for await (const d of c) chunks.push(d as Buffer);
    assert.match(Buffer.concat(chunks).toString("latin1"), /^HTTP\/1\.1 200[\s\S]*mutual$/);
    const proxy = port === asking.port ? asking : plain;
    const [f] = await proxy.waitFinished(1);
    return (proxy.engine.store.get(f?.id ?? "") as HTTPFlow).client_conn.certificate_list;
  };
  const chain = await getWithCert(asking.port);
  assert.deepEqual(chain.map((pem) => new X509Certificate(pem).fingerprint256), [new X509Certificate(mine.certPem).fingerprint256]);
  assert.deepEqual(await getWithCert(plain.port), [], "not asked, the client sends none");
});

test("client_certs: a server that asks for a client certificate gets the PEM's, from a file or from HOST.pem in a directory; without one it refuses", { timeout: 15_000 }, async (t) => {
  const dir = tempDir("pryx-client-certs-");
  const mine = selfSignedCert("pryx client", [], [], "client");
  const file = path.join(dir, "client.pem");
  fs.writeFileSync(file, `${mine.certPem}\n${mine.keyPem}\n`);
  fs.mkdirSync(path.join(dir, "per-host"));
  fs.writeFileSync(path.join(dir, "per-host", "app.test.pem"), `${mine.certPem}\n${mine.keyPem}\n`);
  const cert = originCertificate();
  const origin = https.createServer({ key: cert.keyPem, cert: cert.certPem, requestCert: true, rejectUnauthorized: true, ca: [mine.certPem] }, (req, res) => {
    res.end(`hello ${(req.socket as tls.TLSSocket).getPeerCertificate().subject.CN}`);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => origin.close(() => r())) });
  const req = { target: `127.0.0.1:${portOf(origin)}`, servername: "app.test", path: "/" };

  const refused = await httpsViaProxy(proxy.port, req);
  assert.equal(refused.status, 502, "no client certificate: the server refuses");
  // Said so, with the option that gives one (TLS 1.3's "certificate required" alert).
  assert.match(refused.body.toString(), /the server asks for a client certificate \(give one with --set client_certs=FILE, or put HOST\.pem for this server in the client_certs directory\)/);
  for (const where of [file, path.join(dir, "per-host")]) {
    proxy.engine.options.setText("client_certs", where);
    const res = await httpsViaProxy(proxy.port, req);
    assert.equal(res.body.toString(), "hello pryx client", where);
  }
  assert.throws(() => proxy.engine.options.setText("client_certs", path.join(dir, "nowhere")), /does not exist/);
});

test("client_certs: a file replaced on disk is the certificate of the next server connection; ssl_insecure turned off verifies the next one", { timeout: 15_000 }, async (t) => {
  const dir = tempDir("pryx-client-certs-");
  const first = selfSignedCert("first client", [], [], "client");
  const second = selfSignedCert("second client", [], [], "client");
  const file = path.join(dir, "client.pem");
  fs.writeFileSync(file, `${first.certPem}\n${first.keyPem}\n`);
  const cert = originCertificate();
  // Each answer closes its connection, so each request is a new server connection.
  const origin = https.createServer({ key: cert.keyPem, cert: cert.certPem, requestCert: true, rejectUnauthorized: true, ca: [first.certPem, second.certPem] }, (req, res) => {
    res.setHeader("Connection", "close");
    res.end(`hello ${(req.socket as tls.TLSSocket).getPeerCertificate().subject.CN}`);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ options: { ssl_insecure: "true", client_certs: file } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => origin.close(() => r())) });
  const req = { target: `127.0.0.1:${portOf(origin)}`, servername: "app.test", path: "/" };
  assert.equal((await httpsViaProxy(proxy.port, req)).body.toString(), "hello first client");
  fs.writeFileSync(file, `${second.certPem}\n${second.keyPem}\n`);
  assert.equal((await httpsViaProxy(proxy.port, req)).body.toString(), "hello second client");
  proxy.engine.options.setText("ssl_insecure", "false");
  const verified = await httpsViaProxy(proxy.port, req);
  assert.equal(verified.status, 502, "the origin's own certificate is not trusted");
});

test("a client_certs file, or a certs entry, that is no certificate with its own key is refused when set, naming the file, not when every handshake fails later", async (t) => {
  const dir = tempDir("pryx-bad-certs-");
  const mine = selfSignedCert("pryx client", [], ["own.test"], "client");
  const other = selfSignedCert("another", [], ["other.test"]);
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const garbage = write("garbage.pem", "garbage\n");
  const certOnly = write("cert-only.pem", mine.certPem);
  const mismatch = write("mismatch.pem", `${mine.certPem}\n${other.keyPem}\n`);
  const good = write("good.pem", `${mine.certPem}\n${mine.keyPem}\n`);
  const proxy = await startProxy();
  closeAfter(t, proxy);
  const set = (name: string, value: string) => () => proxy.engine.options.setText(name, value);
  assert.throws(set("client_certs", garbage), /garbage\.pem holds no PEM certificate/);
  assert.throws(set("client_certs", certOnly), /cert-only\.pem holds no private key/);
  assert.throws(set("client_certs", mismatch), /mismatch\.pem: the private key does not belong to the certificate/);
  fs.mkdirSync(path.join(dir, "per-host"));
  fs.copyFileSync(mismatch, path.join(dir, "per-host", "app.test.pem"));
  assert.throws(set("client_certs", path.join(dir, "per-host")), /app\.test\.pem: the private key does not belong to the certificate/, "each HOST.pem of a directory");
  assert.doesNotThrow(set("client_certs", good));
  assert.throws(set("certs", `own.test=${mismatch}`), /mismatch\.pem: the private key does not belong to the certificate/);
  assert.doesNotThrow(set("certs", `own.test=${good}`));
});
