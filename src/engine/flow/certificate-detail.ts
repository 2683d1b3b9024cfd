/**
 * What the Detail tab shows of a server's certificate, as mitmproxy's console does: key type and
 * size, SHA-256 digest, validity, serial, subject, issuer and alternative names, read from the
 * leaf's PEM with Node's X509Certificate. A PEM that does not parse (a hand-edited flow file)
 * gives the reason instead, so the tab still opens.
 */
import { X509Certificate } from "node:crypto";
import type { CertificateDetail } from "../../protocol.ts";

/**
 * Leaves read lately, by their PEM: a server's connections share its PEM strings (each gets a
 * copy of the chain's array from proxy/peer-chain.ts, not of its strings), so a leaf is parsed
 * once per server rather than per connection, as `pryx dump` at flow_detail 2 asks per flow.
 */
const read = new Map<string, CertificateDetail>();
const READ_MAX = 256;

export function leafCertificateDetail(chain: readonly string[]): CertificateDetail | undefined {
  const pem = chain[0];
  if (pem === undefined) return undefined;
  let detail = read.get(pem);
  if (!detail) {
    if (read.size >= READ_MAX) read.delete(read.keys().next().value as string);
    detail = certificateDetail(pem, 1);
    read.set(pem, detail);
  }
  return detail.chainLength === chain.length ? detail : { ...detail, chainLength: chain.length };
}

function keyType(cert: X509Certificate): string {
  const key = cert.publicKey;
  const d = key.asymmetricKeyDetails;
  const type = (key.asymmetricKeyType ?? "unknown").toUpperCase();
  if (d?.modulusLength) return `${type}, ${d.modulusLength} bits`;
  if (d?.namedCurve) return `${type}, ${d.namedCurve}`;
  return type;
}

/** "CN=a\nO=b" (Node's form) as "CN=a, O=b". */
function oneLine(name: string): string {
  return name.split("\n").filter(Boolean).join(", ");
}

/** "DNS:a.test, IP Address:127.0.0.1" as ["a.test", "127.0.0.1"]. */
function altNames(san: string | undefined): string[] {
  if (!san) return [];
  return san.split(", ").map((entry) => entry.slice(entry.indexOf(":") + 1));
}

export function certificateDetail(pem: string, chainLength: number): CertificateDetail {
  try {
    const cert = new X509Certificate(pem);
    return {
      type: keyType(cert),
      sha256: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
      validFrom: new Date(cert.validFrom).toISOString(),
      validTo: new Date(cert.validTo).toISOString(),
      serial: cert.serialNumber,
      subject: oneLine(cert.subject),
      issuer: oneLine(cert.issuer),
      altNames: altNames(cert.subjectAltName),
      chainLength,
    };
  } catch (err) {
    return { error: `unreadable certificate: ${(err as Error).message}`, chainLength };
  }
}
