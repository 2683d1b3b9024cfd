import tls from "node:tls";
import type { Options } from "../options.ts";
import { upstreamVerification } from "./trusted-ca.ts";

/** mitmproxy's names for the `tls_version_*` options. */
export const TLS_VERSIONS = ["UNBOUNDED", "SSL3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

const NODE_VERSION: Partial<Record<TlsVersionName, tls.SecureVersion>> = { TLS1: "TLSv1", TLS1_1: "TLSv1.1", TLS1_2: "TLSv1.2", TLS1_3: "TLSv1.3" };

export function validTlsVersion(v: unknown): void {
  if (v === "SSL3") throw new Error("SSL3 is not in the OpenSSL Node.js is built with: TLS1 is the oldest version pryx can speak");
}

/** A side's TLS versions as Node's options, and a key naming them for connection pools. */
export interface TlsVersions {
  key: string;
  tls: Pick<tls.SecureContextOptions, "minVersion" | "maxVersion" | "ciphers">;
}

/**
 * `tls_version_{client,server}_{min,max}` for one side (client: the clients' connections to
 * pryx; server: pryx's to servers). OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security
 * level, so allowing them lowers it to 0 for that side only, as testing an old client needs.
 */
export function tlsVersions(options: Options, side: "client" | "server", ciphers: string): TlsVersions {
  const min = NODE_VERSION[options.get<TlsVersionName>(`tls_version_${side}_min`)] ?? "TLSv1";
  const max = NODE_VERSION[options.get<TlsVersionName>(`tls_version_${side}_max`)] ?? "TLSv1.3";
  const legacy = min === "TLSv1" || min === "TLSv1.1";
  return { key: `${min}-${max}`, tls: { minVersion: min, maxVersion: max, ciphers: legacy ? `${ciphers}:@SECLEVEL=0` : ciphers } };
}

/** Everything about how pryx speaks TLS to servers: verification and versions, and one pool key for both. */
export function upstreamTls(options: Options): { key: string; tls: tls.ConnectionOptions } {
  const verify = upstreamVerification(options);
  const versions = tlsVersions(options, "server", tls.DEFAULT_CIPHERS);
  return { key: `${verify.key}|${versions.key}`, tls: { ...verify.tls, ...versions.tls } };
}

/** Whether a handshake failed because the two sides share no TLS version (rather than a certificate, say). */
export function noSharedVersion(err: Error & { code?: string }): boolean {
  return /unsupported protocol|protocol version|UNSUPPORTED_PROTOCOL|PROTOCOL_VERSION/i.test(`${err.code ?? ""} ${err.message}`);
}
