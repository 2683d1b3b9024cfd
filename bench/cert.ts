import crypto from "node:crypto";
import forge from "node-forge";

export interface KeyAndCert {
  keyPem: string;
  certPem: string;
}

/**
 * A throwaway self-signed certificate for an HTTPS origin (the bench's, and the tests'). The
 * key comes from node's native crypto because forge's pure-JS RSA key generation takes seconds.
 */
export function selfSignedCert(commonName: string, ips: string[], dnsNames: string[], purpose: "server" | "client" = "server"): KeyAndCert {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = `01${crypto.randomBytes(8).toString("hex")}`;
  const now = Date.now();
  // Backdated so a clock a little behind still accepts it.
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + 7 * 24 * 3600 * 1000);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    purpose === "server" ? { name: "extKeyUsage", serverAuth: true } : { name: "extKeyUsage", clientAuth: true },
    { name: "subjectAltName", altNames: [...ips.map((ip) => ({ type: 7, ip })), ...dnsNames.map((value) => ({ type: 2, value }))] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}
