import { parseSetCookie } from "../../cookies.ts";
import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";
import type { Flow } from "../flow/flow.ts";
import { flowFilter } from "../flow-filter.ts";

type Matcher = ((flow: Flow) => boolean) | undefined;

/** What both sticky addons share: a filter option named after the addon, compiled when it changes (a bad one is refused by its check). */
abstract class FilteredAddon {
  protected filter: Matcher;
  private options: Readonly<Record<string, OptionValue>> = {};

  constructor(
    readonly name: "stickyauth" | "stickycookie",
    private readonly help: string,
  ) {}

  load(loader: Loader): void {
    loader.add_option(this.name, "optional str", undefined, this.help, undefined, {
      validate: (v) => {
        if (typeof v === "string") flowFilter(v);
      },
    });
    this.options = loader.options;
  }

  configure(updated: Set<string>): void {
    if (updated.has(this.name)) this.filter = flowFilter(this.options[this.name] as string | undefined);
  }
}

/**
 * mitmproxy's StickyAuth (`-u FILTER`): the Authorization header a client sent to a host is
 * added to later requests to that host that match the filter and have none, so a tool that
 * does not log in (a scanner, curl) rides on the browser's session.
 */
export class StickyAuthAddon extends FilteredAddon {
  private readonly hosts = new Map<string, string>();

  constructor() {
    super("stickyauth", "Set sticky auth filter. Matched against requests.");
  }

  request(flow: HTTPFlow): void {
    if (!this.filter || !flow.live) return;
    const req = flow.request;
    const auth = req.plainHeaders.get("authorization");
    if (auth !== undefined) this.hosts.set(req.host, auth);
    else if (this.filter(flow)) {
      const remembered = this.hosts.get(req.host);
      if (remembered !== undefined) req.plainHeaders.set("authorization", remembered);
    }
  }
}

/** Where a cookie applies: domain, port, path (mitmproxy's key). */
type CookieOrigin = string;

/** RFC 6265 5.1.3 domain-match, ignoring a leading dot on the cookie's domain as browsers do. */
export function domainMatch(host: string, domain: string): boolean {
  const h = host.toLowerCase();
  const d = domain.toLowerCase().replace(/^\./, "");
  return h === d || h.endsWith(`.${d}`);
}

function isExpired(attrs: Map<string, string>, now: number): boolean {
  const maxAge = attrs.get("max-age");
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) return Number(maxAge) <= 0;
  const expires = attrs.get("expires");
  if (expires === undefined) return false;
  const t = Date.parse(expires);
  return !Number.isNaN(t) && t <= now;
}

/**
 * mitmproxy's StickyCookie (`-t FILTER`): cookies that servers set are kept in a jar, and
 * requests that match the filter carry the jar's cookies for their host, port and path
 * (replacing their Cookie header), so a client without the session (curl, a replay) acts
 * inside the browser's. An expired cookie leaves the jar.
 */
export class StickyCookieAddon extends FilteredAddon {
  private readonly jar = new Map<CookieOrigin, { domain: string; port: number; path: string; cookies: Map<string, string> }>();

  constructor() {
    super("stickycookie", "Set sticky cookie filter. Matched against requests.");
  }

  response(flow: HTTPFlow): void {
    const res = flow.response;
    if (!this.filter || !res || !flow.live) return;
    const req = flow.request;
    for (const header of res.plainHeaders.getAll("set-cookie")) {
      const c = parseSetCookie(header);
      if (!c) continue;
      const domain = c.attrs.get("domain") || req.host;
      const path = c.attrs.get("path") || "/";
      if (!domainMatch(req.host, domain)) continue;
      const key = `${domain.toLowerCase()}|${req.port}|${path}`;
      const entry = this.jar.get(key) ?? { domain, port: req.port, path, cookies: new Map<string, string>() };
      if (isExpired(c.attrs, Date.now())) entry.cookies.delete(c.name);
      else entry.cookies.set(c.name, c.value);
      if (entry.cookies.size) this.jar.set(key, entry);
      else this.jar.delete(key);
    }
  }

  request(flow: HTTPFlow): void {
    if (!this.filter || !flow.live || !this.filter(flow)) return;
    const req = flow.request;
    const pairs: string[] = [];
    for (const e of this.jar.values()) {
      if (domainMatch(req.host, e.domain) && req.port === e.port && req.path.startsWith(e.path)) for (const [n, v] of e.cookies) pairs.push(`${n}=${v}`);
    }
    if (pairs.length) {
      req.plainHeaders.set("cookie", pairs.join("; "));
      flow.metadata.stickycookie = true;
    }
  }
}
