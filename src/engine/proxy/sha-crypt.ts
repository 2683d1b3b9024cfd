import crypto from "node:crypto";

/**
 * SHA-crypt, crypt(3)'s `$5$` (SHA-256) and `$6$` (SHA-512) password hashes, as Ulrich Drepper's
 * specification gives them (https://www.akkadia.org/drepper/SHA-crypt.txt) and `openssl passwd
 * -5/-6`, `mkpasswd` and Python's passlib write them: htpasswd files made on Linux hold them.
 * Node's crypto has the digests but not this scheme, and none of pryx's dependencies has it.
 */
const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;
const MAX_SALT = 16;

/** The order the specification takes the final digest's bytes in, three at a time (0 where there is no byte). */
const ORDER: Record<"sha256" | "sha512", number[][]> = {
  sha256: [
    [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
    [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29], [-1, 31, 30],
  ],
  sha512: [
    [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
    [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
    [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41], [-1, -1, 63],
  ],
};

/** Bytes that repeat `source` up to `length`. */
function repeated(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

/** The `$5$`/`$6$` hash of `password` with the salt (and rounds) of `setting`, e.g. `$6$rounds=10000$salt`; undefined for another setting. */
export function shaCrypt(password: string, setting: string): string | undefined {
  const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]*)/.exec(setting);
  if (!m) return undefined;
  const algorithm = m[1] === "5" ? "sha256" : "sha512";
  const customRounds = m[2] !== undefined;
  const rounds = customRounds ? Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Number(m[2]))) : DEFAULT_ROUNDS;
  const salt = Buffer.from((m[3] as string).slice(0, MAX_SALT));
  const pw = Buffer.from(password);
  const digest = (...parts: Buffer[]): Buffer => {
    const h = crypto.createHash(algorithm);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const size = algorithm === "sha256" ? 32 : 64;

  const b = digest(pw, salt, pw);
  const a = crypto.createHash(algorithm).update(pw).update(salt);
  let left = pw.length;
  for (; left > size; left -= size) a.update(b);
  a.update(b.subarray(0, left));
  for (let n = pw.length; n > 0; n >>= 1) a.update(n & 1 ? b : pw);
  let c = a.digest();

  const p = repeated(digest(...Array<Buffer>(pw.length).fill(pw)), pw.length);
  const s = repeated(digest(...Array<Buffer>(16 + (c[0] as number)).fill(salt)), salt.length);
  for (let i = 0; i < rounds; i++) {
    const round = crypto.createHash(algorithm);
    round.update(i & 1 ? p : c);
    if (i % 3) round.update(s);
    if (i % 7) round.update(p);
    round.update(i & 1 ? c : p);
    c = round.digest();
  }

  let encoded = "";
  for (const [x, y, z] of ORDER[algorithm]) {
    const byte = (k: number | undefined): number => (k === undefined || k < 0 ? 0 : (c[k] as number));
    let w = (byte(x) << 16) | (byte(y) << 8) | byte(z);
    const chars = x !== undefined && x >= 0 ? 4 : y !== undefined && y >= 0 ? 3 : 2;
    for (let i = 0; i < chars; i++, w >>= 6) encoded += ITOA64[w & 0x3f];
  }
  return `$${m[1]}$${customRounds ? `rounds=${rounds}$` : ""}${salt.toString()}$${encoded}`;
}
