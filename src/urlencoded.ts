/**
 * application/x-www-form-urlencoded (query strings and form bodies), byte-faithful as mitmproxy's
 * (urllib with errors="surrogateescape"): a byte that is not part of valid UTF-8 decodes to the
 * lone surrogate U+DC00+byte and encodes back to that byte, a field written without "=" is
 * written back without it, and "/" stays as it is. URLSearchParams turned %FF into %EF%BF%BD
 * and `?a` into `?a=`, which breaks exactly the requests a tester edits on purpose.
 */

const SURROGATE_BYTE = 0xdc00;

/** The value of a hex digit's character code, or -1. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** `+` is a space, `%XX` a byte (a bad escape stays literal); other characters are bytes already (a latin1 byte string) or, above 0xff, UTF-8. */
function unquotePlus(s: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25 && i + 2 < s.length && hexValue(s.charCodeAt(i + 1)) >= 0 && hexValue(s.charCodeAt(i + 2)) >= 0) {
      bytes.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c <= 0xff) bytes.push(c);
    else for (const b of Buffer.from(s[i] as string, "utf8")) bytes.push(b);
  }
  return bytes;
}

/** UTF-8 to text, each byte of an invalid sequence kept as U+DC00+byte (Python's surrogateescape). */
export function decodeSurrogateEscape(bytes: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let cp = len === 1 ? b : len === 2 ? b & 0x1f : len === 3 ? b & 0x0f : b & 0x07;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) {
      const cb = bytes[i + k] as number;
      if ((cb & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (cb & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not valid UTF-8.
    if (ok && ((len === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len === 4 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (ok) {
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      out += String.fromCharCode(SURROGATE_BYTE + b);
      i += 1;
    }
  }
  return out;
}

/** Text back to its bytes: UTF-8, and each U+DC80–U+DCFF the byte it stood for. */
export function encodeSurrogateEscape(text: string): Buffer {
  const parts: Buffer[] = [];
  let run = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= SURROGATE_BYTE + 0x80 && c <= SURROGATE_BYTE + 0xff) {
      parts.push(Buffer.from(run, "utf8"), Buffer.of(c - SURROGATE_BYTE));
      run = "";
    } else run += text[i];
  }
  parts.push(Buffer.from(run, "utf8"));
  return Buffer.concat(parts);
}

/** The fields of a query string or form body (`a=1&b&c=%FF`), in order, empty values kept. */
export function decodeUrlencoded(s: string): [string, string][] {
  const out: [string, string][] = [];
  for (const field of s.split("&")) {
    if (!field) continue;
    const eq = field.indexOf("=");
    const [k, v] = eq < 0 ? [field, ""] : [field.slice(0, eq), field.slice(eq + 1)];
    out.push([decodeSurrogateEscape(unquotePlus(k)), decodeSurrogateEscape(unquotePlus(v))]);
  }
  return out;
}

const KEEP = /[A-Za-z0-9_.~\-/]/;

function quotePlus(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= SURROGATE_BYTE + 0x80 && c <= SURROGATE_BYTE + 0xff) {
      out += `%${(c - SURROGATE_BYTE).toString(16).toUpperCase()}`;
      continue;
    }
    const ch = s[i] as string;
    if (c === 0x20) out += "+";
    else if (c < 0x80 && KEEP.test(ch)) out += ch;
    else {
      const cp = s.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), "utf8")) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

/**
 * Fields back to a query string or form body. With `similarTo` (what it replaces), empty values
 * go without "=" when any field there did, as mitmproxy's url.encode keeps `?a` as `?a`.
 */
export function encodeUrlencoded(fields: Iterable<readonly [string, string]>, similarTo?: string): string {
  const bare = similarTo !== undefined && similarTo.split("&").some((f) => f !== "" && !f.includes("="));
  return [...fields].map(([k, v]) => (bare && v === "" ? quotePlus(k) : `${quotePlus(k)}=${quotePlus(v)}`)).join("&");
}

export const URLENCODED_TYPE = "application/x-www-form-urlencoded";

/** Whether a Content-Type is a urlencoded form (its parameters aside). */
export function isUrlencodedType(contentType: string | undefined): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === URLENCODED_TYPE;
}
