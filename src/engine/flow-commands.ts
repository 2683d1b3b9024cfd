import fs from "node:fs";
import type { CommandRegistry, CommandSpec } from "./commands.ts";
import { writeFlowFile, type FlowFileRead } from "./save-stream.ts";
import { formatNote, leftOutReason } from "./flow-file-format.ts";
import { savePath } from "./save-path.ts";
import { EXPORT_FORMATS, exportFlow, type ExportFormat } from "./flow/export.ts";
import { toHar } from "./flow/har.ts";
import { Answer, CommandError, cannotWrite, givenFlows } from "./commands.ts";
import type { FlowPredicate, FlowStore } from "./store.ts";
import type { Flow } from "./flow/flow.ts";
import { HTTPFlow } from "./flow/http.ts";
import type { Message } from "./flow/message.ts";
import { BODY_ENCODINGS } from "./flow/encoding.ts";
import { FLOW_SET_ATTRS } from "./flow/set-attrs.ts";
import { applyPatch } from "./flow/patch.ts";
import type { FlowPatch } from "../protocol.ts";
import { compileFilter } from "./filter/index.ts";
import { boolText, type OptionText, type Options } from "./options.ts";
import type { AddonManager } from "./hooks/addon-manager.ts";
import { DEFAULT_MARKER, isMarker } from "../markers.ts";
import type { Log } from "./log.ts";

export interface FlowCommandDeps {
  store: FlowStore;
  options: Options;
  /** Sets an option as a user does: an addon's configure may refuse it (see Engine.setByUser). */
  /** A list option takes several values as its entries (`set mode regular socks5`). */
  setOption(name: string, text: OptionText): Promise<void>;
  addons: AddonManager;
  notify(flow: Flow): void;
  /** Reads a pryx flow file or HAR file into the store. */
  load(file: string): FlowFileRead;
  /** Where a save is told too, as mitmproxy's alert: the status bar's answer is gone in a moment under traffic. */
  log: Log;
}

/**
 * Resolves a flow spec (mitmproxy's): @all, @shown, @hidden, @marked, @unmarked, a
 * comma-separated list of ids, or any filter expression over the stored flows.
 * `@focus` is the console's to replace with an id before the command reaches the engine.
 */
/**
 * mitmproxy's Marker argument: true is ":default:", false (or nothing given as "") unmarks, and
 * a letter, a digit or an emoji name such as ":grapes:" is kept as it is. Anything else is
 * refused rather than taken for false, which silently unmarked a flow.
 */
async function markerArg(arg: string | undefined): Promise<string> {
  if (arg === undefined || arg === "true") return DEFAULT_MARKER;
  if (arg === "false" || arg === "") return "";
  if (await isMarker(arg)) return arg;
  throw new CommandError(`flow.mark: ${JSON.stringify(arg)} is not a marker: give true, false, a letter or digit, or an emoji name such as :grapes:`);
}

export function resolveFlows(store: FlowStore, spec: string): Flow[] {
  const given = givenFlows(spec);
  if (given) return given as Flow[];
  const ids = spec.split(",");
  if (ids.every((id) => store.has(id))) return ids.map((id) => store.get(id) as Flow);
  return store.select(specPredicate(store, spec));
}

/** The ids of the flows a spec names, as `resolveFlows` finds them but without unpacking any. */
export function resolveIds(store: FlowStore, spec: string): string[] {
  const given = givenFlows(spec);
  if (given) return (given as Flow[]).map((f) => f.id);
  const ids = spec.split(",");
  if (ids.every((id) => store.has(id))) return ids;
  return store.selectIds(specPredicate(store, spec));
}

/**
 * The flows a spec names, for a command that only reads them (export, save, cut): a packed flow
 * comes as a copy the store does not keep, so none is unpacked for the store to pack again.
 */
export function resolveToRead(store: FlowStore, spec: string): Flow[] {
  return pickFlows(store, spec, (id) => store.readOnce(id));
}

/** The flows a spec names as `pick` gives each by id; those it gives none for are left out. */
function pickFlows(store: FlowStore, spec: string, pick: (id: string) => Flow | undefined): Flow[] {
  const given = givenFlows(spec);
  if (given) return given as Flow[];
  const out: Flow[] = [];
  for (const id of resolveIds(store, spec)) {
    const f = pick(id);
    if (f) out.push(f);
  }
  return out;
}

/** What a spec other than a list of ids selects. */
function specPredicate(store: FlowStore, spec: string): FlowPredicate {
  switch (spec) {
    case "@all":
      return () => true;
    case "@shown":
      return (f) => store.isShown(f);
    case "@hidden":
      return (f) => !store.isShown(f);
    case "@marked":
      return (f) => f.marked !== "";
    case "@unmarked":
      return (f) => f.marked === "";
    case "@focus":
      throw new CommandError("@focus names the console's focused flow and only works from the console");
  }
  return compileFilter(spec);
}

/** What `flow.set` sets (mitmproxy's `flow.set.options`, in its order). */
type FlowSetAttr = (typeof FLOW_SET_ATTRS)[number];

/** The edit `flow.set attr value` makes on one flow; undefined when the flow has nothing to set (no response). */
function flowSetPatch(f: HTTPFlow, attr: FlowSetAttr, value: string): FlowPatch | undefined {
  switch (attr) {
    case "method":
      return { method: value };
    case "path":
      return { path: value };
    case "url":
      return { url: value };
    case "host": {
      // The scheme, port and path stay; the URL parser checks the host (and puts an IPv6 one in brackets).
      const u = new URL(f.request.url);
      const host = value.includes(":") && !value.startsWith("[") ? `[${value}]` : value;
      let withHost: URL;
      try {
        withHost = new URL(`${u.protocol}//${host}${u.port ? `:${u.port}` : ""}`);
      } catch {
        throw new CommandError(`invalid host ${JSON.stringify(value)}`);
      }
      return { url: `${withHost.protocol}//${withHost.host}${f.request.path}` };
    }
    case "status_code":
      return f.response ? { statusCode: Number(value) } : undefined;
    case "reason":
      return f.response ? { reason: value } : undefined;
  }
}

function counted(verb: string, n: number): string {
  return `${verb} ${n} flow${n === 1 ? "" : "s"}`;
}

/** As counted, but none done says which flows the command acts on: "killed 0 flows" after `X` on a finished flow left the user wondering why. */
function countedOr(verb: string, n: number, none: string): string {
  return n === 0 ? none : counted(verb, n);
}

/** The flow commands the console's keys and prompt use (mitmproxy's names). */
export function registerFlowCommands(commands: CommandRegistry, deps: FlowCommandDeps): void {
  const { store, notify } = deps;
  const specArg = (args: string[], cmd: string): string => {
    const spec = args[0];
    if (!spec) throw new CommandError(`${cmd} needs a flow spec (@all, @marked, an id or a filter)`);
    return spec;
  };
  const flowsArg = (args: string[], cmd: string): Flow[] => resolveFlows(store, specArg(args, cmd));
  const flowIdsArg = (args: string[], cmd: string): string[] => resolveIds(store, specArg(args, cmd));
  const changed = async (flows: Flow[]): Promise<void> => {
    for (const f of flows) notify(f);
    if (flows.length) await deps.addons.trigger("update", flows);
  };

  /** The flows a spec names that are held as objects: a packed flow is finished, not paused and as recorded. */
  const heldFlowsArg = (args: string[], cmd: string): Flow[] => pickFlows(store, specArg(args, cmd), (id) => store.unpackedFlow(id));
  /**
   * A command over a flow spec (its first argument): `act` gets the selected flows and all arguments.
   * `held`: only a flow held as an object can pass `select` (one in progress, paused or edited), so
   * packed flows are not unpacked to be turned down (`A` over 100,000 flows took a second and more).
   */
  /** `held`: the flows may be held by the intercept filter; `rest`: see CommandSpec.rest. */
  const onFlows = (name: string, signature: string, help: string, select: (f: Flow) => boolean, act: (flows: Flow[], args: string[]) => unknown, opts: { held?: boolean; rest?: boolean } = {}): void =>
    commands.add({ name, signature, help, rest: opts.rest, run: (args) => act((opts.held ? heldFlowsArg(args, name) : flowsArg(args, name)).filter(select), args) });
  const all = (): boolean => true;

  // Both tell addons through update, as mitmproxy's core commands do (a sidecar mirroring flow state relies on it).
  onFlows("flow.resume", "flow.resume flows", "Resume intercepted flows.", (f) => f.intercepted, async (flows) => {
    for (const f of flows) f.resume();
    await changed(flows);
    return countedOr("resumed", flows.length, "nothing to resume: only intercepted flows are resumed");
  }, { held: true });
  onFlows("flow.kill", "flow.kill flows", "Kill flows: the client gets its connection closed.", (f) => f.killable, async (flows) => {
    for (const f of flows) f.kill();
    await changed(flows);
    return countedOr("killed", flows.length, "nothing to kill: only flows still in progress are killed");
  }, { held: true });
  onFlows("flow.mark", "flow.mark flows [marker]", "Mark flows with a marker (true, a letter or digit, or an emoji name such as :grapes:, which ~marker finds), or unmark them (false).", all, async (flows, args) => {
    const marker = await markerArg(args[1]);
    for (const f of flows) f.marked = marker;
    await changed(flows);
  });
  onFlows("flow.mark.toggle", "flow.mark.toggle flows", "Toggle the mark on flows.", all, async (flows) => {
    for (const f of flows) f.marked = f.marked ? "" : DEFAULT_MARKER;
    await changed(flows);
  });
  onFlows("flow.revert", "flow.revert flows", "Revert edited flows to what was recorded.", (f) => f.modified(), async (flows) => {
    for (const f of flows) f.revert();
    await changed(flows);
    return countedOr("reverted", flows.length, "nothing to revert: only edited flows are reverted");
  }, { held: true });
  commands.add(listCommand("flow.set.options", "The attributes flow.set sets.", FLOW_SET_ATTRS));

  // mitmproxy's encoding commands (`z` in the flow view): on the request's or the response's body,
  // saved first so that V reverts them.
  const partOf = (f: Flow, part: string | undefined, cmd: string): Message | undefined => {
    if (part !== "request" && part !== "response") throw new CommandError(`${cmd}: the part is request or response, not ${JSON.stringify(part ?? "")}`);
    return f instanceof HTTPFlow ? (part === "request" ? f.request : f.response) : undefined;
  };
  const recode = (name: string, signature: string, help: string, done: string, change: (m: Message, args: string[]) => void): void =>
    onFlows(name, signature, help, all, async (flows, args) => {
      const updated: Flow[] = [];
      let without = 0;
      for (const f of flows) {
        const m = partOf(f, args[1], name);
        if (!m) {
          without++;
          continue;
        }
        const wasModified = f.modified();
        f.backupState();
        try {
          change(m, args);
        } catch (err) {
          // Nothing changed (decode and encode check first): a flow not edited before is not now.
          if (!wasModified) f.revert();
          await changed(updated);
          throw new CommandError(`${name}: ${(err as Error).message}`);
        }
        updated.push(f);
      }
      await changed(updated);
      // `z` then "response" on a request still waiting for its answer: say why nothing changed.
      if (updated.length === 0 && without > 0) return `${name}: no ${args[1]} to change (${without === 1 ? "the flow has" : "the flows have"} none)`;
      return counted(done, updated.length);
    });
  recode("flow.encode", "flow.encode flows part encoding", `Encode the request's or response's body: ${BODY_ENCODINGS.join(", ")}.`, "encoded", (m, args) => m.encode(args[2] ?? ""));
  recode("flow.decode", "flow.decode flows part", "Take the Content-Encoding off the request's or response's body.", "decoded", (m) => m.decode());
  recode("flow.encode.toggle", "flow.encode.toggle flows part", "Decode an encoded body, or encode a plain one with deflate.", "toggled the encoding of", (m) => {
    if ((m.plainHeaders.get("content-encoding") ?? "identity") !== "identity") m.decode();
    else m.encode("deflate");
  });
  commands.add(listCommand("flow.encode.options", "The encodings flow.encode takes.", BODY_ENCODINGS));
  // mitmproxy's quick edit (its console's method, status_code and reason prompts run it). As an edit
  // from the console, it saves the flow first, so V reverts it.
  onFlows(
    "flow.set",
    "flow.set flows attr value",
    `Set a common value on flows: ${FLOW_SET_ATTRS.join(", ")}.`,
    (f) => f instanceof HTTPFlow && f.request.method !== "CONNECT",
    async (flows, args) => {
      const attr = args[1] ?? "";
      if (!(FLOW_SET_ATTRS as readonly string[]).includes(attr)) throw new CommandError(`flow.set: unknown attribute ${JSON.stringify(attr)}; one of ${FLOW_SET_ATTRS.join(", ")}`);
      if (args.length < 3) throw new CommandError(`flow.set ${attr} needs a value`);
      const value = args.slice(2).join(" ");
      if (attr === "status_code" && !/^\d+$/.test(value.trim())) throw new CommandError(`Status code is not an integer: ${value}`);
      const updated: Flow[] = [];
      for (const f of flows as HTTPFlow[]) {
        const patch = flowSetPatch(f, attr as FlowSetAttr, value);
        if (!patch) continue;
        try {
          applyPatch(f, patch);
        } catch (err) {
          throw new CommandError((err as Error).message);
        }
        updated.push(f);
      }
      await changed(updated);
      return counted(`set ${attr} on`, updated.length);
    },
    { rest: true },
  );
  onFlows("flow.comment", "flow.comment flows text", "Set a comment on flows.", all, async (flows, args) => {
    for (const f of flows) f.comment = args.slice(1).join(" ");
    await changed(flows);
  }, { rest: true });
  // As mitmproxy's: a flow still in progress is killed, so its client is not left talking to a flow nobody sees.
  // Packed flows are finished ones: only those held as objects can be in progress.
  commands.add({
    name: "view.flows.remove",
    signature: "view.flows.remove flows",
    help: "Remove flows from the list (live ones are killed first, but an open WebSocket goes on, as in mitmproxy).",
    run: (args) => {
      const ids = flowIdsArg(args, "view.flows.remove");
      for (const id of ids) {
        const f = store.unpackedFlow(id);
        // `z` must not cut a chat or a live feed: mitmproxy's open WebSockets go on after it too.
        const openWebSocket = f instanceof HTTPFlow && f.websocket !== undefined && !f.intercepted;
        if (f?.killable && !openWebSocket) f.kill();
      }
      store.remove(ids);
      return counted("removed", ids.length);
    },
  });
  commands.add({
    name: "view.clear",
    signature: "view.clear",
    help: "Remove every flow from the list.",
    run: () => {
      for (const f of store.unpackedFlows()) if (f.intercepted) f.kill();
      store.clear();
    },
  });
  // The console's `M` (mitmproxy's view.show_marked), so that @shown and @hidden are what it shows.
  commands.add({
    name: "view.properties.marked.set",
    signature: "view.properties.marked.set bool",
    help: "Whether the view shows marked flows only (the console's M sets it): @shown and @hidden follow it.",
    run: (args) => {
      const on = boolText(args[0] ?? "");
      if (on === undefined) throw new CommandError(`view.properties.marked.set takes true or false, not ${JSON.stringify(args[0] ?? "")}`);
      store.setMarkedOnly(on);
    },
  });
  // mitmproxy's view.flows.add, for addons that make flows (`flow.copy()`, then add it and replay it).
  commands.add({
    name: "view.flows.add",
    signature: "view.flows.add flows",
    help: "Add flows to the list; those already in it are left as they are.",
    run: (args) => {
      const fresh = flowsArg(args, "view.flows.add").filter((f) => !store.has(f.id));
      for (const f of fresh) store.add(f);
      return counted("added", fresh.length);
    },
  });
  // The copies' ids are the value (mitmproxy's returns None): the console focuses exactly the first
  // copy, where the first flow to arrive after the command may be another client's.
  onFlows("view.flows.duplicate", "view.flows.duplicate flows", "Copy flows, for editing and replay; gives the copies' ids, in order (an addition: mitmproxy's gives None).", all, (flows) => {
    const copies = flows.map((f) => f.copy());
    for (const c of copies) store.add(c);
    return new Answer(counted("duplicated", copies.length), copies.map((c) => c.id));
  });
  const saveHar = (args: string[], command: string): string => {
    const flows = resolveToRead(store, specArg(args, command));
    const file = args[1];
    if (!file) throw new CommandError(`${command} needs a path`);
    try {
      fs.writeFileSync(file, toHar(flows));
    } catch (err) {
      throw cannotWrite("save flows", file, err);
    }
    // HAR holds HTTP (and WebSocket) flows only; the others are said to be left out, not counted in.
    const http = flows.filter((f) => f instanceof HTTPFlow).length;
    const other = flows.length - http;
    const said = `${counted("saved", http)} as HAR to ${file}${other ? `; ${other} flow${other === 1 ? "" : "s"} not HTTP (TCP, UDP, DNS) left out` : ""}`;
    deps.log.write("alert", said);
    return said;
  };
  commands.add({
    name: "save.file",
    signature: "save.file flows path",
    help: "Save flows to a flow file: pryx's, mitmproxy's for a .mitm or .flow name, HAR for a .har one (a leading + appends, but not to a HAR).",
    run: async (args) => {
      const spec = args[1];
      // A HAR is one JSON document: written whole, as save.har writes it, never appended to.
      if (spec && /\.har$/i.test(spec) && !spec.startsWith("+")) return saveHar(args, "save.file");
      const ids = flowIdsArg(args, "save.file");
      if (!spec) throw new CommandError("save.file needs a path");
      const { file, append, format } = savePath(spec);
      const { written, leftOut } = await writeFlowFile(file, append, format, ids, (id) => store.readOnce(id)).catch((err: unknown) => {
        throw cannotWrite("save flows", file, err);
      });
      const said = `${counted("saved", written)} to ${file}${formatNote(file, format)}${leftOut.length ? `; left out ${leftOut.length}: ${leftOutReason(leftOut)}` : ""}`;
      deps.log.write("alert", said);
      return said;
    },
  });
  commands.add({
    name: "view.flows.load",
    signature: "view.flows.load path",
    help: "Load flows from a pryx flow file.",
    run: (args) => {
      const file = args[0];
      if (!file) throw new CommandError("view.flows.load needs a path");
      let read: FlowFileRead;
      try {
        read = deps.load(file);
      } catch (err) {
        throw new CommandError((err as Error).message);
      }
      const { count, errors, format } = read;
      return `${counted("loaded", count)}${format === "har" ? ` from HAR ${file}` : ""}${errors.length ? `; ${errors.length} unreadable line(s): ${errors[0]}` : ""}`;
    },
  });
  const httpFlows = (args: string[], cmd: string): HTTPFlow[] => onlyHttp(resolveToRead(store, specArg(args, cmd)), args, cmd);
  const onlyHttp = (all: Flow[], args: string[], cmd: string): HTTPFlow[] => {
    const flows = all.filter((f): f is HTTPFlow => f instanceof HTTPFlow);
    // A TCP, UDP or DNS flow has no HTTP request to export (mitmproxy: "Can't export flow with no request").
    if (flows.length === 0) {
      const what = all.length === 1 ? `a ${(all[0] as Flow).type.toUpperCase()} flow` : `${all.length} flows, none of them HTTP`;
      throw new CommandError(all.length ? `${cmd}: only HTTP flows can be exported, and ${args[0]} names ${what}` : `${cmd}: no flow matches ${args[0]}`);
    }
    return flows;
  };
  const formatArg = (v: string | undefined): ExportFormat => {
    if (!v || !(EXPORT_FORMATS as readonly string[]).includes(v)) throw new CommandError(`unknown export format ${JSON.stringify(v ?? "")}: one of ${EXPORT_FORMATS.join(", ")}`);
    return v as ExportFormat;
  };
  const preserveIp = (): boolean => deps.options.get<boolean>("export_preserve_original_ip");
  commands.add(listCommand("export.formats", "The formats export and export.file take.", EXPORT_FORMATS));
  commands.add({
    name: "export",
    signature: "export format flow",
    help: "A flow as curl, httpie or raw text.",
    run: (args) => {
      const flows = httpFlows(args.slice(1), "export");
      // One flow's text, as mitmproxy's: the first of several would pass for the one meant.
      if (flows.length > 1) throw new CommandError(`export takes one flow; ${args[1]} names ${flows.length} (export.file writes several to a file)`);
      return exportFlow(flows[0] as HTTPFlow, formatArg(args[0]), preserveIp());
    },
  });
  commands.add({
    name: "export.file",
    signature: "export.file format flows path",
    help: "Write flows as curl, httpie or raw text to a file.",
    run: (args) => {
      const format = formatArg(args[0]);
      const named = resolveToRead(store, specArg(args.slice(1), "export.file"));
      const flows = onlyHttp(named, args.slice(1), "export.file");
      const file = args[2];
      if (!file) throw new CommandError("export.file needs a path");
      // Over many flows (@all, @marked), one that cannot be exported (raw_response of a flow with
      // no response) is left out and counted, not the end of the whole file.
      const texts: string[] = [];
      let failed = 0;
      for (const f of flows) {
        try {
          texts.push(exportFlow(f, format, preserveIp()));
        } catch (err) {
          if (flows.length === 1) throw new CommandError((err as Error).message);
          failed++;
        }
      }
      if (texts.length === 0) throw new CommandError(`export.file: none of the ${flows.length} flows can be exported as ${format}`);
      // Raw exports are byte strings (one char per byte, as on the wire): written as UTF-8, every body or
      // header byte above 0x7f would become two.
      // A raw export is the message itself, with nothing after it (as mitmproxy's); a command ends its line.
      const raw = format.startsWith("raw");
      try {
        fs.writeFileSync(file, `${texts.join("\n\n")}${raw ? "" : "\n"}`, raw ? "latin1" : "utf8");
      } catch (err) {
        throw cannotWrite("export", file, err);
      }
      const notHttp = named.length - flows.length;
      const why = [failed ? `${failed} with nothing to export as ${format}` : "", notHttp ? `${notHttp} not HTTP` : ""].filter(Boolean);
      return `${counted("exported", texts.length)} as ${format} to ${file}${why.length ? `; ${failed + notHttp} left out (${why.join(", ")})` : ""}`;
    },
  });
  commands.add({
    name: "save.har",
    signature: "save.har flows path",
    help: "Save flows as a HAR file.",
    run: (args) => saveHar(args, "save.har"),
  });
  commands.add({
    name: "set",
    signature: "set option [value]",
    rest: true,
    help: "Set an option (`set name` alone sets a bool to true or clears others; `set name=value` as --set takes it; several values are a list option's entries: `set mode regular socks5`).",
    run: async (args) => {
      let [name, ...rest] = args;
      if (!name) throw new CommandError("set needs an option name");
      // `--set name=value` is how the command line takes it; the prompt takes that form too.
      const eq = name.indexOf("=");
      if (eq > 0 && !deps.options.has(name)) [name, rest] = [name.slice(0, eq), [name.slice(eq + 1), ...rest]];
      // As mitmproxy's set: several values are a list option's entries, and one text for any other.
      const list = rest.length > 1 && deps.options.has(name) && deps.options.info(name).type === "str[]";
      await deps.setOption(name, list ? rest : rest.join(" "));
      return deps.options.assignment(name);
    },
  });
}

/**
 * A command answering a fixed list, as mitmproxy's `*.options` and `export.formats` do: "a,b,c"
 * on a command line (the console's choosers split it), the list itself to an addon's
 * `commands.call`, which iterates it as mitmproxy's Sequence[str] (a string gave it characters).
 */
function listCommand(name: string, help: string, items: readonly string[]): CommandSpec {
  return { name, signature: name, help, run: () => items.join(","), call: () => [...items] };
}
