/**
 * Whether a value is plain JSON (strings, finite numbers, booleans, null, arrays and plain
 * objects), which JSON.parse gives back equal: anything else (a Buffer, a Date, a class, undefined)
 * keeps its flow unpacked, and is left out of a saved flow's metadata.
 */
export function plainJson(v: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => plainJson(x, depth + 1));
  if (typeof v !== "object" || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v as Record<string, unknown>).every((x) => plainJson(x, depth + 1));
}

/** The entries of an addon's metadata that JSON keeps as they are (a Buffer, a class, a function would come back as something else, or not at all). */
export function plainJsonEntries(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (plainJson(v)) out[k] = v;
  return out;
}
