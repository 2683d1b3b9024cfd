/**
 * How an option's file paths are written, a list option's entry by entry: `true`, the path alone;
 * "after=", `[name=]path` (certs: a domain, then the path after the first "="); "after+", `[+]path`
 * (save_stream_file: a leading "+" appends, as in mitmproxy).
 */
export type PathForm = true | "after=" | "after+";

/** Where the path begins in `entry` (a value, or one entry of a list) written in `form`. */
export function pathStart(entry: string, form: PathForm | false | undefined): number {
  if (form === "after=") return entry.indexOf("=") + 1;
  if (form === "after+") return entry.startsWith("+") ? 1 : 0;
  return 0;
}

/** `entry` with its path (what follows the form's `name=` or `+`) replaced by `f(path)`. */
export function mapPath(entry: string, form: PathForm | false | undefined, f: (path: string) => string): string {
  const at = pathStart(entry, form);
  return entry.slice(0, at) + f(entry.slice(at));
}
