import fs from "node:fs";
import tls from "node:tls";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { certificatesIn } from "./pem.ts";

/** One `certs` entry: the hosts it serves and its PEM (certificate chain, leaf first, and key). */
export interface CustomCert {
  pattern: string;
  file: string;
  certPem: string;
  keyPem: string;
}

const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )?PRIVATE KEY-----/;

/** `cert_passphrase`, for keys stored encrypted; `strict`: an encrypted key without one is an error now. */
export interface KeyAccess {
  passphrase: string | undefined;
  strict: boolean;
}

/** Checks the key opens; an encrypted one without a passphrase waits for `strict` (the option may come next). */
function checkKey(file: string, key: string, access: KeyAccess, leaf: X509Certificate): void {
  const encrypted = key.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----") || /^Proc-Type: 4,ENCRYPTED$/m.test(key);
  if (encrypted && access.passphrase === undefined) {
    if (!access.strict) return;
    throw new Error(`${file}: its private key is encrypted: give its passphrase with --set cert_passphrase=…`);
  }
  let opened: KeyObject;
  try {
    opened = createPrivateKey(encrypted ? { key, passphrase: access.passphrase } : key);
  } catch (err) {
    throw new Error(encrypted ? `${file}: cannot open its private key with cert_passphrase: ${(err as Error).message}` : `${file}: ${(err as Error).message}`);
  }
  // A key of another certificate failed every handshake later ("no suitable signature algorithm").
  if (!leaf.checkPrivateKey(opened)) throw new Error(`${file}: the private key does not belong to the certificate (the first in the file)`);
}

/**
 * Reads mitmproxy's `certs` entries, "[domain=]path": the domain may hold `*` wildcards and is
 * `*` when left out; the PEM file holds the chain (leaf first) and the private key, encrypted
 * or not. A file that cannot be read, or lacks either, is an error naming it.
 */
export function readCustomCerts(entries: readonly string[], access: KeyAccess = { passphrase: undefined, strict: false }): CustomCert[] {
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
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(certs[0] as string);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
    checkKey(file, key, access, leaf);
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

  set(certs: readonly CustomCert[], protocol: tls.SecureContextOptions, passphrase: string | undefined): void {
    this.entries = certs.map((cert) => ({
      hosts: patternRegex(cert.pattern),
      context: tls.createSecureContext({ key: cert.keyPem, cert: cert.certPem, ...(passphrase === undefined ? {} : { passphrase }), ...protocol }),
    }));
  }

  contextFor(host: string): tls.SecureContext | undefined {
    if (this.entries.length === 0) return undefined;
    const name = host.toLowerCase();
    return this.entries.find((e) => e.hosts.test(name))?.context;
  }
}
