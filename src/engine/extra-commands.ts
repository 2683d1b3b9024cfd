import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { CommandRegistry } from "./commands.ts";
import { CommandError, cannotWrite, flowObjects } from "./commands.ts";
import { OptionError, type Options } from "./options.ts";
import { readOptionsFile, saveOptionsFile } from "./options-file.ts";
import { expandHome } from "../home-path.ts";
import { csvRows } from "../csv.ts";
import type { FlowStore } from "./store.ts";
import { Message } from "./flow/message.ts";
import { formatAddress } from "./flow/connection.ts";
import { HTTPFlow, Request } from "./flow/http.ts";
import { Client, Server } from "./flow/connection.ts";
import type { Flow } from "./flow/flow.ts";
import type { Addon } from "./hooks/hooks.ts";
import { resolveFlows, resolveToRead } from "./flow-commands.ts";

/**
 * One value cut from a flow, as mitmproxy's cut addon takes it: a path of the flow's attributes
 * (request.method, request.port, server_conn.address.host, client_conn.peername.port,
 * request.timestamp_start, response.content), or a message's header[NAME]. Whatever a script
 * reads from a flow can be cut. A part that is not there (a response a flow lacks) cuts as "";
 * a name the object has not is an error, so a typo is not an empty column.
 */
export function cut(flow: Flow, spec: string): string | Uint8Array {
  const parts = spec.split(".");
  // One flow's missing response is worth saying (a CSV of several gives its cells "").
  if (flow instanceof HTTPFlow && parts[0] === "response" && parts.length > 1 && !flow.response) throw new CommandError(`flow ${flow.id} has no response to cut ${spec} from`);
  let current: unknown = flow;
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i] as string;
    const last = i === parts.length - 1;
    if (!name || name.startsWith("_") || name === "constructor") throw new CommandError(`cannot cut ${JSON.stringify(spec)}: ${name ? `${name} is internal` : "it has an empty part"}`);
    const header = /^header\[(.+)\]$/.exec(name);
    if (header) {
      if (!last) throw new CommandError(`cannot cut ${JSON.stringify(spec)}: header[NAME] comes last`);
      return (current as { headers?: { get(n: string): string | undefined } } | undefined)?.headers?.get(header[1] as string) ?? "";
    }
    if (current === undefined || current === null) return "";
    if (isAddress(current) && (name === "host" || name === "port")) return String(current[name === "host" ? 0 : 1]);
    if (typeof current !== "object" || !(name in current)) {
      throw new CommandError(`unknown cut ${JSON.stringify(spec)}: ${parts.slice(0, i).join(".") || "a flow"} has no ${name} (e.g. request.url, request.host, request.port, request.header[Host], response.status_code, response.content, client_conn.peername.host, server_conn.address.port, request.timestamp_start)`);
    }
    // A body that does not decode is cut as it is on the wire, not an error for the whole cut.
    const value = current instanceof Message && (name === "content" || name === "text") ? (name === "content" ? current.get_content(false) : current.get_text(false)) : (current as Record<string, unknown>)[name];
    current = typeof value === "function" ? undefined : value;
  }
  return cutValue(current);
}

function isAddress(v: unknown): v is [string, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "number";
}

/** A cut's value as text, or its bytes as they are. */
function cutValue(v: unknown): string | Uint8Array {
  if (v === undefined || v === null) return "";
  if (v instanceof Uint8Array) return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (isAddress(v)) return formatAddress(v);
  // Headers as they go on the wire ("Name: value" lines), not an object's dump.
  if (typeof v === "object" && typeof (v as { toWire?: unknown }).toWire === "function") return (v as { toWire(): string }).toWire();
  if (typeof v === "object" && v.toString === Object.prototype.toString) return JSON.stringify(v);
  return String(v);
}

/** Rows of cuts, one per flow; a flow without a response (an error flow) gets empty response cells, not an abort. */
function cutRows(flows: readonly Flow[], specs: readonly string[]): (string | Uint8Array)[][] {
  const value = (f: Flow, spec: string): string | Uint8Array => (spec.startsWith("response.") && f instanceof HTTPFlow && !f.response ? "" : cut(f, spec));
  return flows.map((f) => specs.map((c) => value(f, c)));
}

function cutCsv(flows: Flow[], specs: string[]): string {
  return csvRows(cutRows(flows, specs));
}

/** One value as it is (a body stays byte-exact); several as CSV, a row per flow, as mitmproxy's. */
function cutData(store: FlowStore, spec: string, cuts: string): Buffer {
  const flows = resolveToRead(store, spec);
  const specs = cuts.split(",").map((c) => c.trim());
  return flows.length === 1 && specs.length === 1 ? Buffer.from(cut(flows[0] as Flow, specs[0] as string)) : Buffer.from(cutCsv(flows, specs), "utf8");
}

/** Commands behind mitmproxy's remaining default keys: cut.save, script.run, view.flows.create, options.*. */
export function registerExtraCommands(
  commands: CommandRegistry,
  deps: { store: FlowStore; options: Options; notify(flow: Flow): void; activeConnections(): Promise<number>; reading(): boolean },
): void {
  const { store, options } = deps;
  commands.add({
    name: "view.flows.resolve",
    signature: "view.flows.resolve flows",
    rest: true,
    help: "The flows a flow spec names (@all, @marked, a filter…), a line each: id, then what the list shows.",
    run: (args) => {
      const spec = args.join(" ").trim();
      if (!spec) throw new CommandError("view.flows.resolve needs flows, e.g. view.flows.resolve @marked");
      const flows = resolveToRead(store, spec);
      // Said, so "no match" is told from "nothing happened".
      if (flows.length === 0) return `no flows match ${spec}`;
      return flows
        .map((f) => {
          const s = store.summary(f);
          return `${f.id} ${s.type === "http" ? `${s.method} ${s.url}` : s.url}${s.status === undefined ? "" : ` ${s.status}`}${s.error ? ` (${s.error})` : ""}`;
        })
        .join("\n");
    },
    // An addon's `commands.call("view.flows.resolve", "@marked")` gets the flows, as mitmproxy's does.
    call: (args) => {
      const given = flowObjects(args[0]);
      if (given) return given;
      const spec = args.map((a) => String(a)).join(" ").trim();
      if (!spec) throw new CommandError("view.flows.resolve needs flows, e.g. view.flows.resolve @marked");
      return commands.flowsArgument(spec, "flows", "view.flows.resolve");
    },
  });
  commands.add({ name: "proxyserver.active_connections", signature: "proxyserver.active_connections", help: "How many client connections (and UDP flows) are open now.", run: () => deps.activeConnections() });
  commands.add({ name: "readfile.reading", signature: "readfile.reading", help: "Whether a flow file (-r) is still being read.", run: () => deps.reading() });
  commands.add({
    name: "cut.save",
    signature: "cut.save flows cuts path",
    help: "Save parts of flows (e.g. response.content) to a file; a leading + appends.",
    run: (args) => {
      const [spec, cuts, target] = args;
      if (!spec || !cuts || !target) throw new CommandError("cut.save needs flows, cuts and a path, e.g. cut.save @focus response.content body.bin");
      const data = cutData(store, spec, cuts);
      const append = target.startsWith("+");
      const file = append ? target.slice(1) : target;
      try {
        if (append) fs.appendFileSync(file, data);
        else fs.writeFileSync(file, data);
      } catch (err) {
        throw cannotWrite("save", file, err);
      }
      return `saved ${data.length} bytes to ${file}`;
    },
  });
  commands.add({
    name: "cut",
    signature: "cut flows cuts",
    help: "Parts of flows as text (e.g. request.url): one value as it is, several as CSV; cut.clip copies it.",
    run: (args) => {
      const [spec, cuts] = args;
      if (!spec || !cuts) throw new CommandError("cut needs flows and cuts, e.g. cut @focus request.url");
      return cutData(store, spec, cuts).toString("utf8");
    },
    // An addon gets mitmproxy's rows, a list of values per flow (bytes for a body), not CSV to parse.
    call: (args) => {
      const [flows, cuts] = args;
      if (flows === undefined || flows === null || cuts === undefined || cuts === null) throw new CommandError("cut needs flows and cuts, e.g. commands.call(\"cut\", [flow], [\"request.url\"])");
      const specs = (Array.isArray(cuts) ? cuts.map(String) : String(cuts).split(",")).map((c) => c.trim());
      const given = (flowObjects(flows) as Flow[] | undefined) ?? resolveToRead(store, String(flows));
      return cutRows(given, specs);
    },
  });
  commands.add({
    name: "view.flows.create",
    signature: "view.flows.create method url",
    help: "Create a new flow (for editing and replay).",
    run: (args) => {
      const [method, url] = args;
      if (!method || !url) throw new CommandError("view.flows.create needs a method and a URL");
      let req: Request;
      try {
        req = Request.make(method.toUpperCase(), url);
      } catch (err) {
        // "Invalid URL" alone left the user guessing; a missing scheme is the usual reason.
        const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? "" : `: a URL starts with its scheme, such as https://${url}`;
        throw new CommandError(`cannot create a flow for ${method} ${url}: ${(err as Error).message}${hint}`);
      }
      const flow = new HTTPFlow(new Client(["", 0], ["", 0], "created"), new Server([req.host, req.port]), req);
      flow.live = false;
      store.add(flow);
      return flow.id;
    },
  });
  commands.add({
    name: "script.run",
    signature: "script.run flows path",
    help: "Run a script's request and response hooks on flows.",
    run: async (args) => {
      const [spec, file] = args;
      if (!spec || !file) throw new CommandError("script.run needs flows and a script path");
      if (!fs.existsSync(path.resolve(file))) throw new CommandError(`script.run: script not found: ${path.resolve(file)}`);
      const flows = resolveFlows(store, spec);
      const mod = (await import(`${pathToFileURL(path.resolve(file)).href}?run=${Date.now()}`)) as { default?: unknown };
      const exported = mod.default;
      const list = (Array.isArray(exported) ? exported : [exported]).map((a) => (typeof a === "function" ? new (a as new () => Addon)() : (a as Addon)));
      for (const f of flows) {
        if (!(f instanceof HTTPFlow)) continue;
        for (const a of list) {
          await a.request?.(f);
          if (f.response) await a.response?.(f);
        }
        deps.notify(f);
      }
      return `ran ${file} on ${flows.length} flow${flows.length === 1 ? "" : "s"}`;
    },
  });
  commands.add({
    name: "options.reset",
    signature: "options.reset",
    help: "Reset every option to its default, but to its start-up value where the command line or config.yaml set one.",
    run: () => {
      const n = options.reset().size;
      const kept = options.startedNames();
      // Say which stayed: a user expecting mitmproxy's plain defaults would otherwise look for -p's port to have moved.
      return `reset ${n} option(s)${kept.length ? `; kept as pryx started: ${kept.join(", ")}` : ""}`;
    },
  });
  commands.add({
    name: "options.reset.one",
    signature: "options.reset.one option",
    help: "Reset one option to its default.",
    run: (args) => {
      if (!args[0]) throw new CommandError("options.reset.one needs an option name");
      options.reset([args[0]]);
      return options.assignment(args[0]);
    },
  });
  commands.add({
    name: "options.save",
    signature: "options.save path",
    help: "Save the options that differ from their defaults to a YAML file (mitmproxy's config.yaml form); an existing file keeps its comments.",
    run: (args) => {
      if (!args[0]) throw new CommandError("options.save needs a path");
      const file = expandHome(args[0]);
      try {
        return `saved ${saveOptionsFile(file, options)} option(s) to ${file}`;
      } catch (err) {
        throw new CommandError(err instanceof OptionError ? err.message : `cannot save options to ${file}: ${(err as Error).message}`);
      }
    },
  });
  commands.add({
    name: "options.load",
    signature: "options.load path",
    help: "Load options from a YAML file (mitmproxy's config.yaml form); names no option has yet wait for an addon that adds them.",
    run: (args) => {
      if (!args[0]) throw new CommandError("options.load needs a path");
      const file = expandHome(args[0]);
      try {
        const { values, skipped } = readOptionsFile(file, options);
        options.updateDeferring(values, file);
        const waiting = Object.keys(values).filter((name) => !options.has(name));
        const notes = [
          ...(skipped.length ? [`skipped mitmproxy's ${skipped.join(", ")}`] : []),
          // A typo would wait for an addon that never comes: say which option it looks like.
          ...(waiting.length ? [`not known yet, kept for an addon: ${waiting.map((name) => nearNote(name, options.near(name))).join(", ")}`] : []),
        ];
        return `loaded ${Object.keys(values).length - waiting.length} option(s) from ${file}${notes.length ? `; ${notes.join("; ")}` : ""}`;
      } catch (err) {
        throw new CommandError((err as Error).message);
      }
    },
  });
}

/** "anticach (did you mean anticache?)", or the name alone when no option is near it. */
function nearNote(name: string, near: readonly string[]): string {
  return near.length ? `${name} (did you mean ${near.join(", ")}?)` : name;
}
