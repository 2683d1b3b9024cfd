/**
 * A stand-in for the engine worker: emits the events the real engine sends (ready, batch, options,
 * view) with summaries shaped like real ones, answers requests, and records every request.
 */
import { EMPTY_BATCH, encodeSummaries } from "../../../src/summary-codec.ts";
import { parseFilter } from "../../../src/engine/filter/index.ts";
import type { EngineHandle } from "../../../src/engine-client.ts";
import type {
  CommandInfo,
  EngineEvent,
  EngineReplies,
  EngineRequest,
  FlowDetail,
  FlowPatch,
  FlowSummary,
  LogEntry,
  OptionInfo,
  ReadyInfo,
  StartedFlows,
} from "../../../src/protocol.ts";

let idCounter = 0;

/** A finished GET with a JSON response, as the engine summarises one; override any field. */
export function makeFlow(over: Partial<FlowSummary> = {}): FlowSummary {
  const seq = over.seq ?? ++idCounter;
  const host = over.host ?? "api.example.com";
  const path = over.path ?? `/v1/items/${seq}?page=1`;
  const scheme = over.scheme ?? "https";
  const defaultPort = scheme === "https" || scheme === "wss" ? 443 : 80;
  const port = over.port ?? defaultPort;
  return {
    id: over.id ?? `f${String(seq).padStart(6, "0")}-7c1e-4f5a-9b1d-2a3b4c5d6e7f`,
    seq,
    type: "http",
    ts: 1_700_000_000 + seq,
    method: "GET",
    scheme,
    host,
    port,
    path,
    // As pretty_url gives it: the port when it is not the scheme's.
    url: `${scheme}://${host}${port === defaultPort ? "" : `:${port}`}${path}`,
    httpVersion: "HTTP/1.1",
    responseVersion: undefined,
    status: 200,
    reason: "OK",
    contentType: "application/json; charset=utf-8",
    reqSize: 0,
    respSize: 1234,
    duration: 0.042,
    error: undefined,
    intercepted: false,
    interceptedAt: undefined,
    marker: "",
    replay: undefined,
    modified: false,
    live: false,
    client: "127.0.0.1:51234",
    server: "93.184.216.34:443",
    messages: undefined,
    comment: "",
    shown: true,
    ...over,
  };
}

export function makeFlows(n: number, over: (i: number) => Partial<FlowSummary> = () => ({})): FlowSummary[] {
  const out: FlowSummary[] = [];
  for (let i = 0; i < n; i++) out.push(makeFlow(over(i)));
  return out;
}

const enc = new TextEncoder();

export function makeDetail(s: FlowSummary): FlowDetail {
  const respBody = enc.encode(JSON.stringify({ id: s.seq, name: `item ${s.seq}`, tags: ["a", "b"], ok: true }));
  const reqBody = s.method === "POST" ? enc.encode("name=widget&count=3") : new Uint8Array();
  return {
    summary: s,
    request: {
      method: s.method,
      url: s.url,
      path: s.path,
      httpVersion: s.httpVersion,
      headers: [
        ["Host", s.host],
        ["User-Agent", "curl/8.5.0"],
        ["Accept", "*/*"],
        ...(s.method === "POST" ? ([["Content-Type", "application/x-www-form-urlencoded"]] as [string, string][]) : []),
      ],
      body: reqBody,
      bodySize: reqBody.length,
      bodyOffset: 0,
      contentType: s.method === "POST" ? "application/x-www-form-urlencoded" : undefined,
      encoding: undefined,
    },
    response:
      s.status === undefined
        ? undefined
        : {
            status: s.status,
            reason: s.reason ?? "",
            httpVersion: s.httpVersion,
            headers: [
              ["Content-Type", s.contentType ?? "application/json"],
              ["Content-Length", String(respBody.length)],
              ["X-Served-By", "origin-1"],
            ],
            body: respBody,
            bodySize: respBody.length,
            bodyOffset: 0,
            contentType: s.contentType,
            encoding: undefined,
          },
    messages: [],
    closed: undefined,
    client: { address: s.client, tlsVersion: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", sni: s.host, alpn: "http/1.1", alpnOffers: ["h2", "http/1.1"], certificate: undefined, timestampStart: s.ts, timestampTlsSetup: s.ts + 0.01, timestampEnd: undefined },
    server: { address: s.server, tlsVersion: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", sni: s.host, alpn: "http/1.1", alpnOffers: ["http/1.1"], certificate: undefined, timestampStart: s.ts + 0.002, timestampTlsSetup: s.ts + 0.02, timestampEnd: undefined },
    timings: [
      { name: "Client conn. established", ts: s.ts },
      { name: "Request complete", ts: s.ts + 0.005 },
      { name: "Response complete", ts: s.ts + (s.duration ?? 0) },
    ],
    dns: undefined,
  };
}

function opt(name: string, type: OptionInfo["type"], value: string, help: string, choices?: string[]): OptionInfo {
  return { name, type, value, default: value, help, choices };
}

export function defaultOptions(): OptionInfo[] {
  return [
    opt("listen_host", "str", "127.0.0.1", "Address to bind the proxy to."),
    opt("listen_port", "int", "8080", "Proxy port (0 picks a free port)."),
    opt("intercept", "filter", "", "Intercept filter: matching flows pause for the user."),
    opt("intercept_active", "bool", "false", "Whether the intercept filter is in force."),
    opt("intercept_on_exit", "choice", "kill", "What happens to flows still paused when pryx exits.", ["kill", "resume"]),
    opt("view_filter", "filter", "", "Show only flows matching this filter in the console."),
    opt("ignore_hosts", "str[]", "", "Regexes of host:port that pass through without interception."),
    opt("ssl_insecure", "bool", "false", "Do not verify upstream server certificates."),
    opt("content_view_lines_cutoff", "int", "512", "Lines of a body shown until f."),
    opt("console_strip_trailing_newlines", "bool", "false", "Strip trailing newlines from bodies edited in $EDITOR."),
    opt("console_focus_follow", "bool", "false", "The console's focus follows new flows."),
    opt("console_eventlog_verbosity", "choice", "info", "The console's event log verbosity.", ["error", "warn", "info", "alert", "debug"]),
    opt("view_order", "choice", "time", "Flow list order.", ["time", "method", "url", "size"]),
    opt("view_order_reversed", "bool", "false", "Reverse the flow list order."),
    { ...opt("save_stream_file", "optional str", "", "Append every finished flow to this file."), paths: "after+" },
  ];
}

export function defaultCommands(): CommandInfo[] {
  const c = (name: string, signature: string, help: string): CommandInfo => ({ name, signature, help });
  return [
    c("flow.resume", "flow.resume flows", "Resume flows if they are intercepted."),
    c("flow.kill", "flow.kill flows", "Kill running flows."),
    c("flow.mark", "flow.mark flows [marker]", "Mark flows."),
    c("flow.mark.toggle", "flow.mark.toggle flows", "Toggle mark for flows."),
    c("flow.revert", "flow.revert flows", "Revert flow changes."),
    c("flow.comment", "flow.comment flows comment", "Add a comment to a flow"),
    c("view.flows.remove", "view.flows.remove flows", "Removes the flows from the store and the view."),
    c("view.flows.duplicate", "view.flows.duplicate flows", "Duplicates the flows."),
    c("replay.client", "replay.client flows", "Replay requests."),
    c("set", "set option [value]", "Set an option."),
  ];
}

/** A command's answer: its text, or for a command that starts flows (replay.client) also their ids. */
type CommandAnswer = string | StartedFlows | undefined;
type CommandHandler = (line: string) => CommandAnswer | Promise<CommandAnswer>;

export class FakeEngine implements EngineHandle {
  readonly requests: EngineRequest[] = [];
  readonly flows = new Map<string, FlowSummary>();
  /** Details changed by edits; other flows get makeDetail's. */
  readonly details = new Map<string, FlowDetail>();
  options = defaultOptions();
  commands = defaultCommands();
  /** Replies to `command` and `start` requests; the default understands `set` and records everything. */
  onCommand: CommandHandler | undefined;
  private readonly listeners = new Set<(ev: EngineEvent) => void>();
  shutdowns = 0;

  ready(over: Partial<ReadyInfo> = {}): ReadyInfo {
    return { listen: ["127.0.0.1:8080"], modes: ["regular"], confdir: "/tmp/pryx-test", caCreated: false, caCert: "/tmp/pryx-test/pryx-ca-cert.pem", options: this.options, commands: this.commands, ...over };
  }

  on(listener: (ev: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(ev: EngineEvent): void {
    for (const l of this.listeners) l(ev);
  }

  /** Sends flows as one batch, as the engine's 33 ms flush would. */
  add(flows: FlowSummary[], logs: LogEntry[] = []): void {
    for (const f of flows) this.flows.set(f.id, f);
    this.emit({ t: "batch", add: encodeSummaries(flows), update: EMPTY_BATCH, remove: [], logs, reset: false });
  }

  update(flows: FlowSummary[]): void {
    for (const f of flows) this.flows.set(f.id, f);
    this.emit({ t: "batch", add: EMPTY_BATCH, update: encodeSummaries(flows), remove: [], logs: [], reset: false });
  }

  remove(ids: string[]): void {
    for (const id of ids) this.flows.delete(id);
    this.emit({ t: "batch", add: EMPTY_BATCH, update: EMPTY_BATCH, remove: ids, logs: [], reset: false });
  }

  log(...entries: LogEntry[]): void {
    this.emit({ t: "batch", add: EMPTY_BATCH, update: EMPTY_BATCH, remove: [], logs: entries, reset: false });
  }

  commandLines(): string[] {
    return this.requests.flatMap((r) => (r.op === "command" || r.op === "start" ? [r.line] : []));
  }

  private setOptionValue(name: string, value: string): OptionInfo {
    const i = this.options.findIndex((o) => o.name === name);
    if (i < 0) throw new Error(`unknown option "${name}"`);
    const o = this.options[i]!;
    let v = value.trim();
    if (o.type === "bool") {
      if (v === "toggle") v = o.value === "true" ? "false" : "true";
      else if (v === "" || v === "true") v = "true";
      else if (v !== "false") throw new Error(`option ${name} expects a boolean, got ${JSON.stringify(value)}`);
    } else if (o.type === "int" && !/^-?\d+$/.test(v)) throw new Error(`option ${name} expects an integer, got ${JSON.stringify(value)}`);
    else if (o.choices && !o.choices.includes(v)) throw new Error(`option ${name} expects one of ${o.choices.join(", ")}, got ${JSON.stringify(value)}`);
    else if (o.type === "filter" && v !== "") {
      // The real engine's wording: the option's complaint, then the real parser's three lines.
      try {
        parseFilter(v);
      } catch (e) {
        throw new Error(`option ${name} expects a filter expression (empty for none), got ${JSON.stringify(v)}: ${(e as Error).message}`);
      }
    }
    const next = { ...o, value: v };
    this.options[i] = next;
    // As the real engine's registry does: a value set to what it was changes nothing, and says nothing.
    if (v !== o.value) this.emit({ t: "options", changed: [next] });
    // As the real engine does: setting an intercept filter turns intercepting on, clearing it off.
    if (name === "intercept") {
      const j = this.options.findIndex((x) => x.name === "intercept_active");
      const active = { ...this.options[j]!, value: v ? "true" : "false" };
      this.options[j] = active;
      this.emit({ t: "options", changed: [active] });
    }
    if (name === "view_filter") {
      const shown = [...this.flows.values()].filter((f) => v !== "" && f.url.includes(v.replace(/^~u\s+/, ""))).map((f) => f.seq);
      this.emit({ t: "view", filter: v, shown: Uint32Array.from(shown) });
    }
    return next;
  }

  async request<R extends EngineRequest>(req: R): Promise<EngineReplies[R["op"]]> {
    this.requests.push(req);
    type Out = EngineReplies[R["op"]];
    await Promise.resolve();
    switch (req.op) {
      case "detail": {
        const f = this.flows.get(req.id);
        if (!f) return undefined as Out;
        const d = this.details.get(req.id) ?? makeDetail(f);
        const cut = <M extends { body: Uint8Array; bodyOffset: number }>(m: M | undefined): M | undefined =>
          m && { ...m, body: m.body.subarray(req.bodyOffset ?? 0, (req.bodyOffset ?? 0) + req.bodyLimit), bodyOffset: req.bodyOffset ?? 0 };
        return { ...d, summary: f, request: cut(d.request), response: cut(d.response) } as Out;
      }
      case "command": {
        const answer = await this.answer(req.line);
        return (typeof answer === "object" ? answer.said : answer) as Out;
      }
      case "start": {
        const answer = await this.answer(req.line);
        return (typeof answer === "object" ? answer : { said: answer, ids: [] }) as Out;
      }
      case "setOption":
        return this.setOptionValue(req.name, req.value) as Out;
      case "options":
        return this.options as Out;
      case "commands":
        return this.commands as Out;
      case "completions": {
        const words = req.partial.split(/\s+/);
        if (words.length <= 1) return this.commands.map((c) => c.name).filter((n) => n.startsWith(words[0] ?? "")) as Out;
        if (words[0] === "set" && words.length === 2) return this.options.map((o) => o.name).filter((n) => n.startsWith(words[1] ?? "")) as Out;
        const none: string[] = [];
        return none as Out;
      }
      case "edit":
        return this.applyEdit(req.id, req.patch) as Out;
    }
    throw new Error("unreachable");
  }

  /** A command line's answer: the test's handler's, or the default's, which understands `set`. */
  private async answer(line: string): Promise<CommandAnswer> {
    if (this.onCommand) return this.onCommand(line);
    const words = line.split(/\s+/);
    if (words[0] === "set") {
      const m = /^set\s+(\S+)\s*(.*)$/.exec(line)!;
      let value = m[2] ?? "";
      if (/^'.*'$/.test(value) || /^".*"$/.test(value)) value = value.slice(1, -1);
      const info = this.setOptionValue(m[1]!, value);
      return `${info.name} = ${info.value === "" ? "''" : info.value}`;
    }
    if (!this.commands.some((c) => c.name === words[0])) throw new Error(`unknown command "${words[0]}"`);
    return undefined;
  }

  /** Validates like the engine (nothing changes when it refuses), applies, and announces the update. */
  applyEdit(id: string, patch: FlowPatch): FlowSummary {
    const f = this.flows.get(id);
    if (!f) throw new Error(`no flow with id ${id}`);
    if (patch.message) {
      // A message of a WebSocket, TCP or UDP flow, as the engine's applyFlowPatch takes it.
      const d = this.details.get(id) ?? makeDetail(f);
      const m = d.messages[patch.message.index];
      if (!m) throw new Error(`the flow has no message ${patch.message.index + 1} (it has ${d.messages.length})`);
      this.edits.push({ id, patch });
      const messages = d.messages.map((x, i) => (i === patch.message!.index ? { ...x, content: patch.message!.content } : x));
      const next: FlowSummary = { ...f, modified: true };
      this.details.set(id, { ...d, summary: next, messages });
      this.update([next]);
      return next;
    }
    if (f.type !== "http") throw new Error(`cannot edit the HTTP parts of a ${f.type} flow`);
    if (patch.method !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(patch.method))
      throw new Error(`invalid HTTP method ${JSON.stringify(patch.method)}: must be a token such as GET or POST`);
    if (patch.statusCode !== undefined && (patch.statusCode < 100 || patch.statusCode > 999)) throw new Error(`invalid status code ${patch.statusCode}: must be an integer from 100 to 999`);
    for (const [n, v] of [...(patch.requestHeaders ?? []), ...(patch.responseHeaders ?? [])]) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n)) throw new Error(`invalid header name ${JSON.stringify(n)}: must be an HTTP token`);
      if (/[\r\n\0]/.test(v)) throw new Error(`invalid value for header ${n}: CR, LF and NUL are not allowed`);
    }
    this.edits.push({ id, patch });
    const d = this.details.get(id) ?? makeDetail(f);
    let path = patch.path ?? d.request!.path;
    if (patch.query) {
      const base = path.split("?")[0]!;
      const q = new URLSearchParams(patch.query).toString();
      path = q ? `${base}?${q}` : base;
    }
    const url = patch.url ?? `${f.scheme}://${f.host}${path}`;
    const request = {
      ...d.request!,
      method: patch.method ?? d.request!.method,
      path,
      url,
      headers: patch.requestHeaders ?? d.request!.headers,
      ...(patch.requestBody ? { body: patch.requestBody, bodySize: patch.requestBody.length } : {}),
    };
    const touches = patch.statusCode !== undefined || patch.reason !== undefined || patch.responseHeaders !== undefined || patch.responseBody !== undefined;
    const base = d.response ?? (touches ? { status: 200, reason: "OK", httpVersion: "HTTP/1.1", headers: [], body: new Uint8Array(), bodySize: 0, bodyOffset: 0, contentType: undefined, encoding: undefined } : undefined);
    const response = base && {
      ...base,
      status: patch.statusCode ?? base.status,
      reason: patch.reason ?? base.reason,
      headers: patch.responseHeaders ?? base.headers,
      ...(patch.responseBody ? { body: patch.responseBody, bodySize: patch.responseBody.length } : {}),
    };
    const next: FlowSummary = {
      ...f,
      method: request.method,
      path,
      url,
      status: response?.status,
      reason: response?.reason,
      comment: patch.comment ?? f.comment,
      modified: true,
    };
    this.details.set(id, { ...d, summary: next, request, response });
    this.update([next]);
    return next;
  }

  /** Every edit the engine accepted, in order. */
  readonly edits: { id: string; patch: FlowPatch }[] = [];

  async shutdown(): Promise<void> {
    this.shutdowns++;
    this.emit({ t: "stopped" });
  }
}
