import { isUtf8 } from "node:buffer";

/**
 * The charset of a body's text, as mitmproxy's `text` finds it (`_guess_encoding`): the
 * Content-Type's charset; UTF-8 for JSON; an HTML page's `<meta charset>`; a style sheet's
 * `@charset`. Where nothing names one, pryx reads UTF-8 when the bytes are UTF-8 (mitmproxy's
 * Latin-1 shows a modern page's "ü" as "Ã¼") and Latin-1 otherwise, which keeps every byte:
 * an addon's `text = text.replace(...)` on a legacy page or a binary body leaves the bytes it
 * did not touch as they were.
 */
const UTF8 = new TextDecoder("utf-8");
const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii", "ascii"]);
const TEXTUAL = /^\s*(text\/|[^;]*(json|xml|javascript|ecmascript|x-www-form-urlencoded))/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;
/** Charsets whose every character is one byte of the same value (what Buffer's "latin1" writes). */
const LATIN1 = new Set(["iso-8859-1", "latin1", "latin-1", "l1", "iso8859-1", "cp819", "ibm819", "iso-ir-100", "csisolatin1"]);
/** As mitmproxy: GB 18030 is the superset that reads what Chinese sites label GB2312 or GBK. */
const GB = new Set(["gb2312", "gbk"]);
/** The HTML standard's prescan looks at the first 1024 bytes; a little more costs nothing. */
const META_PRESCAN = 4096;
const META_CHARSET = /<meta[^>]+charset\s*=\s*['"]?([^'">\s/]+)/i;
const CSS_CHARSET = /^@charset "([^"]+)";/i;

/** The charset the Content-Type header names, lowercased; undefined when it names none. */
function headerCharset(contentType: string | undefined): string | undefined {
  return contentType ? CHARSET.exec(contentType)?.[1]?.toLowerCase() : undefined;
}

/** The charset a body names for itself (header, then the page or style sheet), lowercased; undefined when none. */
function namedCharset(body: Uint8Array, contentType: string | undefined): string | undefined {
  // A charset on a type that is not text (image/png; charset=…) would turn its bytes into text that is not there.
  const fromHeader = contentType && TEXTUAL.test(contentType) ? headerCharset(contentType) : undefined;
  if (fromHeader) return fromHeader;
  const type = contentType?.toLowerCase() ?? "";
  if (type.includes("json")) return "utf-8";
  if (type.includes("html")) return META_CHARSET.exec(Buffer.from(body.subarray(0, META_PRESCAN)).toString("latin1"))?.[1]?.toLowerCase();
  if (type.includes("text/css")) return CSS_CHARSET.exec(Buffer.from(body.subarray(0, 256)).toString("latin1"))?.[1]?.toLowerCase();
  return undefined;
}

/** The charset the body's text is read and written in, normalized; see the top of this file. */
export function bodyCharset(body: Uint8Array, contentType: string | undefined): string {
  const named = namedCharset(body, contentType);
  if (named === undefined) return isUtf8(body) ? "utf-8" : "iso-8859-1";
  if (UTF8_CHARSETS.has(named)) return "utf-8";
  if (LATIN1.has(named)) return "iso-8859-1";
  if (GB.has(named)) return "gb18030";
  return named;
}

/** The text of a body in the charset other than UTF-8 it declares (header, `<meta>`, `@charset`); undefined when it declares none, or one Node does not know. */
export function decodeDeclared(body: Uint8Array, contentType: string | undefined): string | undefined {
  const named = namedCharset(body, contentType);
  if (named === undefined || UTF8_CHARSETS.has(named)) return undefined;
  return decodeIn(body, bodyCharset(body, contentType));
}

function decodeIn(body: Uint8Array, charset: string): string | undefined {
  if (charset === "utf-8") return UTF8.decode(body);
  // Node's TextDecoder would read "iso-8859-1" as windows-1252, as the WHATWG standard says.
  if (charset === "iso-8859-1") return Buffer.from(body).toString("latin1");
  try {
    // TextDecoder reads "utf-16" as little-endian whatever its byte order mark says.
    return new TextDecoder(charset === "utf-16" && body[0] === 0xfe && body[1] === 0xff ? "utf-16be" : charset).decode(body);
  } catch {
    return undefined;
  }
}

/** The text of a body in its charset (see `bodyCharset`); a charset Node does not know reads as if none were named. */
export function decodeText(body: Uint8Array, contentType: string | undefined): string {
  return decodeIn(body, bodyCharset(body, contentType)) ?? decodeIn(body, isUtf8(body) ? "utf-8" : "iso-8859-1") ?? "";
}

/**
 * Text as the bytes of the body's charset, as mitmproxy's `text =` writes it. `current` is the
 * body being replaced, whose bytes decide the charset where nothing names one. Text the
 * charset cannot hold (or a charset pryx cannot write: Node encodes no multi-byte legacy
 * charset such as Shift_JIS) is written as UTF-8, and `contentType` is then the type saying so,
 * as in mitmproxy's fallback.
 */
export function encodeText(text: string, contentType: string | undefined, current: Uint8Array = new Uint8Array(0)): { bytes: Uint8Array; contentType?: string } {
  const charset = bodyCharset(current, contentType);
  const bytes = encodeIn(text, charset, current);
  if (bytes !== undefined) return { bytes };
  const utf8 = Buffer.from(text, "utf8");
  if (!contentType) return { bytes: utf8, contentType: "text/plain; charset=utf-8" };
  return { bytes: utf8, contentType: CHARSET.test(contentType) ? contentType.replace(CHARSET, "; charset=utf-8") : `${contentType}; charset=utf-8` };
}

function encodeIn(text: string, charset: string, current: Uint8Array): Uint8Array | undefined {
  if (charset === "utf-8") return Buffer.from(text, "utf8");
  // eslint-disable-next-line no-control-regex
  if (charset === "iso-8859-1") return /^[\u0000-\u00ff]*$/.test(text) ? Buffer.from(text, "latin1") : undefined;
  if (charset === "utf-16le") return Buffer.from(text, "utf16le");
  if (charset === "utf-16be") return Buffer.from(text, "utf16le").swap16();
  if (charset === "utf-16") {
    // With a byte order mark, in the order the body had (little-endian, as Python's, when it had none).
    const bigEndian = current[0] === 0xfe && current[1] === 0xff;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    return bigEndian ? le.swap16() : le;
  }
  const table = singleByteTable(charset);
  if (table === undefined) return undefined;
  const out = Buffer.allocUnsafe(text.length);
  for (let i = 0; i < text.length; i++) {
    const byte = table.get(text.charCodeAt(i));
    if (byte === undefined) return undefined;
    out[i] = byte;
  }
  return out;
}

/**
 * Code unit → byte for the characters a charset writes as one byte: all of windows-1252's,
 * ISO-8859-x's, KOI8's; ASCII and the like of Shift_JIS's half-width kana (a byte such a charset
 * reads alone stands for the same character in its text). Text with a character of two bytes
 * or more is then written as UTF-8.
 */
const singleByteTables = new Map<string, Map<number, number> | undefined>();

function singleByteTable(charset: string): Map<number, number> | undefined {
  if (singleByteTables.has(charset)) return singleByteTables.get(charset);
  let table: Map<number, number> | undefined;
  try {
    const decoder = new TextDecoder(charset);
    table = new Map();
    for (let byte = 0; byte < 256 && table !== undefined; byte++) {
      const char = decoder.decode(Uint8Array.of(byte));
      if (char.length !== 1) table = undefined;
      else if (char !== "\ufffd" && !table.has(char.charCodeAt(0))) table.set(char.charCodeAt(0), byte);
    }
  } catch {
    table = undefined;
  }
  singleByteTables.set(charset, table);
  return table;
}
