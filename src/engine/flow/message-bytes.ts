/**
 * A stream message's `content` as scripts may set it. Always a Buffer, as mitmproxy's is
 * always bytes: a port of `b"x" in message.content` is `message.content.includes("x")`,
 * which a plain Uint8Array would take as a search for a number. A string is taken as UTF-8
 * (what a port of `message.content = b"..."` assigns); anything else is a TypeError in the
 * script's hook, naming `field`, rather than a value the relay or a flow file chokes on later.
 */
export function messageBytes(value: unknown, field: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  // A view, not a copy: the caller's bytes are the message's, as they were before.
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string") return Buffer.from(value, "utf8");
  throw new TypeError(`${field} takes bytes (a Buffer or Uint8Array) or a string, not ${kindOf(value)}`);
}

/** A message's `text` as scripts may set it: only a string. */
export function messageText(value: unknown, field: string): Buffer {
  if (typeof value !== "string") throw new TypeError(`${field} takes a string, not ${kindOf(value)}`);
  return Buffer.from(value, "utf8");
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${value.constructor?.name ?? "no prototype"})` : typeof value;
}
