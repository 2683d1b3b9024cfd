/**
 * Glue between node-forge, which builds the certificates, and Node's native
 * crypto, which makes the keys and the signatures. forge's pure-JS RSA is the
 * slow part of minting a certificate (seconds for a key, tens of ms for a
 * signature), so it never touches a private key here.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
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

export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    forgePublicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

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

/** Same result as forge's `cert.sign(key, sha256)`, with the RSA operation done by OpenSSL. */
export function signCertificate(cert: forge.pki.Certificate, caKey: KeyObject): void {
  const sha256WithRSA = forge.pki.oids['sha256WithRSAEncryption'];
  cert.siginfo.algorithmOid = sha256WithRSA;
  cert.signatureOid = sha256WithRSA;
  cert.tbsCertificate = (forge.pki as unknown as ForgeTbs).getTBSCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, caKey).toString('binary');
}

export function certificateToDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

export const DAY_MS = 24 * 60 * 60 * 1000;
