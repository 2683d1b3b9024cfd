import { AsyncLocalStorage } from "node:async_hooks";
import path from "node:path";
import net from "node:net";
import { collectGarbageSoon } from "../collect-garbage.ts";
import type { EngineEvent, EngineRequest, EngineReplies, LogEntry, ReadyInfo, FlowDetail } from "../protocol.ts";
import type { EngineInit } from "../engine-client.ts";
import { OptionError, Options, type OptionText, type OptionValue } from "./options.ts";
import { listenerScheme, listensOnUdp, modePort, parseModeSpec, parseReverseTarget, samePortClash } from "./modes.ts";
import { CommandRegistry } from "./commands.ts";
import { Log } from "./log.ts";
import { FlowStore, type DetailOf } from "./store.ts";
import { AddonManager } from "./hooks/addon-manager.ts";
import { ScriptLoader } from "./hooks/scripts.ts";
import { bindContext } from "./hooks/ctx.ts";
import { registerCoreOptions } from "./core-options.ts";
import { resolveFlows, registerFlowCommands } from "./flow-commands.ts";
import { registerInjectCommands } from "./inject-commands.ts";
import { registerExtraCommands } from "./extra-commands.ts";
import { Client, Socks5AuthData, formatAddress, unmappedIPv4, type Address } from "./flow/connection.ts";
import { FlowError, type Flow } from "./flow/flow.ts";
import { HTTPFlow } from "./flow/http.ts";
import { HttpConnection, replayFlow, type ConnectionTarget } from "./proxy/http-connection.ts";
import { Tunnel } from "./proxy/tunnel.ts";
import { MemoryWatch } from "./memory-watch.ts";
import { TransparentProxy } from "./proxy/transparent.ts";
import { SharedUpstreams } from "./proxy/pool.ts";
import { Injectors } from "./proxy/injectors.ts";
import { socks5Handshake, type Authenticate } from "./proxy/socks5.ts";
import { UdpRelay } from "./proxy/udp-relay.ts";
import { ProxyCredentials } from "./proxy/proxy-credentials.ts";
import { DnsServer } from "./proxy/dns-server.ts";
import type { ProxyContext, TlsProvider } from "./proxy/context.ts";
import { InterceptAddon } from "./intercept.ts";
import { builtinAddons } from "./builtins/index.ts";
import { StreamEventsAddon } from "./builtins/stream-events.ts";
import { summarize } from "./flow/summary.ts";
import { SaveStreamAddon, flowsIn, noFlowError, readFlows, type FlowFileRead } from "./save-stream.ts";
import { flowFilter } from "./flow-filter.ts";
import { loadOrCreateCA } from "./ca/ca.ts";
import { CLIENT_CIPHERS, LeafCertificates } from "./ca/leaf-certs.ts";
import { tlsOptionNames, tlsSettings } from "./proxy/tls-settings.ts";
import { CustomCertificates, readCustomCerts } from "./ca/custom-certs.ts";
import { onboardingResponse } from "./ca/onboarding.ts";
import { flowDetail } from "./flow/detail.ts";
import { applyFlowPatch } from "./flow/patch.ts";
import { clientDisconnected } from "./proxy/client-gone.ts";
import { replayHooks } from "./hooks/event-sequence.ts";
import { transferables } from "../summary-codec.ts";
import { uuid } from "./flow/uuid.ts";
import { configFiles, MITMPROXY_ONLY, readOptionsFile } from "./options-file.ts";
import { EagerServers } from "./proxy/eager.ts";
import { FdShortage, fdShortageCode } from "./proxy/fd-shortage.ts";

/**
 * How often changes go to the console or dump as one batch. Under a flood a batch holds a few
 * hundred flows; longer batches only kept finished flows unpacked (and copied by the young
 * generation's collections) for longer, which cost the proxy more than the posts saved.
 */
const FLUSH_INTERVAL_MS = 33;
const MAX_LOGS_PER_BATCH = 500;
/** flow_detail 3 shows bodies cut: no more than this many bytes of each cross to the dump. */
const DUMP_BODY_LIMIT = 16 * 1024;
/** Flows read from a file cross to the main thread this many at a time. */
const LOAD_BATCH = 5000;

/** "proxy listening at http://127.0.0.1:8080/", with the mode when it is not the regular one. */
function listeningMessage(mode: string, where: string): string {
  return `${mode === "regular" ? "" : `${mode} `}proxy listening at ${listenerScheme(mode)}://${where}/`;
}

/** Where a reverse listener's connections go: HTTP to a server, or a TCP stream (tcp, tls). */
type ListenerTarget = ConnectionTarget | { raw: true; host: string; port: number; tls: boolean };

/** What every kind of listener is known by: its `listenKey`, and where it listens once it does. */
interface Opened {
  key: string;
  where?: string;
}

interface Listener extends Opened {
  server: net.Server;
  mode: string;
}

/**
 * The composition root of the worker: options, addons, the flow store, the listeners.
 * It talks to the main thread only through `post` (EngineEvents) and `handle` (requests).
 */
export class Engine {
  readonly options = new Options();
  readonly commands = new CommandRegistry();
  readonly log = new Log();
  readonly store: FlowStore;
  readonly addons: AddonManager;
  private readonly scripts: ScriptLoader;
  private readonly listeners: Listener[] = [];
  private readonly dnsServers: (Opened & { server: DnsServer })[] = [];
  private readonly udpRelays: (Opened & { relay: UdpRelay })[] = [];
  /** The options the listeners were made with; undefined until they are. */
  private listening: { listen_port: number; listen_host: string; mode: string[] } | undefined;
  /** Moves of the listeners, one after the other. */
  private relistening: Promise<void> = Promise.resolve();
  private scriptsChanging: Promise<void> = Promise.resolve();
  /** start() is through: an option set from now on is a change to a running proxy. */
  private started = false;
  /** While `-r`'s file is read (mitmproxy's readfile.reading). */
  private readingFile = false;
  private readonly connections = new Set<{ close(reason: string): void }>();
  private readonly injectors = new Injectors();
  private readonly sharedUpstreams = new SharedUpstreams();
  private readonly ctx: ProxyContext;
  private readonly tunnel: Tunnel;
  private readonly transparent: TransparentProxy;
  private tlsProvider: TlsProvider | undefined;
  private leaves: LeafCertificates | undefined;
  private readonly customCerts = new CustomCertificates();
  private logs: LogEntry[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly saveStream = new SaveStreamAddon(this.options, this.log);

  /** The exit status the run has earned by itself: 1 when flows could not be saved (-w), as mitmdump fails. */
  get failedStatus(): number {
    return this.saveStream.failures > 0 ? 1 : 0;
  }
  private stopping = false;

  constructor(
    private readonly init: EngineInit,
    /** `transfer`: buffers of `ev` the engine gives up, for a worker to move rather than copy. */
    private readonly post: (ev: EngineEvent, transfer?: ArrayBuffer[]) => void,
    /** What reads the memory in use; the process's own by default. */
    private readonly memory = new MemoryWatch(),
  ) {
    this.store = new FlowStore(init.keepFlows);
    this.addons = new AddonManager(this.options, this.commands, this.log);
    this.scripts = new ScriptLoader(this.addons, this.log);
    // Marks what add_log handlers run, across their awaits too.
    const inAddLog = new AsyncLocalStorage<true>();
    this.log.setSink((e) => {
      // dump prints a batch's log before its flows: the flows finished before this line go first.
      if (!this.init.keepFlows && this.store.pendingCount() > 0 && this.options.get<number>("flow_detail") > 0) {
        // A flush that fails is the timer's to report: logging it must not throw it again (the
        // uncaughtException handler logs through here).
        try {
          this.flush();
        } catch {
          this.scheduleFlush();
        }
      }
      this.logs.push(e);
      if (this.logs.length > MAX_LOGS_PER_BATCH) this.logs.splice(0, this.logs.length - MAX_LOGS_PER_BATCH);
      this.scheduleFlush();
      // mitmproxy's add_log. What an add_log handler logs itself is shown, not handed back to it:
      // mitmproxy warns that this loops for ever; here it cannot. Others' entries meanwhile still go.
      if (inAddLog.getStore() || !this.addons.wants("add_log")) return;
      void inAddLog.run(true, () => this.addons.trigger("add_log", e));
    });
    this.store.setDirtyListener(() => this.scheduleFlush());
    const engine = this;
    this.ctx = {
      addons: this.addons,
      options: this.options,
      log: this.log,
      store: this.store,
      get tls() {
        return engine.tlsProvider;
      },
      notify: (flow: Flow) => this.store.update(flow),
      sharedUpstreams: this.sharedUpstreams,
      connections: this.connections,
      injectors: this.injectors,
      eagerServers: new EagerServers(),
      credentials: new ProxyCredentials(),
      fdShortage: new FdShortage(this.log),
      boundAddresses: () => this.listeners.flatMap((l) => {
        const a = l.server.address();
        return a && typeof a === "object" ? [[a.address, a.port] as Address] : [];
      }),
    };
    this.tunnel = new Tunnel(this.ctx, (socket, client, target, initial) => this.startHttp(socket, client, target, initial));
    this.transparent = new TransparentProxy(this.ctx, this.tunnel);
    registerCoreOptions(this.options);
    bindContext(this.options, this.log, this.commands, this.addons);
    this.commands.resolveFlowsWith((spec) => resolveFlows(this.store, spec));
    registerFlowCommands(this.commands, {
      store: this.store,
      options: this.options,
      setOption: (name, text) => this.setByUser(name, text),
      addons: this.addons,
      notify: (f) => this.store.update(f),
      load: (file) => this.loadFlows(file),
      log: this.log,
    });
    registerExtraCommands(this.commands, {
      store: this.store,
      options: this.options,
      notify: (f) => this.store.update(f),
      activeConnections: () => this.activeConnections(),
      reading: () => this.readingFile,
    });
    registerInjectCommands(this.commands, { store: this.store, injectors: this.injectors, log: this.log });
    this.options.onChange((updated) => {
      this.onOptionsChanged(updated);
      this.configuring = this.addons.triggerCollecting("configure", updated);
      // What was logged and finished before the change goes first: dump prints it as it was set then
      // (a script's termlog_verbosity=warn in running hid the listening line logged before it).
      if (updated.has("termlog_verbosity") || updated.has("flow_detail")) this.flush();
      this.post({ t: "options", changed: [...updated].map((n) => this.options.info(n)) });
    });
  }

  /** Loads addon scripts outside a start (the option and command listings); returns those that failed, already logged. */
  loadScripts(files: readonly string[]): Promise<string[]> {
    return this.scripts.loadAll(files, false);
  }

  /** mitmproxy's default addons as pryx has them, their options and commands with them (`pryx options` lists them without starting). */
  async addBuiltins(): Promise<void> {
    const builtins = builtinAddons({
      log: this.log,
      replay: (f, id) => replayFlow(this.ctx, f, id),
      noServer: this.init.noServer,
      served: (what) => {
        // The console keeps serving, as mitmproxy's does: only dump stops.
        if (this.init.keepFlows) return;
        this.log.info(`${what} done: stopping (--set keepserving=true keeps serving)`);
        this.flush();
        this.post({ t: "served", what });
      },
      leafSpkiSha256: () => this.leaves?.spkiSha256,
      browserProxy: () => this.browserProxy(),
      // Posted behind the flows reported so far, on the channel that carries them, so dump prints them first.
      print: (text) => {
        this.flush();
        this.post({ t: "print", text });
      },
    });
    for (const addon of builtins.before) await this.addons.add(addon, addon.name);
    for (const addon of builtins.after) await this.addons.add(addon, addon.name, { last: true });
    await this.addons.add(new InterceptAddon(this.options, this.store, this.init.keepFlows ? undefined : this.log), "intercept", { last: true });
    if (this.init.streamEvents) await this.addons.add(this.streamEvents(), "stream_events", { last: true });
    await this.addons.add(this.saveStream, "save_stream", { last: true });
  }

  /**
   * `<confdir>/config.yaml` (then `config.yml`), as mitmproxy reads them: under the command
   * line, which has already set what it names (the confdir among them).
   */
  private loadConfigFiles(): void {
    for (const file of configFiles(this.options.get<string>("confdir"))) {
      const { values, skipped } = readOptionsFile(file, this.options);
      for (const name of Object.keys(this.init.options)) delete values[name];
      for (const name of skipped) this.log.warn(`${file}: ${name} is a mitmproxy option pryx does not have: skipped`);
      this.options.updateDeferring(values, file);
    }
  }

  /**
   * The command line's options less mitmproxy's that pryx has not, each said and skipped as a
   * config file's are: a mitmdump command copied into CI (`--set upstream_cert=false`) runs.
   */
  private withoutMitmproxyOnly(given: Record<string, OptionText>): Record<string, OptionText> {
    const kept = { ...given };
    for (const name of Object.keys(kept).filter((n) => MITMPROXY_ONLY.has(n))) {
      delete kept[name];
      this.log.warn(`--set ${name}: a mitmproxy option pryx does not have: skipped`);
    }
    return kept;
  }

  async start(): Promise<ReadyInfo> {
    const errorsBefore = this.log.errorCount;
    // `--set` may name options that -s scripts register: those wait until a script's `load` adds them.
    this.options.updateDeferring(this.withoutMitmproxyOnly(this.init.options));
    this.loadConfigFiles();
    // -n and --set server=false are one setting; scripts read it as mitmproxy's option.
    if (this.init.noServer) this.options.setValues({ server: false });
    await this.addBuiltins();
    const confdir = this.options.get<string>("confdir");
    const ca = await loadOrCreateCA(confdir, this.options.get<number>("key_size"));
    const leaves = new LeafCertificates(ca);
    this.leaves = leaves;
    this.applyClientTls();
    this.tlsProvider = {
      contextFor: (host) => this.customCerts.contextFor(host) ?? leaves.contextFor(host),
      onboarding: (p) => onboardingResponse(p, ca),
    };
    // Each addon has had its one `configure` with every option as it was added (mitmproxy's order).
    const failed = await this.scripts.loadAll(this.options.get<string[]>("scripts"), true);
    try {
      this.options.rejectDeferred();
    } catch (err) {
      // `-s my.ts --set my_opt=1` with a broken my.ts: the option is unknown because the script
      // that adds it did not load, and that is what the user has to fix.
      if (!(err instanceof OptionError) || failed.length === 0) throw err;
      throw new OptionError(`${err.message}; it may belong to a script that failed to load: ${failed.map((f) => path.basename(f)).join(", ")}`);
    }
    // What differs from the defaults now came from the command line, config.yaml or the scripts'
    // start-up: resetting every option goes back to it, not past it (to another port).
    this.options.markStarted(this.options.names());
    this.onOptionsChanged(new Set(["view_filter"]));
    // Before listening: a script waiting for the "listening" line must not see one from a run that stops.
    const startErrors = this.log.errorCount - errorsBefore;
    if (this.init.failOnStartupErrors && startErrors > 0) {
      throw new Error(`stopped: ${startErrors === 1 ? "an error" : `${startErrors} errors`} at start-up (above); pryx dump does not run without what failed, as mitmdump does not`);
    }
    const listen = this.init.noServer ? [] : await this.listenAll();
    const rfile = this.options.get<string | undefined>("rfile");
    if (rfile) {
      // As mitmproxy's -r: each flow passes its hooks before it is shown (or printed, or saved
      // with -w), one at a time as the file is read, so a large capture is never held whole.
      try {
        const { count, errors } = await this.readPassingHooks(rfile);
        // Nothing in it is a flow (not a flow file at all): an error, as a missing file is (mitmdump exits 1).
        if (count === 0 && errors.length > 0) throw noFlowError(rfile, errors);
        for (const e of errors) this.log.warn(e);
        this.log.info(`read ${count} flow${count === 1 ? "" : "s"} from ${rfile === "-" ? "standard input" : rfile}`);
      } catch (err) {
        // Dump stops; the console says so in its event log and serves on, as mitmproxy's console does.
        if (this.init.failOnStartupErrors) throw err;
        this.log.error((err as Error).message);
      }
    }
    this.scripts.markRunning();
    this.started = true;
    const beforeRunning = this.log.errorCount;
    await this.addons.trigger("running");
    // An addon that failed in `running` may be half set up: dump stops as mitmdump's errorcheck, which runs after it, does.
    if (this.init.failOnStartupErrors && this.log.errorCount > beforeRunning) {
      throw new Error("stopped: an addon failed in its running hook (above); pryx dump does not run with it half set up, as mitmdump does not");
    }
    // Flows read from a file reach the main thread before `ready`, so `dump -n -r` can print and exit.
    this.flush();
    return {
      listen,
      modes: this.options.get<string[]>("mode"),
      confdir,
      caCreated: ca.created,
      ...(ca.adoptedFrom ? { caAdoptedFrom: ca.adoptedFrom } : {}),
      caCert: ca.paths.certPem,
      options: this.options.all(),
      commands: this.commands.list().map((c) => ({ name: c.name, signature: c.signature, help: c.help })),
    };
  }

  /**
   * Adds the flows of a pryx flow file or HAR file to the store (`-r` and `view.flows.load`).
   * They are sent on in batches as they are read: one message of 100,000 summaries was a long
   * stall and a large peak of memory on both threads.
   */
  loadFlows(file: string): FlowFileRead {
    // As mitmproxy's view.flows.load, each flow comes in as a copy with an id of its own, so a
    // file loaded twice gives its flows twice rather than two flows under one id.
    return readFlows(file, (f) => {
      f.id = uuid();
      this.addRead(f);
    });
  }

  /**
   * SOCKS5 credentials are asked for when proxyauth is set or an addon has socks5_auth, as in
   * mitmproxy: the hook sees whether they match proxyauth and has the last word.
   */
  private socks5Authenticator(client: Client): Authenticate | undefined {
    const check = this.ctx.credentials.for(this.options.get<string | undefined>("proxyauth"));
    if (!check && !this.addons.wants("socks5_auth")) return undefined;
    return async (user, pass) => {
      const data = new Socks5AuthData(client, user, pass, check?.(user, pass) ?? false);
      await this.addons.trigger("socks5_auth", data);
      if (data.valid) this.ctx.credentials.remember(client, [user, pass]);
      return data.valid;
    };
  }

  /** Client connections open on every TCP listener, and UDP flows (proxyserver.active_connections). */
  private async activeConnections(): Promise<number> {
    const open = await Promise.all(this.listeners.map((l) => new Promise<number>((resolve) => l.server.getConnections((err, n) => resolve(err ? 0 : n)))));
    return open.reduce((a, b) => a + b, 0) + this.udpRelays.reduce((n, r) => n + r.relay.flowCount, 0);
  }

  /** `-r`: each flow of the file passes the hooks of its kind (`replayHooks`), then joins the store. */
  private async readPassingHooks(file: string): Promise<FlowFileRead> {
    this.readingFile = true;
    try {
      return await this.readEachPassingHooks(file);
    } finally {
      this.readingFile = false;
    }
  }

  private async readEachPassingHooks(file: string): Promise<FlowFileRead> {
    const flows = flowsIn(file);
    const wanted = flowFilter(this.options.get<string | undefined>("readfile_filter"));
    let kept = 0;
    try {
      for (;;) {
        const next = flows.next();
        if (next.done) return { ...next.value, count: kept };
        if (wanted && !wanted(next.value)) continue;
        // A second flow with an id already stored (a client replay keeps its original's) is passed over in
        // the console, as mitmproxy's view does; dump prints it, as mitmdump does, under an id of its own.
        if (this.store.has(next.value.id)) {
          if (this.init.keepFlows) continue;
          next.value.id = uuid();
        }
        kept++;
        await replayHooks(this.addons, next.value);
        this.addRead(next.value);
      }
    } finally {
      flows.return({ count: 0, errors: [], format: "pryx" });
    }
  }

  /** A flow read from a file joins the store; the UI gets them in batches as they come. */
  private addRead(flow: Flow): void {
    this.store.add(flow);
    if (this.store.pendingCount() >= LOAD_BATCH) this.flush();
  }

  /**
   * Where a browser on this machine reaches the proxy, as Chromium's --proxy-server takes it: the
   * first regular or upstream listener (else a SOCKS5 one), a wildcard bind as loopback.
   */
  private browserProxy(): string | undefined {
    const pick = this.listeners.find((l) => l.mode === "regular" || l.mode.startsWith("upstream:")) ?? this.listeners.find((l) => l.mode === "socks5");
    if (!pick) return undefined;
    const a = pick.server.address() as net.AddressInfo;
    const host = a.address === "0.0.0.0" ? "127.0.0.1" : a.address === "::" ? "::1" : a.address;
    return `${pick.mode === "socks5" ? "socks5://" : ""}${formatAddress([host, a.port])}`;
  }

  /** Listens for every mode; where each listens, in the modes' order. */
  private async listenAll(): Promise<string[]> {
    const clash = samePortClash(this.options.get<string[]>("mode"), this.options.get<number>("listen_port"));
    if (clash) throw new Error(clash);
    // dns listens last: its DNS-over-TCP socket is a bonus and gives way to a TCP mode on the same port.
    const modes = this.options.get<string[]>("mode");
    const udp = (m: string): boolean => listensOnUdp(parseModeSpec(m).mode);
    const order = [...modes.filter((m) => !udp(m)), ...modes.filter(udp)];
    const where = new Map<string, string>();
    // A listener that would listen as it does now stays as it is (its DNS queries and UDP flows go on).
    for (const mode of order) where.set(mode, this.openedAt(this.listenKey(mode)) ?? (await this.listen(mode)));
    this.listening = { listen_port: this.options.get<number>("listen_port"), listen_host: this.options.get<string>("listen_host"), mode: modes };
    return modes.map((mode) => where.get(mode) as string);
  }

  /**
   * `server` set while running, as mitmproxy's: false closes the listeners (connections already
   * made go on), true listens again as the options say.
   */
  private serve(on: boolean): void {
    this.relistening = this.relistening.then(async () => {
      if (this.stopping) return;
      if (on) {
        if (this.listening) return;
        try {
          return await this.listenAndSay();
        } catch (err) {
          // A listener that did bind must not go on serving unseen (the port busy for pryx itself after),
          // and `server` says what is so.
          await this.closeListeners();
          this.options.setValues({ server: false });
          throw err;
        }
      }
      if (!this.listening) return;
      await this.closeListeners();
      this.listening = undefined;
      this.log.info("proxy server stopped (server=false); set server=true to listen again");
      this.post({ t: "listening", listen: [], modes: this.options.get<string[]>("mode") });
    }).catch((err: Error) => this.log.error(`pryx is not listening: ${err.message}`));
  }

  /**
   * What a mode's listener is: the mode spec, and the host and port it resolves to. A listener
   * whose key the options still give is not closed and opened again when they change.
   */
  private listenKey(modeSpec: string): string {
    const { host } = parseModeSpec(modeSpec);
    return [modeSpec, host ?? this.options.get<string>("listen_host"), modePort(modeSpec, this.options.get<number>("listen_port"))].join("\n");
  }

  /** Where the listener known by `key` listens, if one does. */
  private openedAt(key: string): string | undefined {
    return [...this.listeners, ...this.dnsServers, ...this.udpRelays].find((l) => l.key === key && l.where !== undefined)?.where;
  }

  /** The keys of the listeners the options ask for now. */
  private wantedKeys(): Set<string> {
    return new Set(this.options.get<string[]>("mode").map((m) => this.listenKey(m)));
  }

  /** Stops listening, but for the listeners in `keep`; connections already made go on. */
  private async closeListeners(keep: ReadonlySet<string> = new Set()): Promise<void> {
    const closing = <T extends Opened>(list: T[]): T[] => {
      const gone = list.filter((l) => !keep.has(l.key));
      list.splice(0, list.length, ...list.filter((l) => keep.has(l.key)));
      return gone;
    };
    for (const l of closing(this.listeners)) l.server.close();
    for (const d of closing(this.dnsServers)) d.server.close();
    await Promise.all(closing(this.udpRelays).map((r) => r.relay.stop()));
  }

  /**
   * listen_port, listen_host or mode set while running: the listeners move, as mitmproxy's do.
   * Where the new ones cannot listen (the port is taken), the options go back to where pryx
   * listened, and it listens there again.
   */
  private relisten(): void {
    this.relistening = this.relistening.then(async () => {
      if (this.stopping) return;
      const before = this.listening;
      // Only what changed closes (mitmproxy's listeners move so too): first, as a new one may want its port.
      await this.closeListeners(this.wantedKeys());
      try {
        await this.listenAndSay();
      } catch (err) {
        if (!before) {
          await this.closeListeners();
          throw err;
        }
        this.log.error(`${(err as Error).message}; listening as before`);
        // The options say where pryx listens: back to what listened a moment ago, and there again.
        this.options.setValues(before);
        await this.closeListeners(this.wantedKeys());
        await this.listenAndSay();
      }
    }).catch((err: Error) => this.log.error(`pryx is not listening: ${err.message}`));
  }

  /** Listens as the options say, and tells the UI where and in which modes (its status bar shows both). */
  private async listenAndSay(): Promise<void> {
    this.post({ t: "listening", listen: await this.listenAll(), modes: this.options.get<string[]>("mode") });
  }

  private listen(modeSpec: string): Promise<string> {
    // The mode option's check has refused anything but MODES with an optional @PORT.
    const { mode, host: ownHost } = parseModeSpec(modeSpec);
    const port = modePort(modeSpec, this.options.get<number>("listen_port"));
    const host = ownHost ?? this.options.get<string>("listen_host");
    const key = this.listenKey(modeSpec);
    const announce = (opened: Opened) => (where: string): string => {
      opened.where = where;
      this.log.info(listeningMessage(mode, where));
      return where;
    };
    let target: ListenerTarget | undefined;
    const reverse = mode.startsWith("reverse:") ? parseReverseTarget(mode) : undefined;
    if (reverse && (reverse.scheme === "http" || reverse.scheme === "https")) {
      target = { scheme: reverse.scheme, host: reverse.host, port: reverse.port, rewriteHost: true };
    } else if (reverse && (reverse.scheme === "tcp" || reverse.scheme === "tls")) {
      target = { raw: true, host: reverse.host, port: reverse.port, tls: reverse.scheme === "tls" };
    } else if (reverse?.scheme === "udp") {
      const opened = { relay: new UdpRelay(this.ctx, [reverse.host, reverse.port], mode), key };
      this.udpRelays.push(opened);
      return opened.relay.listen(host, port).then(announce(opened));
    } else if (mode === "dns" || reverse) {
      // reverse:dns asks its one server; dns mode the configured or the system's resolver.
      const opened = { server: new DnsServer(this.ctx, reverse && [reverse.host, reverse.port]), key };
      this.dnsServers.push(opened);
      return opened.server.listen(host, port).then(announce(opened));
    }
    const server = net.createServer({ noDelay: true }, (socket) => void this.accept(socket, mode, target));
    return new Promise((resolve, reject) => {
      const failed = (err: Error & { code?: string }): void => reject(new Error(`cannot listen on ${host}:${port}: ${listenFailure(err, port)}`));
      server.once("error", failed);
      server.listen(port, host, () => {
        server.off("error", failed);
        // A listening server's errors are accept's, and one without a listener would end pryx.
        server.on("error", (err) => this.acceptFailed(err, where));
        const a = server.address() as net.AddressInfo;
        const where = formatAddress([a.address, a.port]);
        const opened = { server, mode, key };
        this.listeners.push(opened);
        resolve(announce(opened)(where));
      });
    });
  }

  /**
   * Out of descriptors, libuv accepts and at once closes the waiting connections (its reserved
   * descriptor makes room), so their clients see the connection closed and nothing is emitted;
   * only when that reserve is gone too does accept's EMFILE reach the server as an error. The
   * listener goes on either way and takes connections again once descriptors are free.
   */
  private acceptFailed(err: Error, where: string): void {
    const short = fdShortageCode(err);
    if (short) this.ctx.fdShortage.report(short, `listener ${where}: accepting a connection`);
    else this.log.warn(`listener ${where}: ${err.message}`);
  }

  private async accept(socket: net.Socket, mode: string, target: ListenerTarget | undefined): Promise<void> {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    socket.pause();
    socket.on("error", () => undefined);
    const client = new Client([unmappedIPv4(socket.remoteAddress ?? "?"), socket.remotePort ?? 0], [unmappedIPv4(socket.localAddress ?? "?"), socket.localPort ?? 0], mode);
    await this.addons.trigger("client_connected", client);
    if (client.error) {
      this.log.info(`client ${formatAddress(client.peername)} refused: ${client.error}`);
      socket.destroy();
      await clientDisconnected(this.addons, client);
      return;
    }
    if (mode === "socks5") {
      const r = await socks5Handshake(socket, this.socks5Authenticator(client), (host, port) => this.tunnel.prepare(client, { host, port }));
      if ("error" in r) {
        // A target that could not be reached was logged where the connection failed, once and at
        // info as mitmproxy logs it; only the client's own faults are this listener's to say.
        if (r.stage === "handshake") this.log.warn(`${formatAddress(client.peername)}: ${r.error}`);
        await clientDisconnected(this.addons, client);
        return;
      }
      r.ready.start(socket, r.rest);
      return;
    }
    if (mode === "transparent") {
      await this.transparent.open(socket, client);
      return;
    }
    if (target && "raw" in target) {
      this.tunnel.openReverseStream(socket, client, target, target.tls);
      return;
    }
    if (target) {
      this.tunnel.openReverse(socket, client, target);
      return;
    }
    this.startHttp(socket, client, target, undefined);
    socket.resume();
  }

  private startHttp(socket: net.Socket, client: Client, target: ConnectionTarget | undefined, initial: Buffer | undefined): void {
    const conn = new HttpConnection(this.ctx, socket, client, target, this.tunnel);
    this.connections.add(conn);
    conn.start(initial);
  }

  /** The client-facing TLS options, into the generated certificates' contexts and those of `certs`. */
  private applyClientTls(): void {
    if (!this.leaves) return;
    const protocol = tlsSettings(this.options, "client", CLIENT_CIPHERS).tls;
    this.leaves.setProtocol(protocol);
    const passphrase = this.options.get<string | undefined>("cert_passphrase");
    this.customCerts.set(readCustomCerts(this.options.get<string[]>("certs"), { passphrase, strict: true }), protocol, passphrase);
  }

  private onOptionsChanged(updated: Set<string>): void {
    if (updated.has("server") && this.started) this.serve(this.options.get<boolean>("server"));
    else if (this.listening && ["listen_port", "listen_host", "mode"].some((n) => updated.has(n))) {
      const l = this.listening;
      const same = l.listen_port === this.options.get<number>("listen_port") && l.listen_host === this.options.get<string>("listen_host") && l.mode.join("\n") === this.options.get<string[]>("mode").join("\n");
      if (!same) this.relisten();
    }
    if (updated.has("scripts") && this.started) {
      // One change after another, each on the scripts the last one left.
      this.scriptsChanging = this.scriptsChanging
        .then(() => this.scripts.setScripts(this.options.get<string[]>("scripts")))
        .catch((err: Error) => this.log.error(`scripts: ${err.message}`));
    }
    if (updated.has("max_flows")) this.store.setLimit(this.options.get<number>("max_flows"));
    if (updated.has("spill_bodies")) this.store.setSpillBodies(this.options.get<boolean>("spill_bodies"));
    if (["certs", "cert_passphrase", ...tlsOptionNames("client")].some((n) => updated.has(n))) this.applyClientTls();
    if (updated.has("showhost")) this.store.setShowHost(this.options.get<boolean>("showhost"));
    if (updated.has("view_filter") || updated.has("dumper_filter")) {
      // Dump's printed flows are its view, chosen by dumper_filter as in mitmdump; view_filter is the
      // console's (one saved in config.yaml must not silently thin out what dump prints).
      const expr = this.options.get<string | undefined>(this.init.keepFlows ? "view_filter" : "dumper_filter");
      const shown = this.store.setViewFilter(flowFilter(expr));
      // Without a filter every flow is shown, and the list is empty.
      this.post({ t: "view", filter: expr ?? "", shown });
    }
    if (updated.has("intercept")) {
      // Setting a filter turns intercept on, clearing it turns it off (as mitmproxy does).
      const active = Boolean(this.options.get<string | undefined>("intercept"));
      if (this.options.get<boolean>("intercept_active") !== active) queueMicrotask(() => this.options.setValues({ intercept_active: active }));
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** The addons' configure run for the last option change, and which of them refused it. */
  private configuring: Promise<{ addon: string; error: Error }[]> = Promise.resolve([]);

  /**
   * An option set as a user sets it (`set`, the options editor): an addon whose configure throws
   * refuses the value, which is set back (configure runs again with it), and the error says whose
   * refusal it was, as mitmproxy's options do.
   */
  private async setByUser(name: string, text: OptionText): Promise<void> {
    const before = this.options.has(name) ? this.options.get<OptionValue>(name) : undefined;
    if (this.options.update({ [name]: text }).size === 0) return;
    const refused = await this.configuring;
    if (refused.length === 0) return;
    this.options.setValues({ [name]: before as OptionValue });
    await this.configuring;
    const [first] = refused as [{ addon: string; error: Error }];
    throw new OptionError(`option ${name}: ${first.addon} refused ${JSON.stringify(text)}: ${first.error.message}; it stays ${this.options.info(name).value || '""'}`);
  }

  /** Sends what changed since the last flush as one message. */
  flush(): void {
    this.flushTimer = undefined;
    if (this.init.keepFlows) {
      const warning = this.memory.check(Date.now(), this.store.size);
      if (warning) this.log.warn(warning);
    }
    const changed = this.store.pendingCount() > 0;
    if (!changed && this.store.unpackedCount() === 0 && this.logs.length === 0) return;
    // A quiet dump (flow_detail 0, -q) prints no flow: its main thread is sent only the log.
    const quiet = !this.init.keepFlows && this.options.get<number>("flow_detail") <= 0;
    const delta = this.store.takeDelta(this.dumpDetail(), !quiet);
    const logs = this.logs;
    this.logs = [];
    // Only flows packed again: nothing for the other side.
    if ((quiet || !changed) && logs.length === 0) return;
    // The batch's buffers are handed over, not copied: the engine never reads them again.
    this.post({ t: "batch", ...delta, logs }, [...transferables(delta.add), ...transferables(delta.update)]);
    if (delta.reset) collectGarbageSoon();
  }

  /** Dump's live connections (see StreamEventsAddon), each event behind the flows reported so far. */
  private streamEvents(): StreamEventsAddon {
    return new StreamEventsAddon({
      level: () => this.options.get<number>("flow_detail"),
      shown: (f) => this.store.matchesView(f),
      // A flow read with -r passes its hooks before it joins the store.
      summary: (f) => (this.store.has(f.id) ? this.store.summary(f) : summarize(f, 0, this.store.matchesView(f), this.options.get<boolean>("showhost"))),
      detail: (f, s) => this.dumpDetail()?.(f, s),
      post: (event) => {
        this.flush();
        this.post({ t: "stream", event });
      },
    });
  }

  /**
   * Dump mode prints headers from flow_detail 2, bodies cut from 3 and whole at 4 (mitmdump's
   * levels); its store forgets a flow once reported, so the detail goes with the batch.
   */
  private dumpDetail(): DetailOf | undefined {
    if (this.init.keepFlows) return undefined;
    const level = this.options.get<number>("flow_detail");
    if (level < 2) return undefined;
    const limit = level === 2 ? 0 : level === 3 ? DUMP_BODY_LIMIT : Infinity;
    return (f, s) => flowDetail(f, s, limit, 0, level > 2);
  }

  async handle<R extends EngineRequest>(req: R): Promise<EngineReplies[R["op"]]> {
    type Out = EngineReplies[R["op"]];
    switch (req.op) {
      case "detail": {
        const f = this.store.get(req.id);
        return (f ? flowDetail(f, this.store.summary(f), req.bodyLimit, req.bodyOffset ?? 0) : undefined) as FlowDetail | undefined as Out;
      }
      case "command":
        return (await this.commands.run(req.line)) as Out;
      case "start":
        return (await this.commands.start(req.line)) as Out;
      case "setOption":
        await this.setByUser(req.name, req.value);
        return this.options.info(req.name) as Out;
      case "options":
        return this.options.all() as Out;
      case "commands":
        return this.commands.list().map((c) => ({ name: c.name, signature: c.signature, help: c.help })) as Out;
      case "completions":
        return this.completions(req.partial) as Out;
      case "edit": {
        const f = this.store.get(req.id);
        if (!f) throw new Error(`no flow with id ${req.id}`);
        applyFlowPatch(f, req.patch);
        this.store.update(f);
        await this.addons.trigger("update", [f]);
        return this.store.summary(f) as Out;
      }
    }
  }

  private completions(partial: string): string[] {
    const words = partial.split(/\s+/);
    if (words.length <= 1) return this.commands.list().map((c) => c.name).filter((n) => n.startsWith(words[0] ?? ""));
    if (words[0] === "set" && words.length === 2) return this.options.names().filter((n) => n.startsWith(words[1] ?? ""));
    return [];
  }

  /**
   * HTTP flows still in progress when pryx stops end as mitmproxy ends them, with an error and
   * the error hook: dump prints them and -w saves them. The request that hung is the one a CI
   * run killed at its timeout most needs in its capture; it was lost.
   */
  private async endUnfinished(): Promise<void> {
    // The connections just closed settle their own flows first (a client gone, a server cut off).
    await new Promise((r) => setImmediate(r));
    for (const f of this.store.unpackedFlows()) {
      if (!f.live || !(f instanceof HTTPFlow) || f.websocket) continue;
      f.error ??= new FlowError("pryx stopped before the flow finished");
      f.live = false;
      this.store.update(f);
      await this.addons.trigger("error", f);
    }
  }

  /**
   * Stops listening, settles paused flows, lets in-flight ones finish briefly, runs `done`. Asked
   * again (a signal during -r, then dump's own stop), it is the same stop: the second ask returned
   * at once, and the worker exited before the addons' `done` had run.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private stopped: Promise<void> | undefined;

  private async stopOnce(): Promise<void> {
    this.stopping = true;
    for (const l of this.listeners) l.server.close();
    for (const d of this.dnsServers) d.server.close();
    const kill = this.options.get<string>("intercept_on_exit") === "kill";
    const settlePaused = (): void => {
      for (const f of this.store.unpackedFlows()) {
        if (!f.intercepted) continue;
        if (kill) f.kill();
        else f.resume();
      }
    };
    // Nothing new is paused from here on; a flow resumed at its request finishes without pausing at its response.
    this.options.setValues({ intercept_active: false });
    settlePaused();
    const deadline = Date.now() + 3000;
    // Requests in flight get their answers; an open WebSocket would never end by itself (it is closed below).
    while (Date.now() < deadline && this.store.unpackedFlows().some((f) => f.live && f instanceof HTTPFlow && !f.websocket)) {
      await new Promise((r) => setTimeout(r, 25));
      settlePaused();
    }
    for (const c of [...this.connections]) c.close("proxy shut down");
    await this.endUnfinished();
    // UDP flows end as if idle (udp_end), before the addons' done.
    await Promise.all(this.udpRelays.map((r) => r.relay.stop()));
    this.sharedUpstreams.closeAll();
    await this.scripts.close();
    // The last flows reach dump's output before what `done` hooks print (hardump=- its HAR).
    this.flush();
    await this.addons.trigger("done");
    clearTimeout(this.flushTimer);
    this.flush();
  }
}

/** Why a listener could not start, and what to do about it. */
function listenFailure(err: Error & { code?: string }, port: number): string {
  // -p at start-up; listen_port or a mode's @PORT once running (the same words serve both).
  if (err.code === "EADDRINUSE") return "the address is in use (pick another port: -p, listen_port, or the mode's @PORT)";
  if (err.code === "EACCES" && port > 0 && port < 1024) return `${err.message} (ports below 1024 need privileges: pick another port, such as 8080, with -p, listen_port, or the mode's @PORT)`;
  return err.message;
}
