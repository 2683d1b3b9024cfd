/**
 * Per-host certificates that pryx presents to clients in place of the real server's.
 *
 * All leaves share one ECDSA P-256 key pair, made once per instance: key generation
 * is the expensive step, and a shared interception key costs nothing in security
 * (the CA key is the secret that matters). A new host then costs one signature.
 * Certificates and their `tls.SecureContext`s are cached together in a bounded
 * LRU, so the steady state of a session costs nothing at all.
 *
 * A host's first connection borrows one shared context, its certificate set into it just
 * before the TLS socket is made (OpenSSL copies a context's certificate and key into each
 * connection as it is made, so the next host's certificate does not reach this one). Only a
 * host seen again gets a context of its own: making one costs ~1 ms here, as OpenSSL 3
 * decodes the key anew for each, and most hosts of a browsing session are seen once or
 * twice. Sharing it cut first contact with a new host from ~9 to ~7 ms of pryx's CPU.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import forge from 'node-forge';
import type { CertificateAuthority, LeafIssuer } from './ca.ts';
import { certificatePem } from './pem.ts';
import { asciiHost } from '../flow/host-name.ts';
import { DAY_MS, PLACEHOLDER_PUBLIC_KEY, certificateToDer, generateEcKeyPair, randomSerial, signCertificate } from './x509.ts';
import type { EcKeyPair } from './x509.ts';

export interface LeafCertificate {
  readonly host: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
}

/** A cached certificate and, once its host came back, its own context. */
interface CachedLeaf extends LeafCertificate {
  context?: tls.SecureContext;
  /** Its first connection had the shared context. */
  lent?: boolean;
}

/** The shape of `tls.createServer({ SNICallback })`. */
export type SNICallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;

export const DEFAULT_LEAF_CACHE_CAPACITY = 1000;
/** Enough for the burst of hosts a web page comes back to, refilled one at a time. */
const SPARE_CONTEXTS = 4;
/**
 * At most 365 days: Apple rejects TLS leaves valid for more than 398, and pryx
 * re-issues long before expiry anyway.
 */
const LEAF_LIFETIME_MS = 365 * DAY_MS;
/** Tolerates clients whose clock runs behind ours. */
const LEAF_BACKDATE_MS = DAY_MS;
/** A cached certificate this close to expiry is re-issued so no handshake sees it lapse. */
const EXPIRY_BUFFER_MS = 60 * 60 * 1000;
/** X.520 upper bound for commonName; the full name is in the SAN, which is what clients check. */
const MAX_CN_LENGTH = 64;

export class LeafCertificates {
  readonly capacity: number;
  readonly #issuer: LeafIssuer;
  readonly #keys: EcKeyPair;
  /** Map iteration order is insertion order, so re-inserting on a hit makes the first key the least recently used. */
  readonly #cache = new Map<string, CachedLeaf>();
  /** The TLS versions (and the ciphers they need) clients may use; see `setProtocol`. */
  #protocol: Pick<tls.SecureContextOptions, "minVersion" | "maxVersion" | "ciphers" | "ecdhCurve"> = { ciphers: CLIENT_CIPHERS };
  /** Contexts made ahead with the key and protocol, waiting for a host's certificate. */
  readonly #spares: tls.SecureContext[] = [];
  /** The context a host's first connection borrows (see the file's comment); made on first need. */
  #shared: tls.SecureContext | undefined;
  #refill: NodeJS.Immediate | undefined;

  constructor(ca: CertificateAuthority, capacity: number = DEFAULT_LEAF_CACHE_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`leaf certificate cache capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#issuer = ca.issuer;
    this.#keys = generateEcKeyPair();
    this.#refillSoon();
  }

  /**
   * A context presenting `host`'s certificate, for a TLS socket (or an SNICallback's answer)
   * made before anything else asks for one: a host's first is the shared context, which the
   * next new host's certificate replaces.
   */
  contextFor(host: string): tls.SecureContext {
    const leaf = this.#leaf(host);
    if (leaf.context) return leaf.context;
    if (!leaf.lent) {
      leaf.lent = true;
      const shared = (this.#shared ??= this.#keyedContext());
      setCert(shared, leaf.certPem);
      return shared;
    }
    leaf.context = this.#context(leaf.certPem);
    return leaf.context;
  }

  /** Base64 SHA-256 of the SPKI every certificate of this run carries (one key pair a run). */
  get spkiSha256(): string {
    return this.#keys.spkiSha256;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Versions, ciphers and curves for the handshakes from now on (the `*_client` TLS options). */
  setProtocol(protocol: Pick<tls.SecureContextOptions, "minVersion" | "maxVersion" | "ciphers" | "ecdhCurve">): void {
    this.#protocol = protocol;
    // The certificates stay; only their contexts carry the protocol, so no host is signed again.
    this.#spares.length = 0;
    this.#shared = undefined;
    for (const leaf of this.#cache.values()) leaf.context = undefined;
  }

  /** The certificate for `host` (a DNS name or an IP address, brackets allowed), issued on first use. */
  get(host: string): LeafCertificate {
    return this.#leaf(host);
  }

  #leaf(host: string): CachedLeaf {
    // A name that is a key is already in normal form (normalizeHost leaves its output as it is):
    // the common case, a repeated SNI, skips normalizing.
    const key = this.#cache.has(host) ? host : normalizeHost(host);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      if (cached.notAfter.getTime() - Date.now() > EXPIRY_BUFFER_MS) {
        this.#cache.set(key, cached);
        return cached;
      }
    }
    const fresh = this.#issue(key);
    this.#cache.set(key, fresh);
    if (this.#cache.size > this.capacity) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return fresh;
  }

  /** For `tls.createServer({ SNICallback })`: answers each ClientHello's server name from the cache. */
  sniCallback(): SNICallback {
    return (servername, cb) => {
      let ctx: tls.SecureContext;
      try {
        ctx = this.contextFor(servername);
      } catch (err) {
        cb(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      cb(null, ctx);
    };
  }

  /** A context for a host's certificate: one made ahead when there is one. */
  #context(certPem: string): tls.SecureContext {
    const context = this.#spares.pop() ?? this.#keyedContext();
    this.#refillSoon();
    setCert(context, certPem);
    return context;
  }

  /**
   * A context with the shared key and the protocol set, and no certificate yet. Making one is
   * most of what a new host costs after its signature (OpenSSL 3 decodes the key anew each time,
   * ~1 ms here), so a few are kept ready, made when the engine is idle rather than while a
   * client waits for the ServerHello.
   *
   * No resumable sessions: encrypting two stateless tickets per handshake was ~8% of a new
   * connection's CPU (measured), and a client resuming with a proxy on its own machine or LAN
   * saves next to nothing. OpenSSL would still send two TLS 1.3 stateful tickets, which Node's
   * server keeps no cache for: config/openssl.cnf (NumTickets = 0, loaded when bin/pryx.mjs
   * runs as a program) stops them; Node 20 has no API for it.
   */
  #keyedContext(): tls.SecureContext {
    return tls.createSecureContext({ key: this.#keys.keyPem, ciphers: CLIENT_CIPHERS, ...this.#protocol, honorCipherOrder: true, secureOptions: cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_PRIORITIZE_CHACHA });
  }

  #refillSoon(): void {
    if (this.#refill !== undefined || this.#spares.length >= SPARE_CONTEXTS) return;
    // One context a turn of the event loop, so a refill never holds up I/O for long.
    this.#refill = setImmediate(() => {
      this.#refill = undefined;
      this.#spares.push(this.#keyedContext());
      this.#refillSoon();
    });
    this.#refill.unref();
  }

  #issue(host: string): CachedLeaf {
    const issuer = this.#issuer;
    const cert = forge.pki.createCertificate();
    cert.version = 2;
    cert.publicKey = PLACEHOLDER_PUBLIC_KEY;
    cert.serialNumber = randomSerial();
    const now = Date.now();
    cert.validity.notBefore = new Date(now - LEAF_BACKDATE_MS);
    cert.validity.notAfter = new Date(Math.min(now + LEAF_LIFETIME_MS, issuer.notAfter.getTime()));
    cert.setSubject([
      { name: 'commonName', value: host.slice(0, MAX_CN_LENGTH) },
      { name: 'organizationName', value: 'pryx' },
    ]);
    cert.setIssuer([...issuer.subject]);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      // An ECDSA key signs; it never enciphers keys, so keyEncipherment would be wrong here.
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: subjectAltNames(host) },
      { name: 'subjectKeyIdentifier', value: this.#keys.keyIdentifier },
      { name: 'authorityKeyIdentifier', keyIdentifier: issuer.keyIdentifier },
    ]);
    signCertificate(cert, issuer.privateKey, this.#keys.spki);

    // Formatted rather than parsed back with X509Certificate, which cost a quarter of a millisecond.
    const certPem = `${certificatePem(certificateToDer(cert))}\n`;
    return {
      host,
      certPem,
      keyPem: this.#keys.keyPem,
      // X.509 time has whole seconds; forge drops the milliseconds.
      notAfter: new Date(Math.floor(cert.validity.notAfter.getTime() / 1000) * 1000),
    };
  }
}

/** Sets a context's certificate; Node types the native context as `any`, and setCert is what createSecureContext's `cert` calls. */
function setCert(context: tls.SecureContext, certPem: string): void {
  (context.context as { setCert(pem: string): void }).setCert(certPem);
}

/**
 * Node's ciphers with TLS_AES_128_GCM_SHA256 first, chosen by pryx rather than the client (whose
 * OpenSSL default asks for AES-256 with SHA-384): its handshake hashes are cheaper and its bulk
 * encryption does 10 AES rounds, not 14, for a key that is no weak point. A client that puts
 * ChaCha20 first (a phone without AES instructions) still gets it (SSL_OP_PRIORITIZE_CHACHA).
 */
export const CLIENT_CIPHERS = ["TLS_AES_128_GCM_SHA256", ...tls.DEFAULT_CIPHERS.split(":").filter((c) => c !== "TLS_AES_128_GCM_SHA256")].join(":");

/**
 * The cache key and certificate subject for a host: lowercase, without the
 * trailing root dot, IPv6 brackets or a zone index (which no certificate can name).
 */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (zone !== -1 && isIP(h.slice(0, zone)) === 6) h = h.slice(0, zone);
  if (isIP(h) !== 0) return h;
  if (h.endsWith('.')) h = h.slice(0, -1);
  // SNI carries ASCII (IDNs arrive as punycode); a name given as Unicode (an addon's) is named by
  // its punycode, what the client checks; anything else would be mangled in an IA5String SAN.
  h = asciiHost(h) ?? h;
  if (h.length === 0 || h.length > 253 || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(h)) {
    throw new Error(`cannot issue a certificate for host ${JSON.stringify(host)}: not a DNS name or IP address`);
  }
  return h;
}

interface AltName {
  type: number;
  value: string;
}

const SAN_DNS = 2;
const SAN_IP = 7;

function subjectAltNames(host: string): AltName[] {
  const family = isIP(host);
  if (family !== 0) return [{ type: SAN_IP, value: ipToBytes(host, family) }];
  const names: AltName[] = [{ type: SAN_DNS, value: host }];
  // Some TLS stacks refuse '_' in a DNS SAN even though such names resolve, so
  // these hosts also get the parent's wildcard, which matches them and is
  // accepted everywhere. A wildcard needs at least two labels after it and
  // cannot itself hide an underscore.
  if (host.includes('_')) {
    const parent = host.slice(host.indexOf('.') + 1);
    if (host.includes('.') && parent.includes('.') && !parent.includes('_')) {
      names.push({ type: SAN_DNS, value: `*.${parent}` });
    }
  }
  return names;
}

/**
 * Network-order bytes as a binary string, the form forge writes into an IP SAN.
 * (forge's own parser mistakes IPv4-mapped IPv6 such as `::ffff:1.2.3.4` for IPv4.)
 */
function ipToBytes(ip: string, family: number): string {
  if (family === 4) return String.fromCharCode(...ip.split('.').map(Number));
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head = '', rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return String.fromCharCode(...groups.flatMap((g) => [g >> 8, g & 0xff]));
}
