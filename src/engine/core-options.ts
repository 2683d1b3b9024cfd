import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import type { OptionValue, Options } from "./options.ts";
import { compileFilter } from "./filter/index.ts";
import { DEFAULT_LISTEN_PORT, describeModes, modeSpecError } from "./modes.ts";
import { credentialCheck } from "./proxy/proxy-credentials.ts";
import { readTrustedCa, readTrustedCaDir } from "./proxy/trusted-ca.ts";
import { ONBOARDING_HOST } from "./ca/onboarding.ts";
import { readCustomCerts } from "./ca/custom-certs.ts";
import { TLS_VERSIONS, type TlsVersionName, validClientCerts, validTlsSetting, validTlsVersion } from "./proxy/tls-settings.ts";
import { CONSOLE_LAYOUTS, CONSOLE_PALETTES, CONTENT_VIEWS, FLOWLIST_LAYOUTS, FLOWLIST_LAYOUT_HELP } from "../console-choices.ts";
import { LOG_LEVELS } from "../protocol.ts";
import { ProtoDefinitions } from "../proto-definitions.ts";
import { savePath } from "./save-path.ts";
import { resolvers } from "./proxy/dns-server.ts";

const validFilter = (v: unknown): void => {
  if (typeof v === "string" && v.trim()) compileFilter(v);
};

const validRegexes = (v: unknown): void => {
  for (const p of (v as string[]) ?? []) {
    try {
      new RegExp(p);
    } catch (err) {
      throw new Error(`invalid regex ${JSON.stringify(p)}: ${(err as Error).message}`);
    }
  }
};

const validUserPass = (v: unknown): void => {
  if (typeof v === "string" && !v.includes(":")) throw new Error("expected user:pass");
};

const validModes = (v: unknown): void => {
  for (const m of v as string[]) {
    const error = modeSpecError(m);
    if (error) throw new Error(error);
  }
};

/** Where the proxy listens unless told otherwise; `pryx ca`'s examples point clients here too. */
export const DEFAULT_LISTEN_HOST = "127.0.0.1";
export { DEFAULT_LISTEN_PORT };
/** The CA and user configuration, for the proxy and for `pryx ca` alike. */
export const DEFAULT_CONFDIR = path.join(os.homedir(), ".pryx");

/**
 * A validate for a list of file paths: a mistyped one is an error up front that names it (`no
 * such script: x.ts`), as in mitmproxy, not a proxy running without what it names.
 */
export function filesExist(what: string): (paths: unknown) => void {
  return (paths) => {
    const missing = (paths as string[]).filter((p) => !fs.existsSync(p));
    if (missing.length) throw new Error(`no such ${what}: ${missing.join(", ")}`);
  };
}

/** An integer option's range, each end said with what it means ("must be from 0 (quiet) to 4 (full bodies)"). */
function within(min: number, minMeans: string, max: number, maxMeans?: string): (v: OptionValue) => void {
  return (v) => {
    if ((v as number) < min || (v as number) > max) throw new Error(`must be from ${min} (${minMeans}) to ${max}${maxMeans ? ` (${maxMeans})` : ""}`);
  };
}

/** A validate for a count where 0 means `zero` (no limit, never): negative values are refused. */
function noneBelowZero(zero: string): (v: OptionValue) => void {
  return (v) => {
    if ((v as number) < 0) throw new Error(`must be 0 (${zero}) or more`);
  };
}

/** The engine's own options, with mitmproxy's names where mitmproxy has the option. */
export function registerCoreOptions(options: Options): void {
  options.add({ name: "listen_host", type: "str", default: DEFAULT_LISTEN_HOST, help: "Address to bind the proxy to (loopback by default; 0.0.0.0 for every interface)." });
  options.add({
    name: "listen_port",
    type: "int",
    default: DEFAULT_LISTEN_PORT,
    help: "Proxy port (0 picks a free port).",
    validate: (v) => {
      if (typeof v !== "number" || v < 0 || v > 65535) throw new Error("must be from 0 to 65535");
    },
  });
  options.add({ name: "server", type: "bool", default: true, help: "Start a proxy server (false: as -n); set while running, it stops or starts listening, as mitmproxy's." });
  options.add({ name: "mode", type: "str[]", default: ["regular"], help: `Proxy modes: ${describeModes("and")} (each may take @PORT).`, validate: validModes });
  options.add({ name: "confdir", type: "str", default: DEFAULT_CONFDIR, paths: true, help: "Directory for the CA and user configuration." });
  options.add({ name: "http2", type: "bool", default: true, help: "Offer HTTP/2 to clients (ALPN) and speak it to servers that offer it." });
  options.add({
    name: "connect_addr",
    type: "optional str",
    default: undefined,
    help: "The local IP address pryx's connections to servers leave from.",
    validate: (v) => {
      if (typeof v === "string" && net.isIP(v) === 0) throw new Error(`${JSON.stringify(v)} is not an IP address`);
    },
  });
  options.add({ name: "http_connect_send_host_header", type: "bool", default: true, help: "Send a Host header with the CONNECT requests pryx makes to an upstream proxy." });
  options.add({ name: "keep_host_header", type: "bool", default: false, help: "Reverse proxy: keep the client's Host header instead of rewriting it to the target's." });
  options.add({
    name: "certs",
    type: "str[]",
    default: [],
    paths: "after=",
    help: 'Your own certificates for hosts, "[domain=]path": a PEM file with the chain (leaf first) and its key; the domain may have * wildcards, and is * when left out.',
    validate: (v) => void readCustomCerts(v as string[], { passphrase: options.get<string | undefined>("cert_passphrase"), strict: false }),
  });
  options.add({
    name: "cert_passphrase",
    type: "optional str",
    default: undefined,
    help: "Passphrase for decrypting the private key provided in the --cert option. Note that passing cert_passphrase on the command line makes your passphrase visible in your system's process list. Specify it in config.yaml to avoid this.",
    validate: (v) => void readCustomCerts(options.get<string[]>("certs"), { passphrase: v as string | undefined, strict: false }),
  });
  options.add({ name: "client_certs", type: "optional str", default: undefined, paths: true, help: "A PEM file (certificate and key) shown to servers that ask for a client certificate, or a directory of HOST.pem files.", validate: validClientCerts });
  options.add({ name: "store_streamed_bodies", type: "bool", default: false, help: "Keep the bodies of streamed requests and responses (see stream_large_bodies) in their flows too, at the cost of memory." });
  options.add({ name: "ssl_insecure", type: "bool", default: false, help: "Do not verify upstream server certificates." });
  // Both are read when set, so a missing or empty one is refused at once, naming it.
  const trusted = (name: string, what: string, read: (path: string) => unknown): void =>
    options.add({
      name,
      type: "optional str",
      default: undefined,
      paths: true,
      help: `${what} that upstream servers are verified against, in place of the system's.`,
      validate: (v) => void (typeof v === "string" && read(v)),
    });
  trusted("ssl_verify_upstream_trusted_ca", "A PEM file of CA certificates", readTrustedCa);
  trusted("ssl_verify_upstream_trusted_confdir", "A directory of CA certificate files (as c_rehash prepares them; with ssl_verify_upstream_trusted_ca, both)", readTrustedCaDir);
  for (const side of ["client", "server"] as const) {
    const whose = side === "client" ? "clients' connections to pryx" : "pryx's connections to servers";
    options.add({ name: `tls_version_${side}_min`, type: "choice", default: "TLS1_2", choices: [...TLS_VERSIONS], help: `The oldest TLS version for ${whose} (UNBOUNDED: the oldest there is).`, validate: validTlsVersion });
    options.add({ name: `tls_version_${side}_max`, type: "choice", default: "UNBOUNDED", choices: [...TLS_VERSIONS], help: `The newest TLS version for ${whose}.`, validate: validTlsVersion });
    const [min, max] = [`tls_version_${side}_min`, `tls_version_${side}_max`];
    // Else every handshake on that side fails with "no protocols available".
    options.addRule([min, max], (get) => {
      const [lo, hi] = [get(min) as TlsVersionName, get(max) as TlsVersionName];
      if (lo === "UNBOUNDED" || hi === "UNBOUNDED" || TLS_VERSIONS.indexOf(lo) <= TLS_VERSIONS.indexOf(hi)) return undefined;
      return `${min} ${lo} is newer than ${max} ${hi}: no TLS version would be left for ${whose}`;
    });
    options.add({ name: `ciphers_${side}`, type: "optional str", default: undefined, help: `The ciphers for ${whose}, in OpenSSL's syntax.`, validate: validTlsSetting("ciphers") });
    options.add({ name: `tls_ecdh_curve_${side}`, type: "optional str", default: undefined, help: `The elliptic curve(s) for ECDHE key exchange on ${whose}, as OpenSSL names them (X25519, P-256, ...).`, validate: validTlsSetting("ecdhCurve") });
  }
  options.add({ name: "ignore_hosts", type: "str[]", default: [], help: "Regexes of host:port whose TLS is passed through without decryption.", validate: validRegexes, exclusiveWith: "allow_hosts" });
  options.add({ name: "allow_hosts", type: "str[]", default: [], help: "Regexes of host:port: only these are intercepted, the rest passed through.", validate: validRegexes, exclusiveWith: "ignore_hosts" });
  options.add({ name: "tcp_hosts", type: "str[]", default: [], help: "Regexes of host:port relayed as TCP flows whatever they carry; TLS is intercepted, so the flow holds the decrypted stream (mitmproxy's generic TCP SSL mode).", validate: validRegexes });
  options.add({
    name: "export_preserve_original_ip",
    type: "bool",
    default: false,
    help: "When exporting a request as an external command, make an effort to connect to the same IP as in the original request. This helps with reproducibility in cases where the behaviour depends on the particular host we are connected to. Currently this only affects curl exports.",
  });
  options.add({
    name: "http2_ping_keepalive",
    type: "int",
    default: 58,
    help: "Send a PING frame if an HTTP/2 connection is idle for more than the specified number of seconds to prevent the remote site from closing it. Set to 0 to disable this feature.",
    validate: noneBelowZero("off"),
  });
  options.add({
    name: "request_client_cert",
    type: "bool",
    default: false,
    help: "Ask clients for a certificate (TLS CertificateRequest), for mutual TLS between the client and pryx; whatever the client sends (or nothing) is taken and recorded. client_certs gives pryx's own to servers.",
  });
  options.add({
    name: "show_ignored_hosts",
    type: "bool",
    default: true,
    help: "Record connections to ignored hosts (ignore_hosts, allow_hosts) as TCP flows with their bytes; off, they pass with no flow and nothing kept in memory.",
  });
  options.add({ name: "dns_use_hosts_file", type: "bool", default: true, help: "Use the hosts file for DNS lookups in regular DNS mode/wireguard mode." });
  options.add({
    name: "key_size",
    type: "int",
    default: 2048,
    help: "TLS key size for the CA (RSA bits), used when pryx makes its CA on first run; an existing CA is kept. Host certificates use ECDSA P-256 keys, which have no size to set.",
    validate: within(2048, "clients refuse smaller RSA keys", 16384),
  });
  options.add({
    name: "connection_strategy",
    type: "choice",
    default: "lazy",
    choices: ["eager", "lazy"],
    help: "When server connections open: lazy, at a tunnel's first request (pryx's default), or once the client has been silent for 100 ms, when whichever side speaks first decides (a server's greeting is relayed as TCP); eager, before the CONNECT is answered (mitmproxy's default), so a server that is down is the CONNECT's 502 and a server that speaks first is relayed as TCP.",
  });
  options.add({
    name: "websocket",
    type: "bool",
    default: true,
    help: "Read WebSocket connections as messages (the websocket_* hooks, intercept, the flow's messages); off, a 101 upgrade is relayed as raw bytes, as any other upgrade is.",
  });
  options.add({ name: "rawtcp", type: "bool", default: true, help: "Relay what is neither TLS nor HTTP as raw TCP; off, it is read as HTTP and refused as malformed (tcp_hosts still relay)." });
  options.add({ name: "validate_inbound_headers", type: "bool", default: true, help: "Make sure that incoming HTTP requests are not malformed. Disabling this option makes pryx vulnerable to HTTP smuggling attacks." });
  options.add({
    name: "tcp_timeout",
    type: "int",
    default: 600,
    help: "Timeout in seconds for inactive connections: a TCP or WebSocket relay with nothing either way, or an HTTP/1 or HTTP/2 client connection with no request in progress, is closed after this long, and a server that takes a request and then sends nothing for this long is given up (the client gets a 504; a response held by intercept waits); 0 never.",
    validate: noneBelowZero("never"),
  });
  options.add({
    name: "http_head_timeout",
    type: "int",
    default: 30,
    help: "An HTTP/1 request head (request line and headers) must be complete within this many seconds of its first byte, or the client gets a 408 and the connection closes: a client that trickles a head byte by byte (slowloris) holds a connection no longer; 0 never. mitmproxy has no such limit.",
    validate: noneBelowZero("never"),
  });
  options.add({
    name: "udp_timeout",
    type: "int",
    default: 20,
    help: "A UDP flow (reverse:udp) with no datagram either way for this many seconds ends, and the client's next datagram starts a new one; 0 never.",
    validate: noneBelowZero("never"),
  });
  options.add({ name: "intercept", type: "filter", default: undefined, help: "Intercept filter: matching flows pause for the user.", validate: validFilter });
  options.add({ name: "intercept_active", type: "bool", default: false, help: "Whether the intercept filter is in force (set when intercept is set)." });
  // kill, as mitmproxy does: a request paused to keep it from its server must not reach it because pryx quit.
  options.add({ name: "intercept_on_exit", type: "choice", default: "kill", choices: ["kill", "resume"], help: "What happens to flows still paused when pryx exits: kill them (as mitmproxy does), or resume them as they are." });
  options.add({ name: "dumper_filter", type: "filter", default: undefined, help: "pryx dump prints only flows matching this filter (the filter given after the flags sets it too).", validate: validFilter });
  options.add({ name: "onboarding", type: "bool", default: true, help: "Answer requests to onboarding_host with the page that hands out the pryx CA." });
  options.add({
    name: "onboarding_host",
    type: "str",
    default: ONBOARDING_HOST,
    help: "The host of the onboarding page (mitmproxy's is mitm.it).",
    validate: (v) => {
      if (!(v as string).trim()) throw new Error("must name a host (onboarding=false turns the page off)");
    },
  });
  options.add({ name: "view_filter", type: "filter", default: undefined, help: "Show only flows matching this filter in the console.", validate: validFilter });
  options.add({ name: "termlog_verbosity", type: "choice", default: "info", choices: [...LOG_LEVELS], help: "pryx dump's log verbosity: the least severe level printed." });
  options.add({ name: "console_eventlog_verbosity", type: "choice", default: "info", choices: [...LOG_LEVELS], help: "The console's event log verbosity: the least severe level shown." });
  options.add({
    name: "flow_detail",
    type: "int",
    default: 1,
    help: "pryx dump verbosity: 0 quiet, 1 one line per flow, 2 with headers, 3 with bodies (cut), 4 with full bodies.",
    validate: within(0, "quiet", 4, "full bodies"),
  });
  options.add({ name: "scripts", type: "str[]", default: [], paths: true, help: "Addon scripts to load (.ts, .js, .mjs).", validate: filesExist("script") });
  options.add({ name: "save_stream_filter", type: "filter", default: undefined, help: "Save only the flows that match this filter with -w.", validate: validFilter });
  options.add({ name: "readfile_filter", type: "filter", default: undefined, help: "Read only the flows that match this filter with -r.", validate: validFilter });
  options.add({
    name: "save_stream_file",
    type: "optional str",
    default: undefined,
    paths: "after+",
    help: "Save every finished flow to this file: a leading + appends; strftime codes (%Y-%m-%d) are the time at start; missing directories are made.",
    // A path nothing can be written to stops the start, as in mitmproxy, rather than a capture that saves nothing.
    validate: (v) => {
      if (typeof v === "string" && v) savePath(v);
    },
  });
  options.add({
    name: "proxyauth",
    type: "optional str",
    default: undefined,
    help: "Require proxy authentication (Basic, and SOCKS5's username/password): user:pass, any (any credentials are accepted), or @path to an Apache htpasswd file (htpasswd -m, -B, -s or -p; crypt's $1$, $5$, $6$).",
    validate: (v) => {
      if (typeof v === "string") credentialCheck(v);
    },
  });
  // A transparent client does not know there is a proxy and sends no Proxy-Authorization: the
  // listener would be open to all while the user thinks it closed (mitmproxy refuses it too).
  options.addRule(["proxyauth", "mode"], (get) => {
    if (get("proxyauth") === undefined) return undefined;
    const transparent = (get("mode") as string[]).filter((m) => /^transparent(@|$)/.test(m));
    return transparent.length ? `proxyauth cannot be asked of a transparent mode's clients (${transparent.join(", ")}): they send no Proxy-Authorization, so that listener would let everyone in; use proxyauth with regular, upstream, reverse or socks5 listeners only` : undefined;
  });
  options.add({
    name: "upstream_auth",
    type: "optional str",
    default: undefined,
    help: "Credentials user:pass, sent as Basic Proxy-Authorization to the proxy of an upstream:URL mode (with its CONNECTs and plain-HTTP requests), and as Basic Authorization to the target of a reverse:URL mode.",
    validate: validUserPass,
  });
  options.add({
    name: "dns_name_servers",
    type: "str[]",
    default: [],
    help: "Upstream resolvers for dns mode (IP or IP:PORT, comma-separated); default: the system's.",
    // Refused when set, not at the first query, which got SERVFAIL for it.
    validate: (v) => void ((v as string[]).length && resolvers(v as string[])),
  });
  options.add({
    name: "connection_reuse",
    type: "choice",
    default: "shared",
    choices: ["shared", "client"],
    help: "shared: idle server connections a client leaves behind serve other clients (fewer TLS handshakes), except those that carried credentials (NTLM logs in the connection); client: every client connection has its own server connections, as in mitmproxy.",
  });
  options.add({
    name: "max_flows",
    type: "int",
    default: 0,
    help: "Keep at most this many flows (0: no limit); beyond it the oldest finished flows are dropped as new ones arrive. Marked flows are kept.",
    validate: noneBelowZero("no limit"),
  });
  options.add({
    name: "spill_bodies",
    type: "bool",
    default: false,
    help: "Keep kept flows' bodies over 64 KiB in a temporary file, not in memory (for sessions with downloads or video). The file is removed from the temp directory at once and goes with pryx.",
  });
  options.add({ name: "rfile", type: "optional str", default: undefined, paths: true, help: "Read flows from this file at start." });
  options.add({ name: "showhost", type: "bool", default: true, help: "Show the Host header's host in the flow list and URLs; off: the host pryx connected to (mitmproxy's showhost, whose default is off)." });
  options.add({ name: "command_history", type: "bool", default: true, help: "Keep the console's command history (filters included) in <confdir>/command_history across sessions." });
  options.add({ name: "console_flowlist_layout", type: "choice", default: "table", choices: [...FLOWLIST_LAYOUTS], help: FLOWLIST_LAYOUT_HELP });
  options.add({ name: "console_layout", type: "choice", default: "single", choices: [...CONSOLE_LAYOUTS], help: "The flow list alone, or split with a preview of the focused flow (vertical: below, horizontal: beside); - cycles." });
  options.add({
    name: "console_mouse",
    type: "bool",
    default: false,
    // mitmproxy's is on; off here, as its users ask (mitmproxy#597, #2326): a terminal that reports
    // the mouse no longer selects text for copying, which is most of what a mouse does over SSH.
    help: "Mouse in the console: the wheel scrolls, a click on a flow opens it. While it is on, hold Shift (most terminals) to select text.",
  });
  options.add({
    name: "console_palette",
    type: "choice",
    default: "dark",
    choices: [...CONSOLE_PALETTES],
    help: "Colour palette: dark and lowdark use the terminal's own colours (for a dark background), lowlight the same moved for a light one, light and solarized_* fixed 24-bit colours.",
  });
  options.add({ name: "console_palette_transparent", type: "bool", default: true, help: "Draw on the terminal's own background; off, the palette's text and background colours are the terminal's while pryx runs (OSC 10/11)." });
  options.add({
    name: "content_view_lines_cutoff",
    type: "int",
    default: 512,
    help: "The console shows this many lines of a body until f shows all of them.",
    validate: (v) => {
      if (typeof v !== "number" || v < 1) throw new Error("must be a positive number of lines");
    },
  });
  options.add({ name: "console_strip_trailing_newlines", type: "bool", default: false, help: "Strip trailing newlines from bodies edited in $EDITOR (editors add one when they save)." });
  options.add({ name: "console_layout_headers", type: "bool", default: true, help: "Show the title row of the help, event log, options, commands and key bindings screens; off gives the row to their contents." });
  options.add({ name: "console_quickhelp_visible", type: "bool", default: true, help: "Show the quick help line (the keys of the current screen) under the status bar; H toggles it." });
  options.add({
    name: "protobuf_definitions",
    type: "optional str",
    default: undefined,
    paths: true,
    help: "A .proto file: gRPC bodies show field names, the message type found from the request path (/package.Service/Method).",
    validate: (v) => {
      if (typeof v === "string" && v !== "") ProtoDefinitions.load(v);
    },
  });
  options.add({ name: "console_default_contentview", type: "choice", default: "auto", choices: [...CONTENT_VIEWS], help: "The content view a body is shown in until m picks another." });
  options.add({ name: "dumper_default_contentview", type: "choice", default: "auto", choices: [...CONTENT_VIEWS], help: "The content view pryx dump shows bodies in from flow_detail 3." });
  options.add({ name: "console_focus_follow", type: "bool", default: false, help: "The console's focus follows new flows." });
  options.add({ name: "view_order", type: "choice", default: "time", choices: ["time", "method", "url", "size"], help: "Flow list order." });
  options.add({ name: "view_order_reversed", type: "bool", default: false, help: "Reverse the flow list order." });
}
