import { expandHome } from "./home-path.ts";
import { leaveLostTerminalAtExit } from "./terminal-gone.ts";
import fs from "node:fs";
import path from "node:path";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { EngineClient, type EngineInit } from "./engine-client.ts";
import { attachDump, formatLog } from "./dump.ts";
import { schemasFrom } from "./proto-definitions.ts";
import { DEFAULT_MAX_LINES, type ViewName } from "./tui/contentviews/index.ts";
import { sanitize } from "./tui/format.ts";
import { shownAt, type EngineEvent, type LogLevel, type OptionInfo, type ReadyInfo } from "./protocol.ts";
import { EMPTY_BATCH } from "./summary-codec.ts";
import type { OptionText } from "./engine/options.ts";
import { startupTexts } from "./engine/options-file.ts";
import { compileFilter } from "./engine/filter/index.ts";
import { MODES, REVERSE_SCHEMES } from "./engine/modes.ts";
import { loadMarkerNames } from "./markers.ts";

/**
 * The flags that are plain shorthands for one option each (mitmproxy's names): a string, a
 * repeatable list (each flag one item, taken whole: a rule or regex may hold commas), a list of
 * paths, or a switch that turns a bool option on. One table feeds yargs and optionsFromArgs.
 */
const FLAGS: readonly { flag: string; option: string; kind: "str" | "list" | "paths" | "switch"; alias?: string; describe: string }[] = [
  { flag: "listen-host", option: "listen_host", kind: "str", describe: "Bind address (default 127.0.0.1)" },
  { flag: "mode", option: "mode", kind: "list", alias: "m", describe: `${MODES.join(" | ")}, each may take @PORT or @HOST:PORT; repeatable. reverse:URL's scheme is ${REVERSE_SCHEMES.join(", ")}` },
  { flag: "scripts", option: "scripts", kind: "paths", alias: "s", describe: "Addon script (.ts, .js, .mjs); repeatable" },
  { flag: "intercept", option: "intercept", kind: "str", alias: "i", describe: "Intercept filter expression" },
  { flag: "view-filter", option: "view_filter", kind: "str", alias: "f", describe: "Show only matching flows (the console's list; dump prints only these)" },
  { flag: "save-stream-file", option: "save_stream_file", kind: "str", alias: "w", describe: "Append finished flows to a file" },
  { flag: "ssl-insecure", option: "ssl_insecure", kind: "switch", alias: "k", describe: "Do not verify upstream certificates" },
  { flag: "ignore-hosts", option: "ignore_hosts", kind: "list", describe: "Regex of host:port to pass through without decrypting" },
  { flag: "allow-hosts", option: "allow_hosts", kind: "list", describe: "Regex of host:port: intercept only these" },
  { flag: "tcp-hosts", option: "tcp_hosts", kind: "list", describe: "Regex of host:port relayed as a TCP flow (TLS intercepted)" },
  { flag: "modify-headers", option: "modify_headers", kind: "list", alias: "H", describe: "Header rule [/filter]/name/[@]value (empty value removes); repeatable" },
  { flag: "modify-body", option: "modify_body", kind: "list", alias: "B", describe: "Body rule [/filter]/regex/[@]replacement; repeatable" },
  { flag: "map-remote", option: "map_remote", kind: "list", alias: "M", describe: "URL rule [/filter]/url-regex/replacement; repeatable" },
  { flag: "map-local", option: "map_local", kind: "list", describe: "Local file rule [/filter]/url-regex/file-or-dir; repeatable" },
  { flag: "client-replay", option: "client_replay", kind: "paths", alias: "C", describe: "Replay the requests of a saved file (dump then exits, unless keepserving); repeatable" },
  { flag: "server-replay", option: "server_replay", kind: "paths", alias: "S", describe: "Answer matching requests from a saved file's responses; repeatable" },
  { flag: "stickycookie", option: "stickycookie", kind: "str", alias: "t", describe: "Sticky cookie filter: matching requests carry the cookies servers set" },
  { flag: "stickyauth", option: "stickyauth", kind: "str", alias: "u", describe: "Sticky auth filter: matching requests carry the Authorization last sent to their host" },
  { flag: "anticache", option: "anticache", kind: "switch", describe: "Strip If-Modified-Since and If-None-Match from requests" },
  { flag: "anticomp", option: "anticomp", kind: "switch", describe: "Ask servers for uncompressed bodies" },
  { flag: "showhost", option: "showhost", kind: "switch", describe: "Show the Host header's host (on by default in pryx)" },
  { flag: "show-ignored-hosts", option: "show_ignored_hosts", kind: "switch", describe: "Record connections ignore_hosts/allow_hosts pass through as TCP flows (on by default in pryx)" },
  { flag: "store-streamed-bodies", option: "store_streamed_bodies", kind: "switch", describe: "Keep the bodies stream_large_bodies streams in their flows too" },
  { flag: "http2", option: "http2", kind: "switch", describe: "Offer HTTP/2 (the default)" },
  { flag: "upstream-auth", option: "upstream_auth", kind: "str", describe: "user:pass for the proxy of an upstream:URL mode (Proxy-Authorization), or for the target of a reverse:URL mode (Authorization)" },
  { flag: "server-replay-extra", option: "server_replay_extra", kind: "str", describe: "Requests with no recorded response: forward, kill, 204, 400, 404, 500" },
  { flag: "server-replay-reuse", option: "server_replay_reuse", kind: "switch", describe: "A recorded response may answer again" },
  { flag: "server-replay-nopop", option: "server_replay_nopop", kind: "switch", describe: "mitmproxy 8's name for --server-replay-reuse" },
  { flag: "server-replay-kill-extra", option: "server_replay_kill_extra", kind: "switch", describe: "mitmproxy 8's name for --server-replay-extra kill" },
  { flag: "server-replay-refresh", option: "server_replay_refresh", kind: "switch", describe: "Move a replayed response's dates forward (the default)" },
  { flag: "rawtcp", option: "rawtcp", kind: "switch", describe: "Relay what is not HTTP as raw TCP (the default)" },
  { flag: "server", option: "server", kind: "switch", describe: "Start a proxy server (the default; --no-server or -n: none)" },
  { flag: "key-size", option: "key_size", kind: "str", describe: "Key size of a new CA's RSA key" },
  { flag: "cert-passphrase", option: "cert_passphrase", kind: "str", describe: "Passphrase of the --certs keys" },
  { flag: "console-layout", option: "console_layout", kind: "str", describe: "single, vertical or horizontal" },
  { flag: "console-layout-headers", option: "console_layout_headers", kind: "switch", describe: "Title rows on the console's screens (the default)" },
  { flag: "proxyauth", option: "proxyauth", kind: "str", describe: "Require proxy authentication: user:pass, any (any credentials), or @FILE (an Apache htpasswd file)" },
  { flag: "certs", option: "certs", kind: "list", describe: "[domain=]path: serve this PEM's certificate (and key) to matching hosts; repeatable" },
];

/**
 * Every switch also has mitmproxy's `--no-` form, which sets its option false (`--no-showhost`
 * gives mitmproxy's display); -n is --no-server.
 */
const negated = (flag: string): string => `no-${flag}`;

/** The flags the CLI reads itself, and those of the FLAGS table by name. */
interface CommonArgs {
  [flag: string]: unknown;
  "listen-port"?: string | string[];
  set?: string[];
  confdir?: string;
  verbose?: boolean;
  "no-server"?: boolean;
  rfile?: string;
  "flow-detail"?: string | string[];
  q?: boolean;
}

/** What `--version` prints: pryx's, and the Node and OpenSSL it runs on (as mitmproxy names its Python and OpenSSL). */
function versionText(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return `pryx ${pkg.version}\nNode: ${process.version}\nOpenSSL: ${process.versions.openssl}`;
}

/** A mistake on the command line: reported as `pryx: <message>`, not as a crash with a stack trace. */
export class UsageError extends Error {}

/**
 * A path as the user typed it: `~` expanded (a quoted `'~/x'` reaches us unexpanded, and
 * mitmproxy expands it), then absolute. Every command reads --confdir, -s and -r through this.
 */
function pathFrom(typed: string): string {
  return path.resolve(expandHome(typed));
}

/** An option's text as the command line last set it (a repeated `--set` wins), or `fallback`. */
function lastSet(options: Record<string, OptionText>, name: string, fallback: string | number): string {
  return String([options[name] ?? fallback].flat().at(-1) ?? fallback);
}

/** The command line's options over `<confdir>/config.yaml`'s: the engine reads the files too, for itself. */
async function withConfigFiles(options: Record<string, OptionText>): Promise<Record<string, OptionText>> {
  const { DEFAULT_CONFDIR } = await import("./engine/core-options.ts");
  return orExit(() => startupTexts(options, lastSet(options, "confdir", DEFAULT_CONFDIR)));
}

/** -n, or mitmproxy's `--set server=false`. */
function noServer(argv: CommonArgs, options: Record<string, OptionText>): boolean {
  return Boolean(argv["no-server"]) || lastSet(options, "server", "true") === "false";
}

/** CLI flags are shorthands for options: this maps them onto the one option registry. */
export function optionsFromArgs(a: CommonArgs): Record<string, OptionText> {
  const o: Record<string, OptionText> = {};
  // A repeated flag stays a list: joined with commas, a regex like \d{1,3} would be cut in two.
  const put = (name: string, v: string | number | boolean | (string | number)[] | undefined): void => {
    if (v === undefined) return;
    o[name] = Array.isArray(v) ? v.map(String) : String(v);
  };
  put("listen_port", a["listen-port"]);
  for (const f of FLAGS) {
    const v = a[f.flag];
    if (f.kind === "switch" && a[negated(f.flag)]) put(f.option, false);
    if (v === undefined || v === false) continue;
    if (f.kind === "switch") put(f.option, true);
    else if (f.kind === "str") put(f.option, lastOne(v as string | string[]));
    else put(f.option, (v as string[]).map(f.kind === "paths" ? pathFrom : String));
  }
  // `-r -` reads standard input, as mitmdump's does.
  put("rfile", a.rfile ? (a.rfile === "-" ? "-" : pathFrom(a.rfile)) : undefined);
  put("confdir", a.confdir ? pathFrom(a.confdir) : undefined);
  // -q is mitmdump's: no flow lines and only errors logged (--flow-detail 0 alone still logs where it listens).
  put("termlog_verbosity", a.verbose ? "debug" : a.q ? "error" : undefined);
  put("flow_detail", a.q ? 0 : a["flow-detail"]);
  const setTwice = new Set<string>();
  for (const kv of a.set ?? []) {
    // mitmproxy's `--set name[=value]`: a bare name is an empty value, which turns a bool on.
    const eq = kv.indexOf("=");
    const name = eq < 0 ? kv : kv.slice(0, eq);
    if (!name) throw new UsageError(`--set expects name[=value], got ${JSON.stringify(kv)}`);
    const value = eq < 0 ? "" : kv.slice(eq + 1);
    // Given again, as mitmproxy's: a list option gets one entry more each time, any other option the last value.
    const before = setTwice.has(name) ? o[name] : undefined;
    o[name] = before === undefined ? value : [before].flat().concat(value);
    setTwice.add(name);
  }
  return o;
}

/**
 * `pryx dump FILTER` (mitmdump's `dumper_filter`): checked here, so a mistake is reported as the
 * filter the user typed, not as the dumper_filter option it is carried in.
 */
function dumpFilter(words: readonly string[] | undefined): string | undefined {
  const filter = words?.join(" ").trim();
  if (!filter) return undefined;
  try {
    compileFilter(filter);
  } catch (err) {
    throw new UsageError(`invalid filter ${JSON.stringify(filter)}: ${(err as Error).message}`);
  }
  return filter;
}

/**
 * A fatal error on stderr: its text may quote a file's bytes (a flow file of garbage, escape
 * sequences), which reach the terminal escaped, as the log's lines do, not as commands to it.
 */
function printError(message: string): void {
  process.stderr.write(`pryx: ${message.split(/\r?\n/).map(sanitize).join("\n")}\n`);
}

/** A malformed flag is the user's mistake: one line saying so, like every option error, not a stack trace. */
function orExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    printError((err as Error).message);
    process.exit(2);
  }
}

/**
 * Where the CA is; on the run that created it, that it is new, because until the user trusts
 * it every HTTPS client through pryx fails.
 */
function caNotice(info: ReadyInfo): string {
  const pem = info.caCert;
  if (info.caCreated && info.caAdoptedFrom) return `took mitmproxy's CA from ${info.caAdoptedFrom}: what trusts it trusts pryx (${pem}, see \`pryx ca\`)`;
  return info.caCreated ? `created a new CA in ${info.confdir} — trust ${pem} (see \`pryx ca\`)` : `CA certificate: ${pem} (run \`pryx ca\` for how to trust it)`;
}

/**
 * pryx's exit status when its engine failed: 2, or the N of an addon's process.exit(N) (N > 1),
 * the status it asked for, as a script's sys.exit(N) is mitmdump's.
 */
function failureStatus(engine: EngineClient): number {
  return engine.exitCode !== undefined && engine.exitCode > 1 ? engine.exitCode : 2;
}

async function startEngine(init: EngineInit, attach?: (engine: EngineClient) => void, beforeFailure?: () => void): Promise<EngineClient> {
  const engine = new EngineClient(init);
  // Listeners go on before `ready`: flows read with -r and start-up logs arrive before it.
  attach?.(engine);
  try {
    await engine.ready;
  } catch (err) {
    // Stopped by a signal before it was ready (a harness that starts and at once cancels): the
    // stop's own path exits 0, as a stop later does; this is no failure to report.
    if (engine.stopRequested) return new Promise<never>(() => undefined);
    beforeFailure?.();
    printError((err as Error).message);
    await engine.shutdown(2000).catch(() => undefined);
    process.exit(failureStatus(engine));
  }
  return engine;
}

/** A write's callback runs once the stream has handed it, and every write before it, to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/**
 * process.exit drops what a pipe has not taken yet (a slow reader, `| less`): dump's last lines were
 * lost or cut mid-line, and a cut line ran into whatever came next. Exit once both are drained.
 */
async function exitAfterOutput(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

function onSignals(fn: () => void): void {
  let count = 0;
  const handler = (): void => {
    if (++count > 1) process.exit(1);
    fn();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

async function runDump(argv: CommonArgs & { filter?: string[]; jsonl?: boolean }): Promise<void> {
  const options = orExit(() => optionsFromArgs(argv));
  const filter = orExit(() => dumpFilter(argv.filter));
  if (filter) {
    // As mitmdump's: the filter also picks the flows `-w` saves and `-r` reads (unless --set names others).
    options["dumper_filter"] = filter;
    options["save_stream_filter"] ??= filter;
    options["readfile_filter"] ??= filter;
  }
  // -f on dump's own command line means what dump prints, as the filter after the flags does.
  else if (options["view_filter"] !== undefined && options["dumper_filter"] === undefined) options["dumper_filter"] = options["view_filter"];
  const settings = await withConfigFiles(options);
  // From the option, so `--set flow_detail=N` works as well as -q and --flow-detail.
  const flowDetail = Number(lastSet(settings, "flow_detail", 1));
  const logLevel = lastSet(settings, "termlog_verbosity", "info") as LogLevel;
  const engine = await startEngine({ options, keepFlows: false, noServer: noServer(argv, settings), streamEvents: !argv.jsonl, failOnStartupErrors: true, printToStderr: Boolean(argv.jsonl) }, (e) => {
    const contentView = lastSet(settings, "dumper_default_contentview", "auto") as ViewName;
    const linesCutoff = Number(lastSet(settings, "content_view_lines_cutoff", DEFAULT_MAX_LINES));
    // As the command line gave it until the engine says what it resolved (a config.yaml's relative path).
    let protoFile: string | undefined = lastSet(settings, "protobuf_definitions", "") || undefined;
    if (protoFile) protoFile = path.resolve(protoFile);
    e.on((ev) => {
      const opts = ev.t === "ready" ? ev.info.options : ev.t === "options" ? ev.changed : [];
      for (const o of opts) if (o.name === "protobuf_definitions") protoFile = o.value || undefined;
    });
    const schemaFor = schemasFrom(() => protoFile, (msg) => process.stderr.write(`[warn] ${msg}\n`));
    attachDump(e, { jsonl: Boolean(argv.jsonl), flowDetail, logLevel, out: process.stdout, err: process.stderr, contentView, linesCutoff, schemaFor });
    // From the start: the listening line can reach a script (which may then stop us) before `ready`.
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void e.shutdown().then(() => exitAfterOutput(e.exitCode ?? 0));
    };
    onSignals(stop);
    // A hang-up (the SSH connection under an interactive dump dropped) stops it as SIGTERM does,
    // addons' done included; it comes more than once, so it is not the second signal that forces an exit.
    process.on("SIGHUP", () => {
      leaveLostTerminalAtExit();
      stop();
    });
    // The reader went away (`pryx dump | head -1`): stop as on a signal, as a filter does, with
    // the engine shut down (addons' done), rather than die of an unhandled EPIPE.
    process.stdout.on("error", stop);
    process.stderr.on("error", stop);
    // mitmdump's keepserving: the file read or the replays are done, and nothing asked to go on.
    e.on((ev) => {
      if (ev.t === "served") stop();
    });
  });
  const info = await engine.ready;
  // The engine died (out of memory, a crash): say so and fail, rather than end as if done.
  engine.on((ev) => {
    if (ev.t !== "fatal") return;
    printError(ev.error);
    void exitAfterOutput(failureStatus(engine));
  });
  // Nothing to serve and one-shot work done before `ready` (a file read and printed, replays sent):
  // done. With none (-n -s script.ts) it runs until a signal, as mitmdump -n does: an addon working
  // from a timer was cut off at once.
  const oneShot = ["rfile", "client_replay", "server_replay"].some((name) => lastSet(settings, name, "") !== "");
  if (noServer(argv, settings) && oneShot) {
    // A CA made on this run is still news: later runs will not say it again.
    if (info.caCreated && shownAt("warn", logLevel)) process.stderr.write(`pryx: ${caNotice(info)}\n`);
    await engine.shutdown();
    await exitAfterOutput(engine.exitCode ?? 0);
  }
  // Where it listens was logged by the engine (one line per mode, in the console's event log too).
  // The CA's line is information, a new CA's news: -q (errors only) leaves out the one, not the other.
  if (shownAt(info.caCreated ? "warn" : "info", logLevel)) process.stderr.write(`pryx: ${caNotice(info)}\n`);
}

async function runConsoleCommand(argv: CommonArgs): Promise<void> {
  const options = orExit(() => optionsFromArgs(argv));
  if (lastSet(options, "rfile", "") === "-") {
    printError("-r - reads flows from standard input, which the console reads its keys from: pipe them to `pryx dump -r -`, or save them to a file for -r");
    process.exit(2);
  }
  // Start-up logs and flows read with -r arrive before the console subscribes: keep them for it.
  const early: EngineEvent[] = [];
  let stopEarly: () => void = () => undefined;
  // While the engine starts: the console draws emoji markers from its first frame.
  const markerNames = loadMarkerNames();
  const engine = await startEngine(
    { options, keepFlows: true, noServer: noServer(argv, await withConfigFiles(options)), captureOutput: true },
    (e) => {
      stopEarly = e.on((ev) => early.push(ev));
    },
    // No console will show the event log: its warnings and errors (a script that failed to
    // load) often say why the start failed.
    () => {
      for (const ev of early) if (ev.t === "batch") for (const l of ev.logs) if (l.level === "error" || l.level === "warn") process.stderr.write(`${formatLog(l)}\n`);
    },
  );
  const info = await engine.ready;
  // The console's event log is the one place it reports start-up; a new CA needs the user's action.
  if (info.caCreated) early.push({ t: "batch", add: EMPTY_BATCH, update: EMPTY_BATCH, remove: [], logs: [{ ts: Date.now() / 1000, level: "warn", msg: caNotice(info) }], reset: false });
  const { runConsole } = await import("./tui/index.tsx");
  await markerNames;
  let code = 0;
  try {
    const done = runConsole(engine, info, { confdir: info.confdir, initialEvents: early });
    stopEarly();
    // The console has them now: held here too, the batches of the flows read with -r outlived a `z` that cleared them.
    early.length = 0;
    await done;
  } catch (err) {
    printError((err as Error).message);
    code = 2;
  } finally {
    await engine.shutdown().catch(() => undefined);
  }
  process.exit(code);
}

/**
 * `pryx options` / `pryx commands`, as mitmproxy's --options and --commands: every option (the
 * built-in addons' included) with its type, default and help, or every command's signature, from
 * an engine that is built but not started (no CA made, nothing listening).
 */
/** An option's default as config.yaml would hold it (mitmdump --options prints YAML): false, 8080, [], a quoted string. */
function yamlDefault(o: OptionInfo): string {
  if (o.type === "bool" || o.type === "int") return o.default;
  if (o.type === "str[]") return o.default === "" ? "[]" : `[${o.default}]`;
  if ((o.type === "optional str" || o.type === "optional int") && o.default === "") return "null";
  return JSON.stringify(o.default);
}

/** `pryx options`, `pryx commands`, and dump's --options/--commands: with -s, the scripts' own too (as mitmdump -s x.py --options). */
async function runListing(what: "options" | "commands", scripts: readonly string[] = []): Promise<void> {
  const { Engine } = await import("./engine/engine.ts");
  // A script's load errors are logged: printed, as dump prints them.
  const engine = new Engine({ options: {}, keepFlows: false, noServer: true }, (ev) => {
    if (ev.t === "batch") for (const l of ev.logs) if (shownAt(l.level, "warn")) process.stderr.write(`${formatLog(l)}\n`);
  });
  await engine.addBuiltins();
  const failed = await engine.loadScripts(scripts.map(pathFrom));
  engine.flush();
  if (failed.length) {
    process.stderr.write(`pryx: could not load ${failed.join(", ")} (above)\n`);
    process.exit(2);
  }
  const lines =
    what === "options"
      ? engine.options.all().map((o) => `${o.name}: ${o.type} = ${yamlDefault(o)}${o.choices ? ` (${o.choices.join(", ")})` : ""}\n    ${o.help}`)
      : engine.commands.list().map((c) => `${c.signature}\n    ${c.help}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function runCa(argv: CommonArgs): Promise<void> {
  const { loadOrCreateCA } = await import("./engine/ca/ca.ts");
  const { trustInstructions } = await import("./engine/ca/trust-help.ts");
  const { ONBOARDING_HOST } = await import("./engine/ca/onboarding.ts");
  const { DEFAULT_CONFDIR, DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT } = await import("./engine/core-options.ts");
  try {
    // As the proxy would run: the flags over config.yaml (its key_size makes the CA, its listen address and onboarding_host are what the help names).
    const settings = await withConfigFiles(optionsFromArgs(argv));
    const confdir = lastSet(settings, "confdir", DEFAULT_CONFDIR);
    const keySize = Number(lastSet(settings, "key_size", 2048));
    const ca = await loadOrCreateCA(confdir, keySize);
    const { formatAddress } = await import("./engine/flow/connection.ts");
    const host = lastSet(settings, "listen_host", DEFAULT_LISTEN_HOST) || DEFAULT_LISTEN_HOST;
    const proxyUrl = `http://${formatAddress([host, Number(lastSet(settings, "listen_port", DEFAULT_LISTEN_PORT))])}`;
    process.stdout.write(`${trustInstructions(ca, proxyUrl, lastSet(settings, "onboarding_host", ONBOARDING_HOST))}\n`);
  } catch (err) {
    printError((err as Error).message);
    process.exit(2);
  }
}

/**
 * A single-valued flag given twice is an array to yargs; the last one wins, as it does for every
 * single-valued option (Options.update). For the flags the CLI reads itself, as paths.
 */
const lastOne = (v: string | string[]): string => (Array.isArray(v) ? (v.at(-1) ?? "") : v);

const common = (y: ReturnType<typeof yargs>) =>
  FLAGS.reduce(
    (acc, f) => {
      const withFlag = acc.option(f.flag, {
        type: f.kind === "switch" ? "boolean" : "string",
        ...(f.kind === "list" || f.kind === "paths" ? { array: true } : {}),
        ...(f.alias ? { alias: f.alias } : {}),
        describe: f.describe,
      });
      // -n/--no-server is dump's and the console's own (it decides more than the option).
      if (f.kind !== "switch" || f.flag === "server") return withFlag;
      return withFlag.option(negated(f.flag), { type: "boolean", describe: `Turn ${f.option} off` });
    },
    y,
  )
    // Strings, so the option registry checks them and quotes what was typed (`-p abc` read as NaN).
    .option("listen-port", { alias: "p", type: "string", describe: "Proxy port (default 8080)" })
    .option("set", { type: "string", array: true, describe: "Set an option: name=value; repeatable" })
    .option("confdir", { type: "string", coerce: lastOne, describe: "CA and configuration directory (default ~/.pryx)" })
    .option("verbose", { alias: "v", type: "boolean", describe: "Log debug lines too (termlog_verbosity=debug)" })
    .option("rfile", { alias: "r", type: "string", coerce: lastOne, describe: "Read flows from a file at start" })
    .option("no-server", { alias: "n", type: "boolean", describe: "Do not start a proxy server" })
    .option("flow-detail", { type: "string", describe: "Dump verbosity 0..4 (default 1)" })
    .option("q", { alias: "quiet", type: "boolean", describe: "Quiet: no flow lines, only errors logged" });

/** mitmdump's --options and --commands, on dump and the console: the listings instead of a proxy. */
const listings = <T>(y: Argv<T>) =>
  y.option("options", { type: "boolean", describe: "List every option and exit (as pryx options)" }).option("commands", { type: "boolean", describe: "List every command and exit (as pryx commands)" });
const listingAsked = (argv: { options?: boolean; commands?: boolean }): boolean => Boolean(argv.options || argv.commands);
const listing = (argv: { options?: boolean; scripts?: unknown }): Promise<void> => runListing(argv.options ? "options" : "commands", (argv.scripts as string[] | undefined) ?? []);
/** What the listings take: scripts whose options and commands join the list, and --confdir, which they ignore. */
const listingFlags = <T>(y: Argv<T>) =>
  y
    .option("scripts", { alias: "s", type: "string", array: true, describe: "Load this addon script first, so its options and commands are listed too; repeatable" })
    .option("confdir", { type: "string", coerce: lastOne, describe: "Accepted as mitmproxy's listing takes it; the listing shows each option's default, not config.yaml's value" });

await yargs(hideBin(process.argv))
  .scriptName("pryx")
  // mitmproxy's flag is -n/--no-server: with negation on, yargs would read it as "server=false".
  // mitmproxy's flags take one value each (repeat the flag for more): a greedy list would swallow
  // the dump filter after it (`-s a.ts '~m POST'` ran with no filter and a second script).
  .parserConfiguration({ "boolean-negation": false, "greedy-arrays": false, "camel-case-expansion": false })
  .usage("$0 [options]   interactive console\n$0 dump [FILTER] headless, one line per flow")
  .command(
    "$0",
    "Interactive console",
    (y) => listings(common(y)),
    (argv) => (listingAsked(argv) ? listing(argv) : runConsoleCommand(argv as CommonArgs)),
  )
  .command(
    "dump [filter..]",
    "Headless proxy: print one line per finished flow (only those matching FILTER)",
    (y) => listings(common(y)).positional("filter", { type: "string", array: true, describe: "filter expression" }).option("jsonl", { type: "boolean", describe: "One JSON object per finished flow" }),
    (argv) => (listingAsked(argv) ? listing(argv) : runDump(argv as CommonArgs & { filter?: string[]; jsonl?: boolean })),
  )
  .command("options", "List every option with its type, default and help (mitmproxy's --options)", (y) => listingFlags(y), (argv) => runListing("options", argv.scripts ?? []))
  .command("commands", "List the proxy's commands with their arguments and help (mitmproxy's --commands; the console adds its own, see ? and :)", (y) => listingFlags(y), (argv) => runListing("commands", argv.scripts ?? []))
  .command(
    "ca",
    "Print where the CA certificate is and how to trust it",
    (y) =>
      y
        .option("confdir", { type: "string", coerce: lastOne })
        // As for the proxy: --set confdir=… and key_size, listen_host… are what it reads.
        .option("set", { type: "string", array: true, describe: "Set an option as the proxy would: name=value (confdir, key_size, listen_port…); repeatable" })
        .option("listen-port", { alias: "p", type: "string", coerce: lastOne, describe: "The port the instructions name (default: config.yaml's, else 8080)" })
        .option("listen-host", { type: "string", coerce: lastOne, describe: "The address the instructions name" }),
    (argv) => runCa(argv),
  )
  .strict()
  .fail((msg, err) => {
    if (err instanceof UsageError) {
      printError(err.message);
      process.exit(2);
    }
    if (err) throw err;
    // One line, as mitmdump's: the whole help before it buried the error.
    printError(`${msg} (pryx --help and pryx dump --help list the flags)`);
    process.exit(2);
  })
  .help()
  .alias("h", "help")
  .version(versionText())
  .parseAsync();
