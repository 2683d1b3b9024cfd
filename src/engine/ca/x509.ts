/**
 * Glue between node-forge, which builds the certificates, and Node's native
 * crypto, which makes the keys and the signatures. forge's pure-JS RSA is the
 * slow part of minting a certificate (seconds for a key, tens of ms for a
 * signature), so it never touches a private key here.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** `getTBSCertificate` is part of forge's public `pki` object but missing from @types/node-forge. */
interface ForgeTbs {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
}

export interface RsaKeyPair {
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM, which both OpenSSL (tls.createSecureContext) and forge read. */
  readonly keyPem: string;
  readonly forgePublicKey: forge.pki.PublicKey;
}

export function generateRsaKeyPair(bits = 2048): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    forgePublicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

/**
 * An ECDSA P-256 key pair for leaf certificates: a TLS server signs every full handshake
 * with its key, and a P-256 signature costs a small fraction of an RSA-2048 one. forge
 * handles RSA keys only, so the certificate is built around a placeholder key and the
 * subject public key info is swapped for this one before signing (see `signCertificate`).
 */
export interface EcKeyPair {
  readonly privateKey: KeyObject;
  readonly keyPem: string;
  /** The SubjectPublicKeyInfo as forge ASN.1, for the certificate body. */
  readonly spki: forge.asn1.Asn1;
  /** RFC 5280 4.2.1.2 method 1: SHA-1 of the public key bits, as the SKI extension value. */
  readonly keyIdentifier: forge.asn1.Asn1;
  /** Base64 SHA-256 of the DER SubjectPublicKeyInfo, as Chromium's --ignore-certificate-errors-spki-list takes it. */
  readonly spkiSha256: string;
}

export function generateEcKeyPair(): EcKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const spki = forge.asn1.fromDer(spkiDer.toString('binary'));
  const bits = ((spki.value as forge.asn1.Asn1[])[1] as forge.asn1.Asn1).value as string;
  const digest = createHash('sha1').update(Buffer.from(bits.slice(1), 'binary')).digest('binary');
  return {
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki,
    keyIdentifier: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, digest),
    spkiSha256: createHash('sha256').update(spkiDer).digest('base64'),
  };
}

/** A syntactically valid RSA public key for forge to build around; it never ends up in a certificate. */
export const PLACEHOLDER_PUBLIC_KEY: forge.pki.PublicKey = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3', 10), new forge.jsbn.BigInteger('65537', 10));

/**
 * 16 random bytes as forge's hex serial. The top bit is cleared because DER
 * integers are signed (RFC 5280 wants a positive serial), and the first byte is
 * kept non-zero because forge writes the hex verbatim: a leading 0x00 would be a
 * non-minimal encoding that strict parsers reject.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) || 0x01;
  return bytes.toString('hex');
}

/**
 * Same result as forge's `cert.sign(key, sha256)`, with the RSA operation done by OpenSSL.
 * `spki`, when given, replaces the subject public key info forge wrote (an EC key).
 */
export function signCertificate(cert: forge.pki.Certificate, caKey: KeyObject, spki?: forge.asn1.Asn1): void {
  const sha256WithRSA = forge.pki.oids['sha256WithRSAEncryption'];
  cert.siginfo.algorithmOid = sha256WithRSA;
  cert.signatureOid = sha256WithRSA;
  cert.tbsCertificate = (forge.pki as unknown as ForgeTbs).getTBSCertificate(cert);
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  if (spki) (cert.tbsCertificate.value as forge.asn1.Asn1[])[6] = spki;
  const tbsDer = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, caKey).toString('binary');
}

export function certificateToDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

export const DAY_MS = 24 * 60 * 60 * 1000;
