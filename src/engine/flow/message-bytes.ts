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

/** A WebSocket, TCP or UDP message's bytes, read and set as `content` or as UTF-8 `text`. */
export abstract class BytesMessage {
  #content: Buffer;

  constructor(content: Uint8Array | string) {
    this.#content = messageBytes(content, this.fieldName("content"));
  }

  /** What errors call one of the message's fields (a method: no name kept per message). */
  protected abstract fieldName(field: "content" | "text"): string;

  /** The message's bytes; set it to bytes or a string (taken as UTF-8). */
  get content(): Buffer {
    return this.#content;
  }

  set content(value: Uint8Array | string) {
    this.#content = messageBytes(value, this.fieldName("content"));
  }

  /** The content as UTF-8 text; setting it sets the content to the text's UTF-8 bytes. */
  get text(): string {
    return this.#content.toString("utf8");
  }

  set text(value: string) {
    if (typeof value !== "string") throw new TypeError(`${this.fieldName("text")} takes a string, not ${kindOf(value)}`);
    this.#content = Buffer.from(value, "utf8");
  }
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${value.constructor?.name ?? "no prototype"})` : typeof value;
}
