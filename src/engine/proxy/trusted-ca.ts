import fs from "node:fs";
import { X509Certificate } from "node:crypto";
import type tls from "node:tls";
import type { Options } from "../options.ts";
import { certificatesIn } from "../ca/pem.ts";


/** The certificates read per path: upstream connections ask for every handshake. */
const cache = new Map<string, string[]>();

/**
 * Reads the certificates of `ssl_verify_upstream_trusted_ca`, a PEM file, and keeps them for the
 * handshakes; the option's check calls it, so setting the option again reads the file again.
 * As in mitmproxy, its CAs are the ones upstream servers are verified against, in place of the
 * system's (an internal service signed by a company CA is verified instead of `-k`).
 * A file that is missing or holds no certificate is an error naming it.
 */
export function readTrustedCa(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const certs = certificatesIn(text);
  if (!certs.length) throw new Error(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const [i, pem] of certs.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`certificate ${i + 1} in ${file} is not valid: ${(err as Error).message}`);
    }
  }
  cache.set(file, certs);
  return certs;
}

/**
 * The certificates of `ssl_verify_upstream_trusted_confdir`: every file of the directory that
 * holds PEM certificates (a c_rehash directory links each under its hash too: read once), and
 * kept as the file's are. Files with none are passed over; a directory with none is an error.
 */
export function readTrustedCaDir(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch (err) {
    throw new Error(`cannot read the directory ${dir}: ${(err as Error).message}`);
  }
  const certs = new Set<string>();
  for (const name of names) {
    let text: string;
    try {
      text = fs.readFileSync(`${dir}/${name}`, "utf8");
    } catch {
      continue; // a subdirectory or a dangling link: not a certificate file
    }
    for (const pem of certificatesIn(text)) {
      try {
        new X509Certificate(pem);
        certs.add(pem);
      } catch {
        // Not one OpenSSL would load either.
      }
    }
  }
  if (certs.size === 0) throw new Error(`${dir} holds no file with a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  cache.set(`dir:${dir}`, [...certs]);
  return [...certs];
}

/**
 * How upstream servers are verified now (-k, a trusted CA file, or the system's store): the TLS
 * options for a handshake, and a key naming them, which the connection pool keeps connections
 * under so one made under -k is never reused once verification is on.
 */
export function upstreamVerification(options: Options): { key: string; tls: Pick<tls.ConnectionOptions, "rejectUnauthorized" | "ca"> } {
  if (options.get<boolean>("ssl_insecure")) return { key: "insecure", tls: { rejectUnauthorized: false } };
  const file = options.get<string | undefined>("ssl_verify_upstream_trusted_ca");
  const dir = options.get<string | undefined>("ssl_verify_upstream_trusted_confdir");
  if (!file && !dir) return { key: "system", tls: { rejectUnauthorized: true } };
  // As OpenSSL's CAfile and CApath: the two together, when both are set.
  const ca = [...(file ? (cache.get(file) ?? readTrustedCa(file)) : []), ...(dir ? (cache.get(`dir:${dir}`) ?? readTrustedCaDir(dir)) : [])];
  return { key: `ca:${file ?? ""}|dir:${dir ?? ""}`, tls: { rejectUnauthorized: true, ca } };
}
