/**
 * The charset a text body's Content-Type names, as mitmproxy's `text` honours it: a Latin-1 or
 * Shift_JIS page reads as its text, not as UTF-8 gone wrong. UTF-8 (and its ASCII subset) is the
 * default; bodies whose type is not text (images, archives) have no charset to speak of.
 */
const UTF8 = new TextDecoder("utf-8");
const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii", "ascii"]);
const TEXTUAL = /^\s*(text\/|[^;]*(json|xml|javascript|ecmascript|x-www-form-urlencoded))/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;
/** Charsets whose every character is one byte of the same value (what Buffer's "latin1" writes). */
const LATIN1 = new Set(["iso-8859-1", "latin1", "l1", "iso8859-1", "cp819", "ibm819", "iso-ir-100", "csisolatin1"]);

/** The charset other than UTF-8 a textual Content-Type names, lowercased; undefined for UTF-8, none, or a type that is not text. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  if (!contentType || !TEXTUAL.test(contentType)) return undefined;
  const charset = CHARSET.exec(contentType)?.[1]?.toLowerCase();
  return charset && !UTF8_CHARSETS.has(charset) ? charset : undefined;
}

/** The text of a body in the charset other than UTF-8 its type declares; undefined when it declares none, or one Node does not know. */
export function decodeDeclared(body: Uint8Array, contentType: string | undefined): string | undefined {
  const charset = declaredCharset(contentType);
  if (!charset) return undefined;
  try {
    return new TextDecoder(charset).decode(body);
  } catch {
    return undefined;
  }
}

/** The text of a body in its declared charset; UTF-8 when it declares none, or one Node does not know. */
export function decodeText(body: Uint8Array, contentType: string | undefined): string {
  return decodeDeclared(body, contentType) ?? UTF8.decode(body);
}

/**
 * Text as the bytes of the declared charset, as mitmproxy's `text =` writes it. Node encodes
 * only UTF-8 and Latin-1: for any other charset, or Latin-1 text with a character it lacks, the
 * bytes are UTF-8 and `contentType` is the type saying so (mitmproxy's fallback too).
 */
export function encodeText(text: string, contentType: string | undefined): { bytes: Uint8Array; contentType?: string } {
  const charset = declaredCharset(contentType);
  if (!charset || !contentType) return { bytes: Buffer.from(text, "utf8") };
  // eslint-disable-next-line no-control-regex
  if (LATIN1.has(charset) && /^[\u0000-\u00ff]*$/.test(text)) return { bytes: Buffer.from(text, "latin1") };
  return { bytes: Buffer.from(text, "utf8"), contentType: contentType.replace(CHARSET, "; charset=utf-8") };
}
