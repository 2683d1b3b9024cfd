/**
 * File path completion for the prompt's path arguments (`view.flows.load path`, `save.file flows
 * path`…), as mitmproxy completes its Path type: names in the directory typed so far, directories
 * with a trailing "/", and `~` expanded to the home directory.
 */
import { promises as fs, type Dirent } from "node:fs";
import path from "node:path";
import { expandHome } from "../home-path.ts";

export { expandHome };

/**
 * The paths that complete `word`, sorted, directories ending in "/". Dot files are left out
 * unless the name typed starts with "." (as shells do). An unreadable directory completes nothing.
 */
export async function completePath(word: string, opts: { cwd?: string; home?: string } = {}): Promise<string[]> {
  const typed = expandHome(word, opts.home);
  const slash = typed.lastIndexOf("/");
  const dir = typed.slice(0, slash + 1);
  const prefix = typed.slice(slash + 1);
  const base = path.resolve(opts.cwd ?? process.cwd(), dir === "" ? "." : dir);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(base, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.name.startsWith(prefix) || (e.name.startsWith(".") && !prefix.startsWith("."))) continue;
    out.push(dir + e.name + ((await isDirectory(path.join(base, e.name), e)) ? "/" : ""));
  }
  return out.sort();
}

/** A directory, or a link to one (a link's own type says only that it is a link). */
async function isDirectory(full: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await fs.stat(full)).isDirectory();
  } catch {
    return false;
  }
}

/** The longest prefix all the strings share. */
export function commonPrefix(xs: readonly string[]): string {
  if (xs.length === 0) return "";
  let p = xs[0]!;
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/** The name a path's candidate is listed by: its last part, a directory's with its "/". */
export function lastPathPart(p: string): string {
  const trimmed = p.endsWith("/") ? p.slice(0, -1) : p;
  return p.slice(trimmed.lastIndexOf("/") + 1);
}
