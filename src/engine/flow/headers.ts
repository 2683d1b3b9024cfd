/**
 * Ordered, case-preserving, case-insensitive multimap of HTTP header fields.
 *
 * Fields are kept exactly as seen on the wire (name case, order, duplicates), because
 * pryx forwards what it received unless something changed it. Lookups ignore case.
 * `headers["X-Custom"] = "v"` works too (the seed's form), through a Proxy.
 */
export type HeaderField = [name: string, value: string];

const ILLEGAL_VALUE = /[\r\n\0]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class HeaderError extends Error {}

export function validateHeaderField(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new HeaderError(`invalid header name ${JSON.stringify(name)}: must be an HTTP token`);
  if (ILLEGAL_VALUE.test(value))
    throw new HeaderError(`invalid value for header ${name}: CR, LF and NUL are not allowed`);
}

export class Headers implements Iterable<HeaderField> {
  /** The fields in wire order. Mutate through the methods so validation applies. */
  fields: HeaderField[];
  [name: string]: unknown;

  constructor(fields: Iterable<HeaderField> | Record<string, string> = []) {
    this.fields = isIterable(fields)
      ? Array.from(fields, ([n, v]) => [n, v] as HeaderField)
      : Object.entries(fields).map(([n, v]) => [n, String(v)] as HeaderField);
    // eslint-disable-next-line no-constructor-return
    return new Proxy(this, HEADER_PROXY);
  }

  /** Builds from Node's flat rawHeaders array [name, value, name, value, ...]. */
  static fromRaw(raw: readonly string[]): Headers {
    const fields: HeaderField[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) fields.push([raw[i] as string, raw[i + 1] as string]);
    return new Headers(fields);
  }

  /** All values of a field joined by ", " (as mitmproxy does), or undefined. */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    const fields = this.fields;
    let out: string | undefined;
    // An index loop: this runs several times per request (and per flow in a filter).
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as HeaderField;
      if (same(f[0], lower)) out = out === undefined ? f[1] : `${out}, ${f[1]}`;
    }
    return out;
  }

  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    return this.fields.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
  }

  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.fields.some(([n]) => same(n, lower));
  }

  /** Replaces every field of that name with one, kept at the first one's position. */
  set(name: string, value: string | number): this {
    const v = String(value);
    validateHeaderField(name, v);
    const lower = name.toLowerCase();
    const at = this.fields.findIndex(([n]) => n.toLowerCase() === lower);
    if (at === -1) {
      this.fields.push([name, v]);
      return this;
    }
    const existing = this.fields[at] as HeaderField;
    this.fields = this.fields.filter(([n], i) => i === at || n.toLowerCase() !== lower);
    this.fields[this.fields.indexOf(existing)] = [existing[0], v];
    return this;
  }

  setAll(name: string, values: readonly string[]): this {
    this.delete(name);
    for (const v of values) this.add(name, v);
    return this;
  }

  add(name: string, value: string | number): this {
    const v = String(value);
    validateHeaderField(name, v);
    this.fields.push([name, v]);
    return this;
  }

  delete(name: string): boolean {
    const lower = name.toLowerCase();
    const before = this.fields.length;
    this.fields = this.fields.filter(([n]) => n.toLowerCase() !== lower);
    return this.fields.length !== before;
  }

  keys(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const [n] of this.fields) {
      if (!seen.has(n.toLowerCase())) {
        seen.add(n.toLowerCase());
        out.push(n);
      }
    }
    return out;
  }

  get size(): number {
    return this.fields.length;
  }

  [Symbol.iterator](): Iterator<HeaderField> {
    return this.fields[Symbol.iterator]();
  }

  clone(): Headers {
    return new Headers(this.fields);
  }

  toJSON(): HeaderField[] {
    return this.fields;
  }

  /** Serialised as on the wire: `Name: value\r\n` per field. */
  toWire(): string {
    let s = "";
    for (const [n, v] of this.fields) s += `${n}: ${v}\r\n`;
    return s;
  }
}

/** Case-insensitive name match; the length test skips most lower-casing on this hot path. */
function same(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

function isIterable(x: unknown): x is Iterable<HeaderField> {
  return typeof x === "object" && x !== null && Symbol.iterator in x;
}

const HEADER_PROXY: ProxyHandler<Headers> = {
  // Every method call and field read goes through this trap, so the common case (a
  // property of the class) is one plain load; header names are the rare fallback.
  get(target, prop) {
    const own = (target as unknown as Record<string | symbol, unknown>)[prop];
    if (own !== undefined || typeof prop === "symbol" || prop in target) return own;
    return target.get(prop);
  },
  set(target, prop, value, receiver) {
    if (typeof prop === "symbol" || prop in target) return Reflect.set(target, prop, value, receiver);
    target.set(prop, String(value));
    return true;
  },
  deleteProperty(target, prop) {
    if (typeof prop === "symbol" || prop in target) return Reflect.deleteProperty(target, prop);
    target.delete(prop);
    return true;
  },
  has(target, prop) {
    if (typeof prop === "symbol" || prop in target) return true;
    return target.has(prop);
  },
};
