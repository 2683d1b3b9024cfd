import fs from "node:fs";
import path from "node:path";

/**
 * mkdir -p, one level at a time from the nearest directory that exists; returns the first one it
 * made, if any (as mkdir's recursive form does). Node's recursive mkdir never returns for a path
 * under /proc (it retries the ENOENT for ever, deaf to signals): a bad -w or --confdir hung pryx.
 */
export function makeDirectories(dir: string, mode?: number): string | undefined {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (!fs.existsSync(at)) {
    missing.unshift(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing) fs.mkdirSync(d, mode === undefined ? undefined : { mode });
  return missing[0];
}
