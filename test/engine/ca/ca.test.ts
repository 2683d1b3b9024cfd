import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import forge from 'node-forge';
import { CAError, CA_FILE_NAMES, caPaths, loadOrCreateCA } from '../../../src/engine/ca/ca.ts';
import type { CAPaths } from '../../../src/engine/ca/ca.ts';
import { tmpConfdir } from './tmp-confdir.ts';

const DAY = 24 * 60 * 60 * 1000;

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

function snapshot(paths: CAPaths): Map<string, Buffer> {
  return new Map([paths.key, paths.certPem, paths.certCer, paths.certP12].map((f) => [f, fs.readFileSync(f)]));
}

function assertCAError(file: string, reason: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof CAError, `expected a CAError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.match(err.reason, reason);
    assert.ok(err.message.includes(file), 'message names the file');
    assert.match(err.message, /to have pryx create a new CA/);
    return true;
  };
}

test('first run creates the CA files with private modes; second run loads the same CA', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  const ca = await loadOrCreateCA(confdir);
  const paths = caPaths(confdir);
  assert.deepEqual(ca.paths, paths);

  assert.equal(mode(confdir), 0o700);
  assert.equal(mode(paths.key), 0o600);
  for (const file of [paths.certPem, paths.certCer, paths.certP12]) assert.ok(fs.statSync(file).isFile(), file);

  const keyFile = fs.readFileSync(paths.key, 'utf8');
  assert.ok(keyFile.indexOf('PRIVATE KEY-----') < keyFile.indexOf('BEGIN CERTIFICATE'), 'key first, then cert');
  assert.equal(fs.readFileSync(paths.certPem, 'utf8'), ca.certPem);
  assert.deepEqual(fs.readFileSync(paths.certCer), ca.certDer);
  assert.deepEqual(fs.readFileSync(paths.certP12), ca.p12);

  const x509 = new X509Certificate(ca.certPem);
  assert.equal(x509.fingerprint256, ca.fingerprint256);
  assert.equal(x509.subject, 'CN=pryx\nO=pryx');
  assert.equal(x509.issuer, x509.subject);
  assert.equal(x509.ca, true);
  assert.ok(x509.verify(x509.publicKey), 'self-signed');
  assert.ok(x509.checkPrivateKey(ca.issuer.privateKey));
  assert.deepEqual(new X509Certificate(ca.certDer).raw, x509.raw);

  const notBefore = Date.parse(x509.validFrom);
  const notAfter = Date.parse(x509.validTo);
  assert.ok(Math.abs(Date.now() - 2 * DAY - notBefore) < 60_000, 'backdated two days');
  assert.ok(notAfter - Date.now() > 3650 * DAY - 60_000, 'valid ten years');

  const cert = forge.pki.certificateFromPem(ca.certPem);
  assert.equal(cert.siginfo.algorithmOid, forge.pki.oids['sha256WithRSAEncryption']);
  assert.ok(Number.parseInt(cert.serialNumber.slice(0, 2), 16) < 0x80, 'positive serial');
  assert.ok(cert.serialNumber.length >= 16, 'serial has enough entropy');
  assert.deepEqual(cert.getExtension('basicConstraints'), { ...cert.getExtension('basicConstraints'), cA: true, critical: true });
  assert.deepEqual(cert.getExtension('keyUsage'), {
    ...cert.getExtension('keyUsage'), keyCertSign: true, cRLSign: true, digitalSignature: false, critical: true,
  });
  assert.ok(cert.getExtension('subjectKeyIdentifier'), 'has a subjectKeyIdentifier');

  const pfx = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(ca.p12.toString('binary')), false);
  const certBags = pfx.getBags({ bagType: forge.pki.oids['certBag'] })[forge.pki.oids['certBag']] ?? [];
  const keyBags = [forge.pki.oids['keyBag'], forge.pki.oids['pkcs8ShroudedKeyBag']]
    .flatMap((type) => pfx.getBags({ bagType: type })[type] ?? []);
  assert.equal(certBags.length, 1);
  assert.equal(keyBags.length, 0, 'the .p12 carries no key');
  assert.equal(forge.pki.certificateToPem(certBags[0]!.cert!).replace(/\r/g, ''), ca.certPem);

  const before = snapshot(paths);
  const again = await loadOrCreateCA(confdir);
  assert.equal(again.fingerprint256, ca.fingerprint256);
  assert.equal(again.keyPem, ca.keyPem);
  assert.deepEqual(snapshot(paths), before, 'loading leaves every file as it was');
});

test('a confdir that cannot be made is a CAError at once, not a loop (Node\'s recursive mkdir never returns under /proc)', { timeout: 10_000 }, async () => {
  await assert.rejects(loadOrCreateCA('/proc/pryx-nope/conf'), (err: unknown) => err instanceof CAError && /^\/proc\/pryx-nope\/conf cannot be used as the pryx config directory \(ENOENT/.test(err.message));
});

test('a confdir nested in directories that do not exist yet is made, private', async (t) => {
  const base = tmpConfdir((fn) => t.after(fn));
  const confdir = path.join(base, 'a', 'b');
  await loadOrCreateCA(confdir);
  assert.equal(mode(confdir), 0o700);
  assert.ok(fs.existsSync(caPaths(confdir).key));
});

test('an existing confdir keeps its own permissions', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  fs.mkdirSync(confdir, { mode: 0o755 });
  fs.chmodSync(confdir, 0o755);
  await loadOrCreateCA(confdir);
  assert.equal(mode(confdir), 0o755);
  assert.equal(mode(caPaths(confdir).key), 0o600);
});

test('a corrupt pryx-ca.pem is a CAError naming the file, and is left byte-identical', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  const { paths } = await loadOrCreateCA(confdir);
  const corrupt = Buffer.from(fs.readFileSync(paths.key, 'utf8').replace(/^(-----BEGIN PRIVATE KEY-----\n.{10})/, '$1!!!!'));
  fs.writeFileSync(paths.key, corrupt);
  const before = snapshot(paths);

  await assert.rejects(loadOrCreateCA(confdir), assertCAError(paths.key, /corrupt/));
  assert.deepEqual(snapshot(paths), before);
  assert.deepEqual(fs.readdirSync(confdir).sort(), Object.values(CA_FILE_NAMES).sort(), 'no stray files');

  fs.writeFileSync(paths.key, 'not a pem file at all');
  await assert.rejects(loadOrCreateCA(confdir), assertCAError(paths.key, /no PEM private key/));
  assert.equal(fs.readFileSync(paths.key, 'utf8'), 'not a pem file at all');
});

test('a key that does not match the certificate is a CAError', async (t) => {
  const a = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn), 'a'));
  const b = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn), 'b'));
  const mixed = a.keyPem + b.certPem;
  fs.writeFileSync(a.paths.key, mixed);
  await assert.rejects(loadOrCreateCA(a.paths.dir), assertCAError(a.paths.key, /does not match/));
  assert.equal(fs.readFileSync(a.paths.key, 'utf8'), mixed);
});

test('an unreadable pryx-ca.pem is a CAError', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  // A directory in its place fails to read even for root, unlike chmod 000.
  fs.mkdirSync(path.join(confdir, CA_FILE_NAMES.key), { recursive: true });
  await assert.rejects(loadOrCreateCA(confdir), assertCAError(caPaths(confdir).key, /cannot be read/));
});

test('a missing public copy is written again from pryx-ca.pem', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  const ca = await loadOrCreateCA(confdir);
  const before = snapshot(ca.paths);
  fs.rmSync(ca.paths.certCer);
  fs.rmSync(ca.paths.certPem);
  const again = await loadOrCreateCA(confdir);
  assert.equal(again.fingerprint256, ca.fingerprint256);
  assert.deepEqual(fs.readFileSync(ca.paths.certCer), before.get(ca.paths.certCer));
  assert.deepEqual(fs.readFileSync(ca.paths.certPem), before.get(ca.paths.certPem));
});

test('a corrupt or foreign public copy is a CAError and is not overwritten', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  const ca = await loadOrCreateCA(confdir);
  const other = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn), 'other'));

  fs.writeFileSync(ca.paths.certCer, 'garbage');
  await assert.rejects(loadOrCreateCA(confdir), assertCAError(ca.paths.certCer, /corrupt/));
  assert.equal(fs.readFileSync(ca.paths.certCer, 'utf8'), 'garbage');
  fs.writeFileSync(ca.paths.certCer, ca.certDer);

  fs.writeFileSync(ca.paths.certPem, other.certPem);
  await assert.rejects(loadOrCreateCA(confdir), assertCAError(ca.paths.certPem, /different certificate/));
  assert.equal(fs.readFileSync(ca.paths.certPem, 'utf8'), other.certPem);
  fs.writeFileSync(ca.paths.certPem, ca.certPem);

  fs.writeFileSync(ca.paths.certP12, other.p12);
  await assert.rejects(loadOrCreateCA(confdir), assertCAError(ca.paths.certP12, /different certificate/));
  fs.writeFileSync(ca.paths.certP12, ca.p12);

  assert.equal((await loadOrCreateCA(confdir)).fingerprint256, ca.fingerprint256);
});

test('public copies without pryx-ca.pem are a CAError, not a new CA over them', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  const ca = await loadOrCreateCA(confdir);
  fs.rmSync(ca.paths.key);
  await assert.rejects(loadOrCreateCA(confdir), assertCAError(ca.paths.certPem, /does not/));
  assert.equal(fs.existsSync(ca.paths.key), false);
  assert.equal(fs.readFileSync(ca.paths.certPem, 'utf8'), ca.certPem);
});

test('created says whether this call made the CA (the first run says so to the user)', async (t) => {
  const dir = tmpConfdir((fn) => t.after(fn));
  assert.equal((await loadOrCreateCA(dir)).created, true);
  assert.equal((await loadOrCreateCA(dir)).created, false);
});

test('several starts at once on a new confdir all get the one CA, made once, and leave no temporary file', async (t) => {
  const dir = tmpConfdir((fn) => t.after(fn));
  const cas = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateCA(dir)));
  assert.equal(cas.filter((ca) => ca.created).length, 1);
  assert.ok(cas.every((ca) => ca.certPem === cas[0]!.certPem));
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test("a confdir holding mitmproxy's CA (mitmproxy-ca.pem) gets that CA, not a new one: what trusts mitmproxy trusts pryx", async (t) => {
  const theirs = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn), 'mitmproxy-made'));
  const dir = tmpConfdir((fn) => t.after(fn));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.copyFileSync(theirs.paths.key, path.join(dir, 'mitmproxy-ca.pem'));
  const ca = await loadOrCreateCA(dir);
  assert.equal(ca.fingerprint256, theirs.fingerprint256);
  assert.equal(ca.adoptedFrom, path.join(dir, 'mitmproxy-ca.pem'));
  assert.equal(ca.created, true, 'the start-up still tells the user, naming the file it took');
  const again = await loadOrCreateCA(dir);
  assert.equal(again.fingerprint256, theirs.fingerprint256);
  assert.equal(again.adoptedFrom, undefined);
});

test('a pryx-ca.pem pryx may not read says to fix its access, not to make a new CA that every device would have to trust again; a confdir that is a file says so', async (t) => {
  const confdir = tmpConfdir((fn) => t.after(fn));
  const ca = await loadOrCreateCA(confdir);
  // As when the CA was made by "sudo pryx" (the tests run as root, where chmod 000 does not stop a read).
  const readFile = fs.promises.readFile;
  t.mock.method(fs.promises, 'readFile', ((file: fs.PathLike, ...rest: unknown[]) => {
    if (file === ca.paths.key) return Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${ca.paths.key}'`), { code: 'EACCES' }));
    return (readFile as (...a: unknown[]) => Promise<Buffer>)(file, ...rest);
  }) as typeof fs.promises.readFile);
  await assert.rejects(loadOrCreateCA(confdir), (err: unknown) => {
    assert.ok(err instanceof CAError);
    assert.match(err.message, /cannot be read \(EACCES.*Give the user pryx runs as read access to it/);
    assert.doesNotMatch(err.message, /create a new CA/);
    return true;
  });
  t.mock.restoreAll();
  const parent = tmpConfdir((fn) => t.after(fn), 'parent');
  fs.mkdirSync(parent, { recursive: true });
  const file = path.join(parent, 'not-a-dir');
  fs.writeFileSync(file, 'x');
  await assert.rejects(loadOrCreateCA(file), /not-a-dir is not a directory|not a directory/);
});
