/** Header values with parameters (Content-Type, Content-Disposition), as the engine and the console read them. */

/** Splits a header value like `form-data; name="a"; filename="b"` into its main token and parameters. */
export function parseParameterized(value: string): { main: string; params: Map<string, string> } {
  const semi = value.indexOf(";");
  const main = (semi < 0 ? value : value.slice(0, semi)).trim();
  const params = new Map<string, string>();
  if (semi >= 0) {
    const re = /\s*;\s*([^=;\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"?|[^;]*))?/gy;
    re.lastIndex = semi;
    for (let m = re.exec(value); m; m = re.exec(value)) {
      const name = m[1]!.toLowerCase();
      let v = (m[2] ?? "").trim();
      if (v.startsWith('"')) v = v.slice(1, v.length > 1 && v.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, "$1");
      if (!params.has(name)) params.set(name, v);
    }
  }
  return { main, params };
}
