import fs from "node:fs";
import { X509Certificate } from "node:crypto";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of `ssl_verify_upstream_trusted_ca`, a PEM file: as in mitmproxy, when it is
 * set its CAs are the ones upstream servers are verified against, in place of the system's
 * (an internal service signed by a company CA is then verified instead of `-k`).
 * A file that is missing or holds no certificate is an error naming it.
 */
export function readTrustedCa(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (!certs.length) throw new Error(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const [i, pem] of certs.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`certificate ${i + 1} in ${file} is not valid: ${(err as Error).message}`);
    }
  }
  return certs;
}

/** Read once per path: upstream connections ask for every handshake. */
const cache = new Map<string, string[]>();

export function trustedCa(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  let certs = cache.get(file);
  if (!certs) {
    certs = readTrustedCa(file);
    cache.set(file, certs);
  }
  return certs;
}

/** Forgets what was read, so a file changed on disk is read again when the option is set again. */
export function forgetTrustedCa(): void {
  cache.clear();
}
