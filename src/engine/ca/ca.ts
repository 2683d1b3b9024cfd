/**
 * The certificate authority that signs pryx's interception certificates.
 *
 * The CA lives in the confdir as `pryx-ca.pem` (key and certificate, the one
 * secret) plus three public copies of the certificate in the forms that
 * clients import. `pryx-ca.pem` is the source of truth: a missing public copy
 * is written again from it, but no existing file is ever replaced, because
 * users have installed that certificate into trust stores and a silently new
 * CA would break every one of them.
 */
import { makeDirectories } from "../make-directories.ts";
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import forge from 'node-forge';
import { DAY_MS, certificateToDer, generateRsaKeyPair, randomSerial, signCertificate } from './x509.ts';

/** mitmproxy's CA key and certificate, in its confdir. */
const MITMPROXY_CA_FILE = 'mitmproxy-ca.pem';

export const CA_FILE_NAMES = {
  key: 'pryx-ca.pem',
  certPem: 'pryx-ca-cert.pem',
  certCer: 'pryx-ca-cert.cer',
  certP12: 'pryx-ca-cert.p12',
} as const;

export interface CAPaths {
  readonly dir: string;
  /** Private key PEM followed by certificate PEM; mode 0600. */
  readonly key: string;
  /** The certificate as PEM: what curl, Node, Debian and macOS import. */
  readonly certPem: string;
  /** The certificate as DER: what Android and Windows import. */
  readonly certCer: string;
  /** PKCS#12 holding only the certificate, no password. */
  readonly certP12: string;
}

/** What `LeafCertificates` needs to sign leaves that chain to this CA. */
export interface LeafIssuer {
  /** The CA's subject, which becomes each leaf's issuer name. */
  readonly subject: readonly forge.pki.CertificateField[];
  /** The CA's subjectKeyIdentifier (binary string), for the leaves' authorityKeyIdentifier. */
  readonly keyIdentifier: string;
  readonly privateKey: KeyObject;
  /** A leaf must not outlive its issuer. */
  readonly notAfter: Date;
}

export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certDer: Buffer;
  /** The bytes of `pryx-ca-cert.p12`. */
  readonly p12: Buffer;
  readonly paths: CAPaths;
  /** SHA-256 of the DER certificate, `AB:CD:…`, for users to compare with what a device shows. */
  readonly fingerprint256: string;
  readonly notAfter: Date;
  readonly issuer: LeafIssuer;
  /** This call wrote it: the first run with this confdir, whose user has yet to trust it. */
  readonly created: boolean;
  /** The mitmproxy CA file it was made from (see `loadOrCreateCA`), when it was. */
  readonly adoptedFrom?: string;
}

export class CAError extends Error {
  override readonly name = 'CAError';
  /** The file (or confdir) at fault. */
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string, remedy: string) {
    super(`${file} ${reason}. ${remedy}`);
    this.file = file;
    this.reason = reason;
  }
}

export function caPaths(confdir: string): CAPaths {
  return {
    dir: confdir,
    key: path.join(confdir, CA_FILE_NAMES.key),
    certPem: path.join(confdir, CA_FILE_NAMES.certPem),
    certCer: path.join(confdir, CA_FILE_NAMES.certCer),
    certP12: path.join(confdir, CA_FILE_NAMES.certP12),
  };
}

const CA_LIFETIME_YEARS = 10;
/** Backdating covers clients whose clocks run behind. */
const CA_BACKDATE_MS = 2 * DAY_MS;

/** `keySize`: the RSA modulus of a CA made now (mitmproxy's key_size); an existing CA is kept as it is. */
export async function loadOrCreateCA(confdir: string, keySize = 2048): Promise<CertificateAuthority> {
  const paths = caPaths(confdir);
  await ensureConfdir(confdir);
  let keyFile = await readIfExists(paths.key, paths);
  let created = false;
  let adoptedFrom: string | undefined;
  if (keyFile === undefined) {
    await refuseOrphanedCopies(paths);
    // A confdir that holds mitmproxy's CA (~/.mitmproxy, or its file copied in): pryx takes that
    // CA, so the phones and browsers that trust mitmproxy trust pryx without a new install.
    const mitmproxyCa = path.join(confdir, MITMPROXY_CA_FILE);
    const mitmproxyKeyFile = await readIfExists(mitmproxyCa, paths);
    if (mitmproxyKeyFile !== undefined) adoptedFrom = mitmproxyCa;
    // If another pryx created the CA between our read and our write, this keeps theirs and we load it.
    created = await writeExclusively(paths, paths.key, mitmproxyKeyFile?.toString('latin1') ?? createCAKeyFile(keySize), 0o600);
    keyFile = await readIfExists(paths.key, paths);
    if (keyFile === undefined) {
      throw new CAError(paths.key, 'vanished right after pryx created it', recreateHint(paths));
    }
  }
  return { ...(await loadCA(paths, keyFile)), created, ...(created && adoptedFrom ? { adoptedFrom } : {}) };
}

// ---------------------------------------------------------------------------
// Creating

function createCAKeyFile(keySize: number): string {
  const keys = generateRsaKeyPair(keySize);
  const cert = forge.pki.createCertificate();
  cert.version = 2;
  cert.publicKey = keys.forgePublicKey;
  cert.serialNumber = randomSerial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - CA_BACKDATE_MS);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_LIFETIME_YEARS);
  cert.validity.notAfter = notAfter;
  const name: forge.pki.CertificateField[] = [
    { name: 'commonName', value: 'pryx' },
    { name: 'organizationName', value: 'pryx' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(cert, keys.privateKey);
  // Node's PEM uses LF line endings, forge's CRLF; LF is what the tools users paste into expect.
  const certPem = new X509Certificate(certificateToDer(cert)).toString();
  return keys.keyPem + certPem;
}

/**
 * Writes a CA file so that it appears complete or not at all, and never over an
 * existing one: a temporary file hard-linked into place. Another pryx starting on the
 * same confdir at the same moment otherwise read the file half-written and called it
 * corrupt. Does nothing when the name was taken meanwhile, and says whether it wrote the file.
 */
async function writeExclusively(paths: CAPaths, file: string, contents: string | Buffer, mode: number): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, contents, { mode, flag: 'wx' });
    await fs.chmod(tmp, mode); // the umask could have dropped owner bits
    try {
      await fs.link(tmp, file);
      return true;
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return false;
      // Some filesystems (FAT, some FUSE mounts) have no hard links; exclusive create still never overwrites.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(errorCode(err) ?? '')) throw err;
      try {
        await fs.writeFile(file, contents, { mode, flag: 'wx' });
        return true;
      } catch (err2) {
        if (errorCode(err2) === 'EEXIST') return false;
        throw err2;
      }
    }
  } catch (err) {
    throw new CAError(file, `could not be written (${describe(err)})`, `Check that ${paths.dir} is writable.`);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function ensureConfdir(confdir: string): Promise<void> {
  try {
    const created = makeDirectories(confdir, 0o700);
    // mkdir's mode passes through the umask; the CA key's directory must end up private.
    if (created !== undefined) await fs.chmod(confdir, 0o700);
  } catch (err) {
    throw new CAError(confdir, `cannot be used as the pryx config directory (${describe(err)})`,
      'Choose another confdir or fix its permissions.');
  }
}

/** Public copies without the key mean the key was lost; creating a new CA would overwrite what users installed. */
async function refuseOrphanedCopies(paths: CAPaths): Promise<void> {
  for (const file of [paths.certPem, paths.certCer, paths.certP12]) {
    // Re-reading the key skips the error when a concurrent pryx has just created the CA.
    if (await readIfExists(file, paths) !== undefined && await readIfExists(paths.key, paths) === undefined) {
      throw new CAError(file, `exists but ${CA_FILE_NAMES.key} (the CA key) does not`,
        `Move the pryx-ca-cert.* files away or delete ${paths.dir} to have pryx create a new CA.`);
    }
  }
}

// ---------------------------------------------------------------------------
// Loading

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

async function loadCA(paths: CAPaths, keyFile: Buffer): Promise<Omit<CertificateAuthority, 'created'>> {
  const bad = (reason: string): CAError => new CAError(paths.key, reason, recreateHint(paths));

  let keyPem: string | undefined;
  let keyFileCertPem: string | undefined;
  for (const m of keyFile.toString('latin1').matchAll(PEM_BLOCK)) {
    if (keyPem === undefined && (m[1] === 'PRIVATE KEY' || m[1] === 'RSA PRIVATE KEY')) keyPem = `${m[0]}\n`;
    if (keyFileCertPem === undefined && m[1] === 'CERTIFICATE') keyFileCertPem = `${m[0]}\n`;
  }
  if (keyPem === undefined) throw bad('is corrupt: it holds no PEM private key');
  if (keyFileCertPem === undefined) throw bad('is corrupt: it holds no PEM certificate');

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw bad(`is corrupt: its private key cannot be read (${describe(err)})`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(keyFileCertPem);
  } catch (err) {
    throw bad(`is corrupt: its certificate cannot be read (${describe(err)})`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw bad(`holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; pryx signs only with RSA CA keys`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw bad('holds a private key that does not match its certificate');
  if (!x509.ca) throw bad('holds a certificate that is not a CA (basicConstraints cA is not set)');
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= Date.now()) throw bad(`holds a CA certificate that expired on ${notAfter.toISOString()}`);

  let forgeCert: forge.pki.Certificate;
  try {
    forgeCert = forge.pki.certificateFromPem(keyFileCertPem);
  } catch (err) {
    throw bad(`holds a certificate pryx cannot sign with (${describe(err)})`);
  }
  const ski = forgeCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  const keyIdentifier = ski?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : forgeCert.generateSubjectKeyIdentifier().getBytes();

  const certDer = x509.raw;
  // The file's own text, so that what pryx serves and reports is exactly what is on disk.
  const pemFile = await ensurePublicCopy(paths, paths.certPem, Buffer.from(x509.toString()),
    (bytes) => sameCertificate(bytes, certDer));
  const certPem = pemFile.toString('latin1');
  await ensurePublicCopy(paths, paths.certCer, certDer, (bytes) => sameDerCertificate(bytes, certDer));
  const p12 = await ensurePublicCopy(paths, paths.certP12, certOnlyP12(forgeCert),
    (bytes) => p12HoldsCertificate(bytes, certDer));

  return {
    certPem,
    keyPem,
    certDer,
    p12,
    paths,
    fingerprint256: x509.fingerprint256,
    notAfter,
    issuer: { subject: forgeCert.subject.attributes, keyIdentifier, privateKey, notAfter },
  };
}

type Check = (bytes: Buffer) => true | string;

/** Returns the file's bytes, writing `fresh` first if the file is missing. */
async function ensurePublicCopy(paths: CAPaths, file: string, fresh: Buffer, check: Check): Promise<Buffer> {
  let bytes = await readIfExists(file, paths);
  if (bytes === undefined) {
    if (await writeExclusively(paths, file, fresh, 0o644)) return fresh;
    bytes = await readIfExists(file, paths);
    if (bytes === undefined) throw new CAError(file, 'vanished while pryx wrote it', recreateHint(paths, file));
  }
  const verdict = check(bytes);
  if (verdict !== true) throw new CAError(file, verdict, recreateHint(paths, file));
  return bytes;
}

function sameCertificate(bytes: Buffer, certDer: Buffer): true | string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(bytes);
  } catch (err) {
    return `is corrupt: it is not a certificate (${describe(err)})`;
  }
  return cert.raw.equals(certDer) ? true : `holds a different certificate than ${CA_FILE_NAMES.key}`;
}

/** Android and Windows read a .cer as DER only, so the same certificate in PEM form is still wrong. */
function sameDerCertificate(bytes: Buffer, certDer: Buffer): true | string {
  if (bytes.equals(certDer)) return true;
  const verdict = sameCertificate(bytes, certDer);
  return verdict === true ? 'holds the CA certificate, but not in DER form' : verdict;
}

function p12HoldsCertificate(bytes: Buffer, certDer: Buffer): true | string {
  let certs: Buffer[];
  try {
    const pfx = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(bytes.toString('binary')), false);
    const bags = pfx.getBags({ bagType: forge.pki.oids['certBag'] })[forge.pki.oids['certBag']] ?? [];
    certs = bags.flatMap((bag) => (bag.cert === undefined ? [] : [certificateToDer(bag.cert)]));
  } catch (err) {
    return `is corrupt: it is not a PKCS#12 file without password (${describe(err)})`;
  }
  if (certs.length === 0) return 'is corrupt: it holds no certificate';
  return certs.some((der) => der.equals(certDer)) ? true : `holds a different certificate than ${CA_FILE_NAMES.key}`;
}

function certOnlyP12(cert: forge.pki.Certificate): Buffer {
  // No key and no password: the file only carries the certificate to trust stores
  // (iOS, Android, Windows) whose import dialogs expect PKCS#12.
  const asn1 = forge.pkcs12.toPkcs12Asn1(null, cert, null, { friendlyName: 'pryx' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

// ---------------------------------------------------------------------------
// Helpers

async function readIfExists(file: string, paths: CAPaths): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') return undefined;
    // Not a broken CA, which a new one replaces: the devices trusting this one would have to trust another.
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CAError(file, `cannot be read (${describe(err)})`, `Give the user pryx runs as read access to it (a CA made by "sudo pryx" belongs to root), or run pryx as its owner; a new CA would have to be trusted again on every device.`);
    }
    if (code === 'ENOTDIR') throw new CAError(file, `cannot be read: ${paths.dir} is not a directory`, 'Give --confdir (or --set confdir=) a directory.');
    throw new CAError(file, `cannot be read (${describe(err)})`, recreateHint(paths, file));
  }
}

function recreateHint(paths: CAPaths, file: string = paths.key): string {
  if (file === paths.key) {
    return `Move it away (together with the pryx-ca-cert.* files) or delete ${paths.dir} to have pryx create a new CA.`;
  }
  return `Move it away to have pryx write it again from ${CA_FILE_NAMES.key}, ` +
    `or delete ${paths.dir} to have pryx create a new CA.`;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
