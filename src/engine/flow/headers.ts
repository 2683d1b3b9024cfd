/**
 * Ordered, case-preserving, case-insensitive multimap of HTTP header fields.
 *
 * Fields are kept exactly as seen on the wire (name case, order, duplicates), because
 * pryx forwards what it received unless something changed it. Lookups ignore case.
 * `headers["X-Custom"] = "v"` works too (the seed's form), through a Proxy.
 *
 * Two faces, as mitmproxy's Headers keeps bytes and gives str: the fields are kept as bytes,
 * one char per byte (Latin-1 text), and the byte face (`fromRaw`, `fromBytes`, `adopt`, `flat`,
 * `byteFields`, `nameAt`, `valueAt`, `toWire`, `toJSON`) gives and takes them as they are, for
 * the wire and flow files. The text face, what addons use (the constructor, `get`, `getAll`,
 * `pop`, `set`, `setAll`, `add`, `insert`, `fields`, `keys`, `items`, iteration and
 * `headers[name]`), decodes UTF-8 and encodes text as UTF-8, as mitmproxy's str API does: a byte
 * that is no UTF-8 reads as the lone surrogate U+DC00+byte (Python's surrogateescape; JS strings
 * hold lone surrogates too) and is written back as that byte, so a value read and set back is
 * the same bytes.
 *
 * The fields live in one flat array `[name0, value0, name1, value1, ...]` (Node's rawHeaders
 * form) rather than one `[name, value]` array per field: the console keeps 100,000+ flows in
 * memory, and a pair array per field was most of their heap objects, all walked by the GC.
 */
import type { StringPool } from "../string-pool.ts";
import { fieldProxy } from "./field-proxy.ts";
import { decodeSurrogateEscape, encodeSurrogateEscape } from "../../urlencoded.ts";

export type HeaderField = [name: string, value: string];
/** A field as bytes, as a script ported from mitmproxy gives it (`[Buffer.from("name"), Buffer.from("value")]`). */
export type BytesField = readonly [name: string | Uint8Array, value: string | Uint8Array];

const ILLEGAL_VALUE = /[\r\n\0]/;
/** RFC 9110 5.6.2 token: header names, methods. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class HeaderError extends Error {}

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Text as an addon writes it to the bytes pryx keeps (one char per byte): UTF-8, each
 * U+DC80–U+DCFF the byte it stands for, as mitmproxy encodes a str value ("utf-8",
 * "surrogateescape"). Any other lone surrogate, which Python refuses, becomes EF BF BD (U+FFFD).
 */
export function headerBytes(text: string | Uint8Array): string {
  // Bytes are taken as they are, as mitmproxy's Headers([(b"name", b"value")]) takes them.
  if (typeof text !== "string") return Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString("latin1");
  return NON_ASCII.test(text) ? encodeSurrogateEscape(text).toString("latin1") : text;
}

/** Kept bytes (one char per byte) as the text an addon reads: `headerBytes` undone, exactly. */
export function headerText(bytes: string): string {
  return NON_ASCII.test(bytes) ? decodeSurrogateEscape(Buffer.from(bytes, "latin1")) : bytes;
}

/** A name to look up, lower-cased, as kept (bytes): names are ASCII but for a peer's odd one. */
function lookupKey(name: string): string {
  return headerBytes(name).toLowerCase();
}

export function validateHeaderField(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new HeaderError(`invalid header name ${JSON.stringify(name)}: must be an HTTP token`);
  if (ILLEGAL_VALUE.test(value))
    throw new HeaderError(`invalid value for header ${name}: CR, LF and NUL are not allowed`);
}

// Every parsed message brings its own copy of each name string; mapping them to one shared
// copy lets stored flows share one string per distinct name. The cap keeps a peer that sends
// ever-new names from growing the table without bound; past it, names are simply not shared.
export const HEADER_NAME_CAP = 2000;

const COMMON_NAMES = [
  "Host", "User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Accept-Charset", "Accept-Ranges",
  "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Authorization", "Cookie", "Set-Cookie",
  "Referer", "Origin", "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
  "Content-Disposition", "Content-Range", "Content-Security-Policy", "Transfer-Encoding", "TE", "Trailer",
  "Upgrade", "Upgrade-Insecure-Requests", "Cache-Control", "Pragma", "Expires", "Age", "Date", "Server",
  "ETag", "Last-Modified", "If-None-Match", "If-Modified-Since", "Range", "Vary", "Location", "Via", "Link",
  "Alt-Svc", "Priority", "DNT", "X-Requested-With", "X-Forwarded-For", "X-Content-Type-Options",
  "X-Frame-Options", "Strict-Transport-Security", "Referrer-Policy", "WWW-Authenticate",
  "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
  "Access-Control-Allow-Methods", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User",
  "Sec-CH-UA", "Sec-CH-UA-Mobile", "Sec-CH-UA-Platform", "Sec-WebSocket-Key", "Sec-WebSocket-Accept",
  "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol",
];

const NAMES = new Map<string, string>();
// HTTP/2 and many clients send lower-case names, so both spellings start out known.
for (const name of COMMON_NAMES) {
  NAMES.set(name, name);
  NAMES.set(name.toLowerCase(), name.toLowerCase());
}

/** The shared copy of a header name (same case), remembering new names until the cap. */
export function internHeaderName(name: string): string {
  const known = NAMES.get(name);
  if (known !== undefined) return known;
  if (NAMES.size < HEADER_NAME_CAP) NAMES.set(name, name);
  return name;
}

/** Whether `name` (exact case) is in the interning table; for tests and diagnostics. */
export function isInternedHeaderName(name: string): boolean {
  return NAMES.has(name);
}

const PLAIN = Symbol("pryx.headers.plain");

/**
 * The same headers without the Proxy in front. Each read through the Proxy is a trap call (and
 * a method's every `this.x` another), about 300 ns: engine paths that run per flow, such as a
 * filter over 100,000 stored flows, call methods on this object instead. Same fields, same
 * version; only `headers["Name"]` access is missing.
 */
export function plainHeaders(h: Headers): Headers {
  return h[PLAIN];
}

export class Headers implements Iterable<HeaderField> {
  /** mitmproxy's repr: `Headers[(Host, example.com), ...]`; console.log shows it too. */
  toString(): string {
    return `Headers[${[...this].map(([k, v]) => `(${k}, ${v})`).join(", ")}]`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * `[name0, value0, name1, value1, ...]` in wire order. Methods that remove fields (set,
   * delete) build a new array instead of editing this one, so a loop over the headers that
   * deletes as it goes still sees every field, as it did when fields were an array of pairs.
   */
  private raw: string[];
  private changes = 0;
  [name: string]: unknown;

  /** The object behind the Proxy; see `plainHeaders`. */
  readonly [PLAIN]: Headers = this;

  /** Text fields, as an addon gives them (`Response.make(200, "", {"X-Name": "José"})`): stored as their UTF-8. */
  constructor(fields: Iterable<HeaderField | BytesField> | Record<string, string> = []) {
    this.raw = isIterable(fields) ? flatten(fields, headerBytes) : flattenRecord(fields);
    // eslint-disable-next-line no-constructor-return
    return new Proxy(this, HEADER_PROXY);
  }

  /** Builds from Node's flat rawHeaders array [name, value, name, value, ...] (copied, not kept). */
  static fromRaw(raw: readonly string[]): Headers {
    const h = new Headers();
    const flat = raw.slice(0, raw.length - (raw.length % 2));
    for (let i = 0; i < flat.length; i += 2) flat[i] = internHeaderName(flat[i] as string);
    // Through the plain object, as in `adopt`: three of these per exchange went through the trap.
    h[PLAIN].raw = flat;
    return h;
  }

  /** Builds from `[name, value]` pairs that are bytes already (flow files, the console's edits), taken as they are. */
  static fromBytes(fields: Iterable<HeaderField>): Headers {
    const h = new Headers();
    h[PLAIN].raw = flatten(fields, keepBytes);
    return h;
  }

  /** Takes `flat` as its fields without copying it: for flows rebuilt from storage, which own their array. */
  static adopt(flat: string[]): Headers {
    const h = new Headers();
    // Through the plain object: a write through the Proxy is a trap call.
    h[PLAIN].raw = flat;
    return h;
  }

  /**
   * Goes up on every change to the fields: set, setAll, add, delete, insert, the `fields`
   * setter, and `headers[name] = v` / `delete headers[name]`. Values derived from the headers
   * (e.g. a cached `pretty_url`) may be cached keyed on (this object, version), so any new
   * way of changing the fields must bump it too.
   */
  get version(): number {
    return this.changes;
  }

  /** The fields as a flat `[name, value, ...]` list, for serialisers; not a copy, do not keep it. */
  get flat(): readonly string[] {
    return this.raw;
  }

  /**
   * A new frozen array of `[name, value]` text pairs. Frozen so that old code which edited
   * `headers.fields` in place fails loudly instead of editing a copy that is thrown away.
   * Allocates a pair per field: hot paths use `flat`, `nameAt` and `valueAt`.
   */
  get fields(): readonly HeaderField[] {
    return Object.freeze(this.pairs(headerText));
  }

  /** Replaces every field (text); each is validated as by `add`, and nothing changes if one is invalid. */
  set fields(fields: Iterable<HeaderField>) {
    const raw: string[] = [];
    for (const [name, value] of fields) {
      const n = headerBytes(name);
      const v = headerBytes(value);
      validateHeaderField(n, v);
      raw.push(internHeaderName(n), v);
    }
    this.raw = raw;
    this.changes++;
  }

  /** The fields as `[name, value]` byte pairs (one char per byte), fresh: for flow files and the console. */
  byteFields(): HeaderField[] {
    return this.pairs(keepBytes);
  }

  /** Name of the i-th field (0 <= i < size), in its wire case, as bytes. */
  nameAt(i: number): string {
    return this.at(2 * i, i);
  }

  /** Value of the i-th field (0 <= i < size), as bytes. */
  valueAt(i: number): string {
    return this.at(2 * i + 1, i);
  }

  /** The field's value (several joined with ", "), else `fallback`, as mitmproxy's `headers.get(name, default)`. */
  get(name: string): string | undefined;
  get<T>(name: string, fallback: T): string | T;
  get<T>(name: string, fallback?: T): string | T | undefined {
    const lower = lookupKey(name);
    const raw = this.raw;
    let out: string | undefined;
    // An index loop: this runs several times per request (and per flow in a filter).
    for (let i = 0; i < raw.length; i += 2) {
      if (same(raw[i] as string, lower)) out = out === undefined ? (raw[i + 1] as string) : `${out}, ${raw[i + 1] as string}`;
    }
    // Decoded once, joined: ", " is ASCII, so it cannot complete or break a UTF-8 sequence.
    return out === undefined ? fallback : headerText(out);
  }

  /** mitmproxy's `headers.pop(name, default)`: the value `get` gives, and the fields are gone. */
  pop(name: string): string | undefined;
  pop<T>(name: string, fallback: T): string | T;
  pop<T>(name: string, fallback?: T): string | T | undefined {
    const value = this.get(name);
    if (value === undefined) return fallback;
    this.delete(name);
    return value;
  }

  getAll(name: string): string[] {
    const lower = lookupKey(name);
    const raw = this.raw;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (same(raw[i] as string, lower)) out.push(headerText(raw[i + 1] as string));
    return out;
  }

  has(name: string): boolean {
    return this.indexOf(lookupKey(name)) !== -1;
  }

  /** Replaces every field of that name with one, kept at the first one's position and case. */
  set(name: string, value: string | number): this {
    const v = headerBytes(String(value));
    validateHeaderField(name, v);
    const lower = lookupKey(name);
    const raw = this.raw;
    const first = this.indexOf(lower);
    if (first === -1) {
      raw.push(internHeaderName(name), v);
    } else {
      const next: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const n = raw[i] as string;
        if (i === first) next.push(n, v);
        else if (!same(n, lower)) next.push(n, raw[i + 1] as string);
      }
      this.raw = next;
    }
    this.changes++;
    return this;
  }

  /**
   * As mitmproxy's: the new values take the places of the fields the name had, in order; more
   * values than fields go at the end, fewer remove the fields left over.
   */
  setAll(name: string, values: readonly string[]): this {
    const lower = lookupKey(name);
    const texts = values.map((v) => headerBytes(String(v)));
    for (const v of texts) validateHeaderField(name, v);
    const raw = this.raw;
    const next: string[] = [];
    let used = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i] as string;
      if (!same(n, lower)) next.push(n, raw[i + 1] as string);
      else if (used < texts.length) next.push(n, texts[used++] as string);
    }
    for (; used < texts.length; used++) next.push(internHeaderName(name), texts[used] as string);
    this.raw = next;
    this.changes++;
    return this;
  }

  /** mitmproxy's names for `getAll` and `setAll`. */
  get_all(name: string): string[] {
    return this.getAll(name);
  }

  set_all(name: string, values: readonly string[]): this {
    return this.setAll(name, values);
  }

  add(name: string, value: string | number): this {
    const v = headerBytes(String(value));
    validateHeaderField(name, v);
    this.raw.push(internHeaderName(name), v);
    this.changes++;
    return this;
  }

  /** Puts a field before the index-th one (0 <= index <= size), e.g. a Host header in front. */
  insert(index: number, name: string, value: string | number): this {
    const v = headerBytes(String(value));
    validateHeaderField(name, v);
    if (!Number.isInteger(index) || index < 0 || index > this.size) throw new RangeError(`header index ${index} out of range 0..${this.size}`);
    this.raw.splice(2 * index, 0, internHeaderName(name), v);
    this.changes++;
    return this;
  }

  delete(name: string): boolean {
    const lower = lookupKey(name);
    if (this.indexOf(lower) === -1) return false;
    const raw = this.raw;
    const next: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (!same(raw[i] as string, lower)) next.push(raw[i] as string, raw[i + 1] as string);
    this.raw = next;
    this.changes++;
    return true;
  }

  keys(): string[] {
    const raw = this.raw;
    const seen = new Set<string>();
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i] as string;
      if (!seen.has(n.toLowerCase())) {
        seen.add(n.toLowerCase());
        out.push(headerText(n));
      }
    }
    return out;
  }

  /**
   * mitmproxy's `items(multi=False)`: a name's values joined with ", " once per name (as `get`
   * gives them); with `multi`, every field as it is.
   */
  items(multi = false): HeaderField[] {
    return multi ? [...this] : this.keys().map((n) => [n, this.get(n) as string]);
  }

  /** The number of fields (repeated names counted each time). */
  get size(): number {
    return this.raw.length >> 1;
  }

  /** Fresh `[name, value]` text pairs in wire order. */
  *[Symbol.iterator](): Generator<HeaderField, void, undefined> {
    const raw = this.raw;
    for (let i = 0; i + 1 < raw.length; i += 2) yield [headerText(raw[i] as string), headerText(raw[i + 1] as string)];
  }

  /** Swaps each value for its pool's shared copy: same fields, same version, fewer strings kept. */
  shareStrings(pool: StringPool): void {
    const raw = this.raw;
    for (let i = 1; i < raw.length; i += 2) raw[i] = pool.share(raw[i] as string);
  }

  clone(): Headers {
    return Headers.fromRaw(this.raw);
  }

  /** Byte pairs, as flow files and the protocol store headers. */
  toJSON(): readonly HeaderField[] {
    return this.byteFields();
  }

  /** Serialised as on the wire: `Name: value\r\n` per field. */
  toWire(): string {
    const raw = this.raw;
    let s = "";
    for (let i = 0; i + 1 < raw.length; i += 2) s += `${raw[i] as string}: ${raw[i + 1] as string}\r\n`;
    return s;
  }

  private pairs(decode: (s: string) => string): HeaderField[] {
    const raw = this.raw;
    const out: HeaderField[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([decode(raw[i] as string), decode(raw[i + 1] as string)]);
    return out;
  }

  /** Flat index of the first field named `lower` (already lower-cased), or -1. */
  private indexOf(lower: string): number {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) if (same(raw[i] as string, lower)) return i;
    return -1;
  }

  private at(flatIndex: number, field: number): string {
    const s = Number.isInteger(field) ? this.raw[flatIndex] : undefined;
    if (s === undefined) throw new RangeError(`no header field at index ${field} (there are ${this.size})`);
    return s;
  }
}

/** Case-insensitive name match; the length test skips most lower-casing on this hot path. */
function same(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

function isIterable(x: unknown): x is Iterable<HeaderField | BytesField> {
  return typeof x === "object" && x !== null && Symbol.iterator in x;
}

const keepBytes = (s: string): string => s;

/** Pairs to the flat form, each name and value through `toBytes` (`headerBytes` for text, `keepBytes` for bytes). */
function flatten<T>(fields: Iterable<readonly [T, T]>, toBytes: (s: T) => string): string[] {
  if (!Array.isArray(fields)) {
    const out: string[] = [];
    for (const f of fields) out.push(internHeaderName(toBytes(f[0])), toBytes(f[1]));
    return out;
  }
  // Sized up front: a push-grown array keeps up to half again its length as spare
  // capacity, and these arrays live as long as their flow.
  const pairs: readonly (readonly [T, T])[] = fields;
  const out = new Array<string>(pairs.length * 2);
  for (let i = 0; i < pairs.length; i++) {
    const f = pairs[i] as readonly [T, T];
    out[2 * i] = internHeaderName(toBytes(f[0]));
    out[2 * i + 1] = toBytes(f[1]);
  }
  return out;
}

function flattenRecord(record: Record<string, string>): string[] {
  const out: string[] = [];
  for (const n of Object.keys(record)) out.push(internHeaderName(headerBytes(n)), headerBytes(String(record[n])));
  return out;
}

const HEADER_PROXY = fieldProxy<Headers>({
  get: (h, name) => h.get(name),
  set: (h, name, value) => h.set(name, String(value)),
  delete: (h, name) => h.delete(name),
  has: (h, name) => h.has(name),
});
