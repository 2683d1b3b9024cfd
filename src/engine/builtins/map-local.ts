import fs from "node:fs";
import path from "node:path";
import { Response, type HTTPFlow } from "../flow/http.ts";
import { RuleAddon, subjectRegex, type Spec } from "./spec.ts";
import { expandHome } from "../../home-path.ts";

/** The types a browser needs right to use a mapped file; anything else is bytes. */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
};

/**
 * The file a request maps to: the rule's file, or in the rule's directory the part of the URL
 * path after the match (index.html for a directory). Never outside that directory.
 */
function fileFor(spec: Spec, url: string, match: RegExpExecArray): string | undefined {
  const local = localPath(spec);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(local);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return local;
  const rest = url.slice(match.index + match[0].length).replace(/[?#].*$/, "");
  let candidate = path.resolve(local, `.${path.posix.normalize(`/${decodeURIComponent(rest)}`)}`);
  if (candidate !== local && !candidate.startsWith(local + path.sep)) return undefined;
  try {
    if (fs.statSync(candidate).isDirectory()) candidate = path.join(candidate, "index.html");
  } catch {
    return candidate;
  }
  return candidate;
}

/** The rule's file or directory, `~` expanded as mitmproxy expands it. */
function localPath(spec: Spec): string {
  return path.resolve(expandHome(spec.replacement));
}

/**
 * mitmproxy's MapLocal: `[/filter]/url-regex/file-or-directory` answers a matching request from
 * a local file (the server is not asked); a file that is not there is a 404, as in mitmproxy.
 */
export class MapLocalAddon extends RuleAddon {
  constructor() {
    super("map_local", 'Map remote resources to a local file using a pattern of the form "[/flow-filter]/url-regex/file-or-directory-path", where the separator can be any character.', {
      check: (s) => {
        subjectRegex(s);
        // As mitmproxy's "Invalid file path": a misspelt path refused when set, not a 404 on every request.
        if (!fs.existsSync(localPath(s))) throw new Error(`rule ${JSON.stringify(s.text)}: no such file or directory: ${localPath(s)}`);
      },
    });
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    const url = flow.request.pretty_url;
    for (const s of this.matching(flow)) {
      const m = subjectRegex(s, "").exec(url);
      if (!m) continue;
      const file = fileFor(s, url, m);
      let body: Buffer | undefined;
      try {
        body = file ? fs.readFileSync(file) : undefined;
      } catch {
        body = undefined;
      }
      flow.response = body
        ? Response.make(200, body, { "content-type": TYPES[path.extname(file as string).toLowerCase()] ?? "application/octet-stream", server: "pryx map_local" })
        : Response.make(404, `pryx map_local: no file for ${url} under ${s.replacement}\n`, { "content-type": "text/plain; charset=utf-8", server: "pryx map_local" });
      return;
    }
  }
}
