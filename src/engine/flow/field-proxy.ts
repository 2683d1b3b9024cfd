/**
 * The Proxy behind `headers["Name"]` and `query["name"]`: a property the object has is itself,
 * any other name is a field, read, set, deleted and asked for through `fields`.
 */
export interface FieldAccess<T> {
  get(target: T, name: string): unknown;
  set(target: T, name: string, value: unknown): void;
  delete(target: T, name: string): void;
  has(target: T, name: string): boolean;
}

export function fieldProxy<T extends object>(fields: FieldAccess<T>): ProxyHandler<T> {
  return {
    // Every method call and property read goes through this trap, so the common case (a
    // property of the class) is one plain load; field names are the rare fallback.
    get(target, prop) {
      const own = (target as Record<string | symbol, unknown>)[prop];
      if (own !== undefined || typeof prop === "symbol" || prop in target) return own;
      return fields.get(target, prop);
    },
    set(target, prop, value, receiver) {
      if (typeof prop === "symbol" || prop in target) return Reflect.set(target, prop, value, receiver);
      fields.set(target, prop, value);
      return true;
    },
    deleteProperty(target, prop) {
      if (typeof prop === "symbol" || prop in target) return Reflect.deleteProperty(target, prop);
      fields.delete(target, prop);
      return true;
    },
    has(target, prop) {
      if (typeof prop === "symbol" || prop in target) return true;
      return fields.has(target, prop);
    },
  };
}
