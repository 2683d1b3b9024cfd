/** Cookies as headers carry them: a request's `Cookie` pairs and a response's `Set-Cookie` lines. */

/** A Set-Cookie value: the name and value, and its attributes (names lowercased). */
export interface SetCookie {
  name: string;
  value: string;
  attrs: Map<string, string>;
}

/** One Set-Cookie header's value; undefined when it has no `name=`. */
export function parseSetCookie(text: string): SetCookie | undefined {
  const [pair = "", ...rest] = text.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return undefined;
  const attrs = new Map<string, string>();
  for (const a of rest) {
    const i = a.indexOf("=");
    const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
    if (key) attrs.set(key, i < 0 ? "" : a.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

/**
 * The name=value pairs of Cookie header values (`a=1; b=2`), in order; a pair without "=" is a
 * name with an empty value. A quoted value (`c="a;b"`, as `formatCookieHeader` writes one) is one
 * value, unquoted and unescaped, as mitmproxy reads it.
 */
export function parseCookieHeader(values: Iterable<string>): [string, string][] {
  const out: [string, string][] = [];
  for (const text of values) {
    let i = 0;
    while (i < text.length) {
      let end = i;
      while (end < text.length && text[end] !== "=" && text[end] !== ";") end++;
      const name = text.slice(i, end).trim();
      let value = "";
      i = end;
      if (text[i] === "=") {
        i++;
        while (text[i] === " " || text[i] === "\t") i++;
        if (text[i] === '"') [value, i] = readQuoted(text, i);
        else {
          end = text.indexOf(";", i);
          if (end < 0) end = text.length;
          value = text.slice(i, end).trim();
          i = end;
        }
      }
      // Past anything after a quoted value, to the next pair.
      const next = text.indexOf(";", i);
      i = next < 0 ? text.length : next + 1;
      if (name) out.push([name, value]);
    }
  }
  return out;
}

/** The quoted string starting at `text[at]`, unescaped, and where it ends. */
function readQuoted(text: string, at: number): [string, number] {
  let value = "";
  let i = at + 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === "\\" && i + 1 < text.length) i++;
    value += text[i];
  }
  return [value, i + 1];
}

/** Whether a cookie value needs quotes to stay one value (mitmproxy's _has_special). */
function needsQuotes(value: string): boolean {
  for (const c of value) {
    const code = c.codePointAt(0) as number;
    if (c === '"' || c === "," || c === ";" || c === "\\" || code < 0x21 || code > 0x7e) return true;
  }
  return false;
}

/**
 * Cookie pairs as one Cookie header value. A value with a `;`, a space or another character a
 * cookie cannot carry bare is quoted, as mitmproxy's format_cookie_header does, so that a value
 * typed in the cookies grid stays one cookie rather than adding others.
 */
export function formatCookieHeader(pairs: Iterable<readonly [string, string]>): string {
  return Array.from(pairs, ([name, value]) => `${name}=${needsQuotes(value) ? `"${value.replace(/["\\]/g, "\\$&")}"` : value}`).join("; ");
}
