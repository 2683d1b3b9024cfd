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

/** The name=value pairs of Cookie header values (`a=1; b=2`), in order; a pair without "=" is a name with an empty value. */
export function parseCookieHeader(values: Iterable<string>): [string, string][] {
  const out: [string, string][] = [];
  for (const value of values) {
    for (const part of value.split(";")) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf("=");
      out.push(eq < 0 ? [p, ""] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()]);
    }
  }
  return out;
}

/** Cookie pairs as one Cookie header value. */
export function formatCookieHeader(pairs: Iterable<readonly [string, string]>): string {
  return Array.from(pairs, ([name, value]) => `${name}=${value}`).join("; ");
}
