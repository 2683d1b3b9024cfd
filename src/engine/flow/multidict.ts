/**
 * mitmproxy's MultiDictView: a live view of fields kept elsewhere (a request's query string in
 * its path, its Cookie header, its form body). Reading it reads them; changing it writes them
 * back, so `flow.request.query["a"] = "2"` rewrites the URL as it does in mitmproxy.
 * `view["name"]` is the first value (undefined when there is none, where Python raises), setting
 * it replaces every value of that name, `delete view["name"]` removes them, and `"name" in view`
 * asks; a name that is also a method's (`get`, `keys`…) is reached with `get`/`set_all`.
 * Iterating gives the `[name, value]` fields, as iterating a JS Map gives entries (`keys()` gives
 * the names, as iterating a Python dict does).
 */
import { fieldProxy } from "./field-proxy.ts";

export type Field = [name: string, value: string];

/** What a view (or the setter of what it shows) takes: pairs (a view, an array) or a plain object. */
export type FieldsGiven = Iterable<readonly [string, string]> | Record<string, string>;

/** The fields given, as text pairs. */
export function fieldsOf(fields: FieldsGiven): Field[] {
  const pairs: Iterable<readonly [unknown, unknown]> = Symbol.iterator in fields ? (fields as Iterable<readonly [string, string]>) : Object.entries(fields);
  return Array.from(pairs, ([k, v]): Field => [String(k), fieldText(v)]);
}

/**
 * A value as a field's text: a string, or a number or boolean as text. Anything else is refused:
 * mitmproxy's `cookies["sid"] = ("v", attrs)` written `= ["v", {Path: "/"}]` went out as
 * `sid=v,[object Object]`.
 */
export function fieldText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  throw new TypeError(`a field's value is text, not ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v} (${JSON.stringify(v)?.slice(0, 60)}); response cookies' attributes are set in the Set-Cookie header`);
}

export class MultiDictView implements Iterable<Field> {
  /** `view["name"]`: a field's first value, through the Proxy. */
  [name: string]: unknown;
  private readonly read: () => Field[];
  private readonly write: (fields: Field[]) => void;

  constructor(read: () => Field[], write: (fields: Field[]) => void) {
    this.read = read;
    this.write = write;
    return new Proxy(this, VIEW_PROXY);
  }

  /** A copy of the fields, in order. */
  get fields(): readonly Field[] {
    return Object.freeze(this.read());
  }

  set fields(fields: FieldsGiven) {
    this.write(fieldsOf(fields));
  }

  /** Fields in all (a name given twice counts twice). */
  get length(): number {
    return this.read().length;
  }

  get(name: string, fallback?: string): string | undefined {
    for (const [k, v] of this.read()) if (k === name) return v;
    return fallback;
  }

  get_all(name: string): string[] {
    return this.read()
      .filter(([k]) => k === name)
      .map(([, v]) => v);
  }

  /** Replaces the values of `name`: the first where the first was, the rest where the others were, any more at the end. */
  set_all(name: string, values: readonly unknown[]): void {
    const left = values.map(fieldText);
    const out: Field[] = [];
    for (const field of this.read()) {
      if (field[0] !== name) out.push(field);
      else if (left.length) out.push([name, left.shift() as string]);
    }
    for (const v of left) out.push([name, v]);
    this.write(out);
  }

  add(name: string, value: unknown): void {
    this.write([...this.read(), [name, fieldText(value)]]);
  }

  insert(index: number, name: string, value: unknown): void {
    const fields = this.read();
    fields.splice(index, 0, [name, fieldText(value)]);
    this.write(fields);
  }

  /** Removes every value of `name`; false when there was none. */
  delete(name: string): boolean {
    const fields = this.read();
    const kept = fields.filter(([k]) => k !== name);
    if (kept.length === fields.length) return false;
    this.write(kept);
    return true;
  }

  has(name: string): boolean {
    return this.read().some(([k]) => k === name);
  }

  /** The names, each once (`multi`: once per field). */
  keys(multi = false): string[] {
    const names = this.read().map(([k]) => k);
    return multi ? names : [...new Set(names)];
  }

  /** The first value of each name (`multi`: every value). */
  values(multi = false): string[] {
    return this.items(multi).map(([, v]) => v);
  }

  /** `[name, first value]` per name (`multi`: every field). */
  items(multi = false): Field[] {
    return multi ? this.read() : this.keys().map((k): Field => [k, this.get(k) as string]);
  }

  [Symbol.iterator](): Iterator<Field> {
    return this.read()[Symbol.iterator]();
  }

  toJSON(): readonly Field[] {
    return this.read();
  }
}

const VIEW_PROXY = fieldProxy<MultiDictView>({
  get: (view, name) => view.get(name),
  set: (view, name, value) => view.set_all(name, [value]),
  delete: (view, name) => view.delete(name),
  has: (view, name) => view.has(name),
});
