import fs from "node:fs";
import tls from "node:tls";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { certificatesIn } from "./pem.ts";

/** One `certs` entry: the hosts it serves and its PEM (certificate chain, leaf first, and key). */
export interface CustomCert {
  pattern: string;
  file: string;
  certPem: string;
  keyPem: string;
}

const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * Reads mitmproxy's `certs` entries, "[domain=]path": the domain may hold `*` wildcards and is
 * `*` when left out; the PEM file holds the chain (leaf first) and the private key. A file
 * that cannot be read, or lacks either, is an error naming it.
 */
export function readCustomCerts(entries: readonly string[]): CustomCert[] {
  return entries.map((entry) => {
    const eq = entry.indexOf("=");
    const [pattern, file] = eq === -1 ? ["*", entry] : [entry.slice(0, eq), entry.slice(eq + 1)];
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`cannot read the certificate ${file}: ${(err as Error).message}`);
    }
    const certs = certificatesIn(text);
    const key = PEM_KEY.exec(text)?.[0];
    if (!certs.length) throw new Error(`${file} holds no PEM certificate`);
    if (!key) throw new Error(`${file} holds no private key: put the key in the same PEM file, after the certificates`);
    try {
      new X509Certificate(certs[0] as string);
      createPrivateKey(key);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
    return { pattern: pattern.toLowerCase(), file, certPem: certs.join("\n"), keyPem: key };
  });
}

/** A `certs` domain pattern (`*` for any run of characters) as a regex. */
function patternRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/** The secure contexts of the `certs` entries, the first entry whose pattern matches a host winning. */
export class CustomCertificates {
  /** Compiled when set: every TLS connection asks. */
  private entries: { hosts: RegExp; context: tls.SecureContext }[] = [];

  set(certs: readonly CustomCert[], protocol: tls.SecureContextOptions): void {
    this.entries = certs.map((cert) => ({ hosts: patternRegex(cert.pattern), context: tls.createSecureContext({ key: cert.keyPem, cert: cert.certPem, ...protocol }) }));
  }

  contextFor(host: string): tls.SecureContext | undefined {
    if (this.entries.length === 0) return undefined;
    const name = host.toLowerCase();
    return this.entries.find((e) => e.hosts.test(name))?.context;
  }
}
