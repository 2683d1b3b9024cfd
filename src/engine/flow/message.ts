import { Headers, plainHeaders, type HeaderField } from "./headers.ts";
import { BODY_ENCODINGS, decodeContent, encodeContent, tryDecodeContent } from "./encoding.ts";
import { decodeText, encodeText } from "../../charset.ts";
import { now } from "./now.ts";


export type Body = string | Uint8Array;

export function toBytes(body: Body): Uint8Array {
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

/**
 * mitmproxy's callable `stream`: each chunk in, the bytes (or text, as UTF-8, or an iterable of
 * either) to send instead out; called once more with an empty chunk when the body ends.
 */
export type StreamModifier = (chunk: Buffer) => Uint8Array | string | Iterable<Uint8Array | string>;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * What requests and responses share: headers, the body as sent on the wire (`raw_content`)
 * and decoded (`content`, `text`), streaming, and timestamps.
 */
export abstract class Message {
  /** console.log shows the repr, as mitmproxy's print does, not the object's internals. */
  [INSPECT](): string {
    return this.toString();
  }

  http_version: string;
  #headers!: Headers;
  #plain!: Headers;
  /** The body as on the wire (still content-encoded); undefined while not yet read or when streamed. */
  raw_content: Uint8Array | undefined;
  /**
   * Set in requestheaders/responseheaders to pass the body through without buffering it; for a
   * response, a function (mitmproxy's callable stream) is given each chunk and sends what it returns.
   */
  stream: boolean | StreamModifier = false;
  timestamp_start: number;
  timestamp_end: number | undefined;
  /** Trailers from a chunked body, if any. */
  trailers: Headers | undefined;

  constructor(http_version: string, headers: Headers | Iterable<HeaderField>, raw_content: Uint8Array | undefined, timestamp_start = now()) {
    this.http_version = http_version;
    this.headers = headers instanceof Headers ? headers : new Headers(headers);
    this.raw_content = raw_content;
    this.timestamp_start = timestamp_start;
    this.timestamp_end = undefined;
    this.trailers = undefined;
  }

  get headers(): Headers {
    return this.#headers;
  }

  set headers(headers: Headers) {
    this.#headers = headers;
    this.#plain = plainHeaders(headers);
  }

  /** The headers without their Proxy, for per-flow hot paths (see `plainHeaders`). */
  get plainHeaders(): Headers {
    return this.#plain;
  }

  /**
   * The decoded body (Content-Encoding removed); undefined if not available. A body that does not
   * decode (a broken gzip, an encoding pryx does not know such as "gzip, br") is an error here,
   * as in mitmproxy: an addon that read its still-encoded bytes as the body and wrote them back
   * would send the client garbage. `get_content(false)` gives those bytes instead.
   */
  get content(): Uint8Array | undefined {
    return this.get_content();
  }

  /** mitmproxy's version checks (its http-trailers example sends trailers only over HTTP/1.1 chunked or HTTP/2). */
  get is_http10(): boolean {
    return this.http_version === "HTTP/1.0";
  }

  get is_http11(): boolean {
    return this.http_version === "HTTP/1.1";
  }

  get is_http2(): boolean {
    return this.http_version === "HTTP/2.0";
  }

  /**
   * Setting the body re-encodes it with the message's Content-Encoding and keeps Content-Length
   * right. An encoding pryx cannot produce is taken off rather than left to mislabel the new
   * bytes (mitmproxy does the same). A string is taken as UTF-8 (mitmproxy wants bytes, and a
   * port of `flow.response.content = b"..."` naturally assigns a string); anything else is a
   * TypeError here, in the addon's hook, not a lost response later.
   */
  set content(value: Uint8Array | string | undefined) {
    if (value === undefined) {
      this.raw_content = undefined;
      return;
    }
    if (typeof value === "string") value = Buffer.from(value, "utf8");
    else if (!(value instanceof Uint8Array)) throw new TypeError(`content takes bytes (a Buffer or Uint8Array) or a string, not ${value === null ? "null" : typeof value}`);
    const enc = this.plainHeaders.get("content-encoding");
    const encoded = encodeContent(value, enc);
    if (encoded === undefined) this.plainHeaders.delete("content-encoding");
    this.raw_content = encoded ?? value;
    this.fixContentLength();
  }

  /** The body as text, in its charset (see charset.ts), as mitmproxy's; an error when the body does not decode, as `content`. */
  get text(): string | undefined {
    return this.get_text();
  }

  /**
   * Text unchanged leaves the body's bytes as they were (mitmproxy would write them again, in
   * a charset it may not be able to write).
   */
  set text(value: string | undefined) {
    if (value === undefined) {
      this.content = undefined;
      return;
    }
    // Decoded once: whether it decodes, and what text it holds now.
    const decoded = this.raw_content === undefined ? undefined : tryDecodeContent(this.raw_content, this.plainHeaders.get("content-encoding"));
    const current = decoded === undefined ? undefined : "body" in decoded ? decoded.body : this.raw_content;
    const contentType = this.plainHeaders.get("content-type");
    if (current !== undefined && decoded !== undefined && "body" in decoded && value === decodeText(current, contentType)) return;
    const written = encodeText(value, contentType, current);
    if (written.contentType !== undefined) this.plainHeaders.set("content-type", written.contentType);
    this.content = written.bytes;
  }

  /** mitmproxy's method forms of `text` and `content`; `strict` false gives a body that does not decode as it is on the wire. */
  get_text(strict = true): string | undefined {
    const c = this.get_content(strict);
    return c === undefined ? undefined : decodeText(c, this.plainHeaders.get("content-type"));
  }

  set_text(value: string | undefined): void {
    this.text = value;
  }

  get_content(strict = true): Uint8Array | undefined {
    if (this.raw_content === undefined) return undefined;
    const enc = this.plainHeaders.get("content-encoding");
    const decoded = tryDecodeContent(this.raw_content, enc);
    if ("body" in decoded) return decoded.body;
    if (strict) throw new Error(`the ${this.messageKind()} body does not decode as Content-Encoding ${JSON.stringify(enc)} (${decoded.why}); get_content(false) and get_text(false) give it as it is`);
    return this.raw_content;
  }

  set_content(value: Uint8Array | undefined): void {
    this.content = value;
  }

  json(): unknown {
    const t = this.text;
    if (t === undefined) throw new Error("message has no content to parse as JSON");
    return JSON.parse(t);
  }

  /**
   * Takes the Content-Encoding off: the body goes on as the decoded bytes (mitmproxy's decode).
   * Throws, changing nothing, when the body does not decode.
   */
  decode(): void {
    const enc = this.plainHeaders.get("content-encoding");
    if (enc === undefined) return;
    if (this.raw_content !== undefined) {
      const plain = decodeContent(this.raw_content, enc);
      if (plain === undefined) throw new Error(`the body does not decode as Content-Encoding ${JSON.stringify(enc)}`);
      this.raw_content = plain;
    }
    this.plainHeaders.delete("content-encoding");
    this.fixContentLength();
  }

  /** Encodes the body (decoded first, so it is not encoded twice) and says so in Content-Encoding. */
  encode(encoding: string): void {
    const enc = encoding.trim().toLowerCase();
    if (!(BODY_ENCODINGS as readonly string[]).includes(enc)) throw new Error(`unknown encoding ${JSON.stringify(encoding)}: one of ${BODY_ENCODINGS.join(", ")}`);
    this.decode();
    this.plainHeaders.set("content-encoding", enc);
    if (this.raw_content !== undefined) this.content = this.raw_content;
  }

  /** Sets Content-Length to the body's size unless the body is chunked. */
  fixContentLength(): void {
    if (this.raw_content === undefined) return;
    if (this.plainHeaders.get("transfer-encoding")?.toLowerCase().includes("chunked")) return;
    if (this.raw_content.length === 0 && !this.plainHeaders.has("content-length") && !this.needsLengthWhenEmpty()) return;
    this.plainHeaders.set("content-length", this.raw_content.length);
  }

  /** Requests without a body need no Content-Length; responses do, to end the message. */
  protected abstract needsLengthWhenEmpty(): boolean;

  /** "request" or "response", for errors about the body. */
  protected abstract messageKind(): string;
}
