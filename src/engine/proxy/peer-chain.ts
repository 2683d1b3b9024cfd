import type tls from "node:tls";
import { certificatePem } from "../ca/pem.ts";

/**
 * The certificate chain a server sent, as PEM, for `server_conn.certificate_list`.
 *
 * Node gives the chain only through `getPeerCertificate(true)`, which turns every certificate
 * into a detailed object (names, key, extensions): ~180 µs per connection here, and even the
 * plain call costs ~80 µs, a sixth of a new upstream TLS connection. A server sends the same
 * chain on every connection, so each server's chain is kept with its leaf's fingerprint, and a
 * later connection only checks that fingerprint with `getPeerX509Certificate` (a microsecond).
 *
 * Node 20's `getPeerX509Certificate` takes the leaf out of OpenSSL's peer chain on a client
 * socket, after which `getPeerCertificate` returns `{}`: so it is asked only of servers already
 * known. A server whose certificate changed gets its leaf recorded alone that once, and its
 * whole chain read again on its next connection.
 */
const known = new Map<string, { leaf: string; chain: readonly string[] }>();
const MAX_SERVERS = 256;

/** `server`: what identifies the server's certificate (its address and the SNI sent to it). */
export function peerChain(t: tls.TLSSocket, server: string): string[] {
  const seen = known.get(server);
  if (seen !== undefined) {
    const leaf = t.getPeerX509Certificate();
    if (leaf?.fingerprint256 === seen.leaf) return [...seen.chain];
    known.delete(server);
    return leaf ? [leaf.toString().trimEnd()] : [];
  }
  const { leaf, chain } = detailedChain(t);
  if (leaf !== undefined) {
    if (known.size >= MAX_SERVERS) known.delete(known.keys().next().value as string);
    known.set(server, { leaf, chain });
  }
  return [...chain];
}

/** The chain a client presented (request_client_cert), as PEM: asked once per connection, so not kept. */
export function clientChain(t: tls.TLSSocket): string[] {
  return detailedChain(t).chain;
}

function detailedChain(t: tls.TLSSocket): { leaf: string | undefined; chain: string[] } {
  const chain: string[] = [];
  const seen = new Set<string>();
  let cert = t.getPeerCertificate(true);
  const leaf = cert?.fingerprint256;
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(certificatePem(cert.raw));
    cert = cert.issuerCertificate;
  }
  return { leaf, chain };
}
