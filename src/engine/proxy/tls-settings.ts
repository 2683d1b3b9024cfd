import tls from "node:tls";
import fs from "node:fs";
import path from "node:path";
import type { Options } from "../options.ts";
import { upstreamVerification } from "./trusted-ca.ts";

/** mitmproxy's names for the `tls_version_*` options. */
export const TLS_VERSIONS = ["UNBOUNDED", "SSL3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

const NODE_VERSION: Partial<Record<TlsVersionName, tls.SecureVersion>> = { TLS1: "TLSv1", TLS1_1: "TLSv1.1", TLS1_2: "TLSv1.2", TLS1_3: "TLSv1.3" };

export function validTlsVersion(v: unknown): void {
  if (v === "SSL3") throw new Error("SSL3 is not in the OpenSSL Node.js is built with: TLS1 is the oldest version pryx can speak");
}

export type TlsSide = "client" | "server";

/** The options `tlsSettings` reads for a side: a change to any of them changes its settings. */
export function tlsOptionNames(side: TlsSide): string[] {
  return [`tls_version_${side}_min`, `tls_version_${side}_max`, `ciphers_${side}`, `tls_ecdh_curve_${side}`];
}

/** A side's TLS settings as Node's options, and a key naming them for connection pools. */
export interface TlsSettings {
  key: string;
  tls: Pick<tls.SecureContextOptions, "minVersion" | "maxVersion" | "ciphers" | "ecdhCurve">;
}

/**
 * mitmproxy's TLS options for one side (client: the clients' connections to pryx; server:
 * pryx's to servers): `tls_version_{side}_{min,max}`, `ciphers_{side}` (OpenSSL syntax, else
 * `defaultCiphers`) and `tls_ecdh_curve_{side}`. OpenSSL 3 refuses TLS 1.0 and 1.1 at its
 * default security level, so allowing them lowers it to 0 for that side only, as testing an
 * old client or server needs.
 */
export function tlsSettings(options: Options, side: TlsSide, defaultCiphers: string): TlsSettings {
  const [minName, maxName, ciphersName, curveName] = tlsOptionNames(side) as [string, string, string, string];
  const min = NODE_VERSION[options.get<TlsVersionName>(minName)] ?? "TLSv1";
  const max = NODE_VERSION[options.get<TlsVersionName>(maxName)] ?? "TLSv1.3";
  const legacy = min === "TLSv1" || min === "TLSv1.1";
  const chosen = options.get<string | undefined>(ciphersName) ?? defaultCiphers;
  const ciphers = legacy ? `${chosen}:@SECLEVEL=0` : chosen;
  const curve = options.get<string | undefined>(curveName);
  return { key: `${min}-${max}|${ciphers}|${curve ?? ""}`, tls: { minVersion: min, maxVersion: max, ciphers, ...(curve ? { ecdhCurve: curve } : {}) } };
}

/** Checks an OpenSSL cipher list or curve name the way a handshake would use it. */
export function validTlsSetting(what: "ciphers" | "ecdhCurve"): (v: unknown) => void {
  return (v) => {
    if (typeof v !== "string") return;
    try {
      tls.createSecureContext({ [what]: v });
    } catch (err) {
      throw new Error(`OpenSSL does not accept ${JSON.stringify(v)}: ${(err as Error).message}`);
    }
  };
}

/** Whether the `client_certs` path is a directory, asked once per path rather than per request. */
let clientCertsKind: { path: string; directory: boolean } | undefined;

/**
 * mitmproxy's `client_certs`: a PEM file (certificate and key) that pryx shows servers asking
 * for a client certificate, or a directory of them named after the server (`HOST.pem`). The
 * file a server would get, whether or not it exists: its name is part of the pool key, and
 * it is read only when a connection is made.
 */
function clientCertFile(options: Options, serverName: string): string | undefined {
  const where = options.get<string | undefined>("client_certs");
  if (!where) return undefined;
  if (clientCertsKind?.path !== where) clientCertsKind = { path: where, directory: fs.statSync(where, { throwIfNoEntry: false })?.isDirectory() ?? false };
  return clientCertsKind.directory ? path.join(where, `${serverName}.pem`) : where;
}

function readPem(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export function validClientCerts(v: unknown): void {
  if (typeof v !== "string") return;
  if (!fs.existsSync(v)) throw new Error(`${v} does not exist: give a PEM file, or a directory of HOST.pem files`);
  // Each file is a certificate and its key, checked now: one that is not broke every HTTPS request
  // later (even to servers that ask for no certificate) with OpenSSL's words and no file named.
  const files = fs.statSync(v).isDirectory() ? fs.readdirSync(v).filter((f) => f.endsWith(".pem")).map((f) => path.join(v, f)) : [v];
  for (const file of files) checkCertAndKey(file);
  clientCertsKind = undefined;
}

/** Throws, naming the file, unless it holds a PEM certificate and the private key that goes with it. */
function checkCertAndKey(file: string): void {
  const pem = fs.readFileSync(file, "utf8");
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new Error(`${file} holds no PEM certificate: give the client certificate and its private key in one PEM file`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error(`${file} holds no private key: put the certificate's key in the same PEM file`);
  try {
    tls.createSecureContext({ cert: pem, key: pem });
  } catch (err) {
    const why = /key values mismatch/i.test((err as Error).message) ? "the private key does not belong to the certificate" : (err as Error).message;
    throw new Error(`${file}: ${why}`);
  }
}

/**
 * Everything about how pryx speaks TLS to a server: verification, the settings above and a
 * client certificate. `key` is cheap, for the pool on every request; `connection` reads what a
 * new connection needs, with the name of its settings and certificate for its resumed sessions
 * (a session carries the client certificate it was made with).
 */
export function upstreamTls(options: Options, serverName: string): { key: string; connection: () => { options: tls.ConnectionOptions; contextName: string } } {
  const base = upstreamBase(options);
  const certFile = clientCertFile(options, serverName);
  return {
    key: `${base.key}|${certFile ?? ""}`,
    connection: () => {
      const { context, name } = clientContext(base, readPem(certFile));
      return { options: { rejectUnauthorized: base.tls.rejectUnauthorized, secureContext: context }, contextName: name };
    },
  };
}

/**
 * tls.connect without a `secureContext` makes one for every connection, from the options: an
 * OpenSSL context, the cipher list parsed, any trusted CAs decoded again (~0.5 ms of a new
 * server connection here). One context per settings and client certificate serves them all.
 */
const clientContexts = new Map<string, { context: tls.SecureContext; name: string }>();
const MAX_CLIENT_CONTEXTS = 64;
let contextsMade = 0;

function clientContext(base: UpstreamBase, pem: string | undefined): { context: tls.SecureContext; name: string } {
  // The certificate's text, not its file name: a file replaced on disk is read anew.
  const key = `${base.key}|${pem ?? ""}`;
  let made = clientContexts.get(key);
  if (made === undefined) {
    const { rejectUnauthorized: _, ...contextOptions } = base.tls;
    made = { context: tls.createSecureContext({ ...contextOptions, ...(pem ? { cert: pem, key: pem } : {}) }), name: `c${contextsMade++}` };
    if (clientContexts.size >= MAX_CLIENT_CONTEXTS) clientContexts.clear();
    clientContexts.set(key, made);
  }
  return made;
}

interface UpstreamBase {
  options: Options;
  generation: number;
  /** A short name for the verification and settings, as their full text holds the whole cipher list. */
  key: string;
  tls: tls.ConnectionOptions;
}

let base: UpstreamBase | undefined;
/** Full settings text → its short name; a handful of entries over a session. */
const baseNames = new Map<string, string>();

/** Verification and settings read once per change of the options, not per request. */
function upstreamBase(options: Options): UpstreamBase {
  if (base?.options === options && base.generation === options.generation) return base;
  const verify = upstreamVerification(options);
  const settings = tlsSettings(options, "server", tls.DEFAULT_CIPHERS);
  const full = `${verify.key}|${settings.key}`;
  let name = baseNames.get(full);
  if (name === undefined) {
    name = `s${baseNames.size}`;
    baseNames.set(full, name);
  }
  base = { options, generation: options.generation, key: name, tls: { ...verify.tls, ...settings.tls } };
  return base;
}

/** Whether a handshake failed because the two sides share no TLS version (rather than a certificate, say). */
export function noSharedVersion(err: Error & { code?: string }): boolean {
  return /unsupported protocol|protocol version|UNSUPPORTED_PROTOCOL|PROTOCOL_VERSION/i.test(`${err.code ?? ""} ${err.message}`);
}
