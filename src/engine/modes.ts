/**
 * The proxy modes pryx serves, as typed after `-m`. The flag's help, the mode option's help
 * and check, and the listener's error all read this list, so a new mode is added once.
 */
export const MODES = ["regular", "transparent", "upstream:URL", "reverse:URL", "socks5", "dns"] as const;

/** "regular, upstream:URL, reverse:URL, socks5 or dns": for help texts and errors. */
export function describeModes(last = "or"): string {
  return `${MODES.slice(0, -1).join(", ")} ${last} ${MODES.at(-1) ?? ""}`;
}

const PLAIN = MODES.filter((m) => !m.endsWith(":URL"));
// A reverse target may leave out its scheme (https, as in mitmproxy), and so may an upstream proxy (http).
/**
 * mitmproxy's `@[listen_host:]listen_port` after a mode; the host an IP address, localhost, or *
 * for all interfaces. An IPv6 address may go without brackets (`@::1:8080`): the port is what
 * follows the last colon, as mitmproxy splits it.
 */
const LISTEN_AT = /@(?:(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F]*:[0-9a-fA-F:.]+|\d{1,3}(?:\.\d{1,3}){3}|localhost|\*):)?(\d+)$/;
const MODE_SPEC = new RegExp(`^(${PLAIN.join("|")}|upstream:\\S+|reverse:[^\\s@]+)(${LISTEN_AT.source.slice(0, -1)})?$`);

/** The schemes of `reverse:SCHEME://HOST[:PORT]`: how pryx talks to the target, and what the listener accepts. */
export const REVERSE_SCHEMES = ["http", "https", "tcp", "tls", "udp", "dns"] as const;
export type ReverseScheme = (typeof REVERSE_SCHEMES)[number];
/** mitmproxy's reverse schemes that need DTLS or QUIC, which pryx does not speak. */
const UNSUPPORTED_REVERSE = ["dtls", "quic", "http3"];
const DEFAULT_PORTS: Partial<Record<ReverseScheme, number>> = { http: 80, https: 443, tls: 443, dns: 53 };

export interface ReverseTarget {
  scheme: ReverseScheme;
  host: string;
  port: number;
}

/**
 * The target of a `reverse:` mode (without its @PORT), as mitmproxy reads it: the scheme defaults
 * to https, the port to the scheme's own, and tcp, which has none, must give one.
 */
export function parseReverseTarget(mode: string): ReverseTarget {
  const spec = mode.slice("reverse:".length);
  // A scheme is a scheme in either case (RFC 3986): "HTTP://h" was the host "http".
  const given = /^[a-z][a-z0-9]*(?=:\/\/)/i.exec(spec)?.[0];
  const withScheme = given ? `${given.toLowerCase()}${spec.slice(given.length)}` : `https://${spec}`;
  const scheme = withScheme.slice(0, withScheme.indexOf(":"));
  if (UNSUPPORTED_REVERSE.includes(scheme)) throw new Error(`mode ${mode}: pryx does not proxy ${scheme} (no DTLS or QUIC yet); reverse targets are ${REVERSE_SCHEMES.join(", ")}`);
  if (!(REVERSE_SCHEMES as readonly string[]).includes(scheme)) throw new Error(`mode ${mode}: unknown scheme ${JSON.stringify(scheme)}; reverse targets are ${REVERSE_SCHEMES.join(", ")}`);
  let url: URL;
  try {
    // Parsed as http so that URL reads host and port the same way for every scheme.
    url = new URL(`http${withScheme.slice(scheme.length)}`);
  } catch {
    throw new Error(`mode ${mode}: ${JSON.stringify(spec)} is not SCHEME://HOST[:PORT]`);
  }
  const explicit = /^\S*:\/\/(\[[^\]]*\]|[^/:]*):(\d+)/.exec(withScheme)?.[2];
  const port = explicit !== undefined ? Number(explicit) : DEFAULT_PORTS[scheme as ReverseScheme];
  if (port === undefined) throw new Error(`mode ${mode}: a ${scheme} target needs a port, e.g. reverse:${scheme}://${url.hostname}:${scheme === "udp" ? 5353 : 5432}`);
  if (!url.hostname) throw new Error(`mode ${mode}: no host in ${JSON.stringify(spec)}`);
  // mitmproxy refuses one too: requests keep their own paths, and a prefix would be dropped unsaid.
  if ((url.pathname !== "/" && url.pathname !== "") || url.search) throw new Error(`mode ${mode}: a reverse target is SCHEME://HOST[:PORT], without a path (${url.pathname}${url.search}); requests keep their own paths`);
  return { scheme: scheme as ReverseScheme, host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

const UPSTREAM_SCHEMES = ["http", "https"];

/**
 * The proxy of an `upstream:` mode (without its @PORT), as mitmproxy reads it: the scheme may be
 * left out (http). Undefined for another mode; throws for a proxy that is no [SCHEME://]HOST[:PORT].
 */
export function upstreamProxyUrl(mode: string): URL | undefined {
  if (!mode.startsWith("upstream:")) return undefined;
  const spec = mode.slice("upstream:".length);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) ? spec : `http://${spec}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`mode ${mode}: ${JSON.stringify(spec)} is not [SCHEME://]HOST[:PORT]`);
  }
  if (!url.hostname) throw new Error(`mode ${mode}: no host in ${JSON.stringify(spec)}`);
  return url;
}

/** mitmproxy's modes pryx has not, and what to use instead. */
const MITMPROXY_ONLY_MODES: Record<string, string> = {
  wireguard: "pryx has no WireGuard server; point the device at a regular proxy, or redirect its traffic to -m transparent",
  local: "pryx has no per-process redirector (mitmproxy_rs); point the program at a regular proxy (HTTPS_PROXY), or redirect it to -m transparent",
  osproxy: "mitmproxy renamed it local, which pryx has not; point the program at a regular proxy",
};

/** Why a mode as `-m` takes it is not one, or undefined: one of MODES (a URL where it says URL), optionally `@PORT`. */
export function modeSpecError(spec: string): string | undefined {
  if (!MODE_SPEC.test(spec)) {
    const instead = MITMPROXY_ONLY_MODES[/^[a-z0-9]+/.exec(spec)?.[0] ?? ""];
    return instead ? `mode ${JSON.stringify(spec)}: ${instead}` : `invalid mode ${JSON.stringify(spec)}: expected ${describeModes()}, each optionally @PORT or @HOST:PORT`;
  }
  const { mode } = parseModeSpec(spec);
  if (mode.startsWith("upstream:")) {
    let url: URL;
    try {
      url = upstreamProxyUrl(mode) as URL;
    } catch (err) {
      return (err as Error).message;
    }
    // mitmproxy's upstream proxies are http and https ones; another scheme would quietly be spoken to as http.
    const scheme = url.protocol.slice(0, -1);
    return UPSTREAM_SCHEMES.includes(scheme) ? undefined : `mode ${JSON.stringify(spec)}: an upstream proxy is http:// or https://, not ${scheme}://${scheme.startsWith("socks") ? " (pryx does not chain to SOCKS proxies)" : ""}`;
  }
  if (!mode.startsWith("reverse:")) return undefined;
  try {
    parseReverseTarget(mode);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** What a mode's listener speaks to its clients, as its "listening at" line names it. */
export function listenerScheme(mode: string): "http" | "socks5" | "dns" | "tcp" | "tls" | "udp" {
  if (mode === "socks5" || mode === "dns") return mode;
  // Redirected connections arrive as they were sent: TLS, HTTP or other TCP.
  if (mode === "transparent") return "tcp";
  if (!mode.startsWith("reverse:")) return "http";
  const { scheme } = parseReverseTarget(mode);
  return scheme === "https" ? "http" : scheme;
}

/** Whether a mode listens on UDP (dns, reverse:dns, reverse:udp) rather than TCP. */
export function listensOnUdp(mode: string): boolean {
  const scheme = listenerScheme(mode);
  return scheme === "dns" || scheme === "udp";
}

/** Splits `-m socks5@1080` into the mode and its own port (undefined: the listen_port). */
export function parseModeSpec(spec: string): { mode: string; port: number | undefined; host: string | undefined } {
  const at = LISTEN_AT.exec(spec);
  if (!at) return { mode: spec, port: undefined, host: undefined };
  const host = at[1] === undefined ? undefined : at[1] === "*" ? "0.0.0.0" : at[1].replace(/^\[|\]$/g, "");
  return { mode: spec.slice(0, at.index), port: Number(at[2]), host };
}

/** mitmproxy's default ports of the modes that have their own: SOCKS5's and DNS's. */
function defaultPortOf(mode: string): number | undefined {
  if (mode === "socks5") return 1080;
  if (mode === "dns" || mode.startsWith("reverse:dns:")) return 53;
  return undefined;
}

/**
 * The port a mode listens on: its own (`@PORT`), else listen_port. Left at its default, listen_port
 * gives way to the mode's own default, as in mitmproxy: `-m regular -m socks5` listens on 8080
 * and 1080, `-m dns` on 53.
 */
export function modePort(spec: string, listenPort: number): number {
  const { mode, port } = parseModeSpec(spec);
  if (port !== undefined) return port;
  return listenPort === DEFAULT_LISTEN_PORT ? (defaultPortOf(mode) ?? listenPort) : listenPort;
}

/** Where the proxy listens unless told otherwise (-p). */
export const DEFAULT_LISTEN_PORT = 8080;

/**
 * Two modes given the same port (`-m regular -m socks5`, both on listen_port) cannot both
 * listen: the second would fail with "address in use", which reads as another program's fault.
 * dns listens on UDP, so it may share a port with a TCP mode. Port 0 picks a free port each time.
 */
export function samePortClash(modes: readonly string[], listenPort: number): string | undefined {
  const seen = new Map<string, string>();
  const taken = modes.map((spec) => modePort(spec, listenPort));
  for (const spec of modes) {
    const { mode } = parseModeSpec(spec);
    const port = modePort(spec, listenPort);
    if (port === 0) continue;
    const key = `${listensOnUdp(mode) ? "udp" : "tcp"}:${port}`;
    const other = seen.get(key);
    if (other !== undefined) {
      // The suggestion is a port no other mode listens on.
      let free = port + 1;
      while (taken.includes(free)) free++;
      return `modes ${other} and ${spec} both listen on port ${port}: give one of them its own port, e.g. -m ${mode}@${free}`;
    }
    seen.set(key, spec);
  }
  return undefined;
}
