import crypto from "node:crypto";
import fs from "node:fs";
import bcrypt from "bcryptjs";
import { shaCrypt } from "./sha-crypt.ts";

const BCRYPT = /^\$2[aby]?\$\d\d\$/;

/**
 * mitmproxy's `proxyauth` values: `user:pass`, `any` (any credentials are accepted, which is how
 * a tester records what clients send), or `@path` to an Apache htpasswd file. The HTTP proxy's
 * Basic Proxy-Authorization and SOCKS5's username/password both check through here.
 */
export type CredentialCheck = (user: string, pass: string) => boolean;

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function to64(v: number, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++, v >>= 6) out += ITOA64[v & 0x3f];
  return out;
}

const md5 = (...parts: (Buffer | string)[]): Buffer => {
  const h = crypto.createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * MD5-crypt: Apache's APR1 (`htpasswd -m`, its default: `$apr1$salt$hash`), or with `magic` "$1$"
 * the same algorithm as crypt(3) has it (`openssl passwd -1`).
 */
export function apr1(password: string, salt: string, magic: "$apr1$" | "$1$" = "$apr1$"): string {
  const pw = Buffer.from(password);
  const alt = md5(pw, salt, pw);
  const ctx = crypto.createHash("md5").update(pw).update(magic).update(salt);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(left, 16)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const round = crypto.createHash("md5");
    round.update(i & 1 ? pw : final);
    if (i % 3) round.update(salt);
    if (i % 7) round.update(pw);
    round.update(i & 1 ? final : pw);
    final = round.digest();
  }
  const b = (k: number): number => final[k] as number;
  const hash =
    to64((b(0) << 16) | (b(6) << 8) | b(12), 4) +
    to64((b(1) << 16) | (b(7) << 8) | b(13), 4) +
    to64((b(2) << 16) | (b(8) << 8) | b(14), 4) +
    to64((b(3) << 16) | (b(9) << 8) | b(15), 4) +
    to64((b(4) << 16) | (b(10) << 8) | b(5), 4) +
    to64(b(11), 2);
  return `${magic}${salt}$${hash}`;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

/**
 * Whether `password` matches an htpasswd hash; the formats are htpasswd's -m, -s, -p and -B
 * (bcrypt, through bcryptjs: its cost is the point of it, and a hand-made copy of Blowfish's
 * key schedule would be a liability), and crypt's MD5 ($1$) and SHA ($5$, $6$).
 */
function matches(hash: string, password: string): boolean {
  if (BCRYPT.test(hash)) return bcrypt.compareSync(password, hash);
  if (/^\$[56]\$/.test(hash)) return same(shaCrypt(password, hash) ?? "", hash);
  for (const magic of ["$apr1$", "$1$"] as const) {
    if (hash.startsWith(magic)) return same(apr1(password, hash.slice(magic.length).split("$")[0] ?? "", magic), hash);
  }
  if (hash.startsWith("{SHA}")) return same(`{SHA}${crypto.createHash("sha1").update(password).digest("base64")}`, hash);
  return same(password, hash);
}

/** An htpasswd file's entries; a format pryx cannot check is an error naming the line. */
export function readHtpasswd(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read the htpasswd file ${file}: ${(err as Error).message}`);
  }
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`${file}:${i + 1}: expected user:hash`);
    const hash = line.slice(colon + 1).trim();
    if (hash.length === 13 && /^[./0-9A-Za-z]{13}$/.test(hash)) {
      throw new Error(`${file}:${i + 1}: crypt(3)'s DES hashes (htpasswd -d) are not supported: they keep 8 characters of a password; use htpasswd -B (bcrypt), -m (MD5, htpasswd's default) or -s (SHA1)`);
    }
    users.set(line.slice(0, colon), hash);
  });
  return users;
}

/** The check for a `proxyauth` value; an unreadable or unsupported htpasswd file throws here, at set time. */
export function credentialCheck(spec: string): CredentialCheck {
  if (spec === "any") return () => true;
  if (spec.startsWith("@")) {
    const users = readHtpasswd(spec.slice(1));
    return (user, pass) => {
      const hash = users.get(user);
      return hash !== undefined && matches(hash, pass);
    };
  }
  const colon = spec.indexOf(":");
  if (colon < 0) throw new Error("expected user:pass, any, or @path to an htpasswd file");
  return (user, pass) => same(`${user}:${pass}`, spec);
}

/** The username and password of a `Basic` header value that `check` accepts, else undefined. */
export function acceptedBasic(check: CredentialCheck, header: string | undefined): [string, string] | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const pair = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = pair.indexOf(":");
  if (colon < 0) return undefined;
  const user = pair.slice(0, colon);
  const pass = pair.slice(colon + 1);
  return check(user, pass) ? [user, pass] : undefined;
}

/**
 * Which header carries a client's credentials: Proxy-Authorization for an explicit proxy; in
 * reverse mode, where clients take pryx for the server, Authorization (mitmproxy does the same).
 */
export function authHeaders(reverse: boolean): { ask: string; answer: string; status: number; reason: string } {
  return reverse
    ? { ask: "www-authenticate", answer: "authorization", status: 401, reason: "Unauthorized" }
    : { ask: "proxy-authenticate", answer: "proxy-authorization", status: 407, reason: "Proxy Authentication Required" };
}

/**
 * The checker for the current option value, made once per value; and the credentials each
 * client was let in with, which its flows carry as mitmproxy's do (`flow.metadata.proxyauth`,
 * `[user, password]`), so `any` records what clients send.
 */
export class ProxyCredentials {
  private spec: string | undefined;
  private check: CredentialCheck | undefined;
  private readonly accepted = new WeakMap<object, [string, string]>();

  remember(client: object, credentials: [string, string]): void {
    this.accepted.set(client, credentials);
  }

  /** The client's last credentials were refused: its refused flow, and any after it, carry none from before. */
  forget(client: object): void {
    this.accepted.delete(client);
  }

  /** Sets `metadata.proxyauth` when the flow's client was let in with credentials. */
  stamp(flow: { client_conn: object; metadata: Record<string, unknown> }): void {
    const credentials = this.accepted.get(flow.client_conn);
    if (credentials) flow.metadata.proxyauth = [...credentials];
  }

  for(spec: string | undefined): CredentialCheck | undefined {
    if (spec !== this.spec) {
      this.spec = spec;
      this.check = spec ? credentialCheck(spec) : undefined;
    }
    return this.check;
  }
}
