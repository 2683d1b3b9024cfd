/**
 * Keybindings as data: `{ key, context, command, help }` entries from the repo's keybindings.json,
 * overridden by `<confdir>/keybindings.json`. Keys resolve to command strings in the command
 * language, so keys, the `:` prompt and addons' commands share one registry.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { CommandSyntaxError, tokenize } from "./command-line.ts";
import { KeySpecError, parseKeySpec } from "./keys.ts";
import { parse as parseYaml } from "yaml";

export const CONTEXTS = [
  "global",
  "flowlist",
  "flowview",
  "help",
  "options",
  "eventlog",
  "commands",
  "keybindings",
  "chooser",
  "prompt",
  "grideditor",
] as const;
export type Context = (typeof CONTEXTS)[number];

/**
 * mitmproxy's contexts that pryx has under another name: `commonkey` groups keys that are
 * global anyway, and the data viewer is a help screen in pryx.
 */
const CONTEXT_ALIASES: Readonly<Record<string, Context>> = { commonkey: "global", dataviewer: "help" };

export function isContext(s: string): s is Context {
  return (CONTEXTS as readonly string[]).includes(s);
}

/** One binding, validated: the key in canonical spelling, one context. */
export interface Binding {
  key: string;
  context: Context;
  command: string;
  help: string;
  /** Where it came from, for error messages and the key bindings screen: "file#index". */
  source: string;
}

export class KeymapError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `bad keybindings:\n  ${problems.join("\n  ")}`);
  }
}

const FIELDS = new Set(["key", "context", "command", "help"]);
/** mitmproxy's keys.yaml names two fields otherwise: its entries are taken as they are. */
const MITMPROXY_FIELDS: Record<string, string> = { cmd: "command", ctx: "context" };

/**
 * The commands a binding's line runs: its own, and the ones it hands on to a confirmation
 * (`console.command.confirm PROMPT CMD…`) or a chooser (`console.choose PROMPT CHOICES CMD…`,
 * `console.choose.cmd PROMPT CHOICES_CMD CMD…`), so a misspelt command inside one is caught at
 * start-up rather than when the key is pressed. A prompt's text (`console.command CMD…`) is not
 * run as it is: it may name a command an addon adds later.
 */
export function commandNames(words: readonly string[]): string[] {
  const [first, ...rest] = words;
  if (first === undefined) return [];
  switch (first) {
    case "console.command.confirm":
      return [first, ...commandNames(rest.slice(1))];
    case "console.choose":
      return [first, ...commandNames(rest.slice(2))];
    case "console.choose.cmd":
      return rest[1] === undefined ? [first] : [first, rest[1], ...commandNames(rest.slice(2))];
    default:
      return [first];
  }
}

/**
 * Validates the entries of one keybindings file. Every bad entry is reported (file, index, key when
 * there is one, and why), so a user fixes the file in one go; nothing is returned unless all are good.
 * `isKnownCommand`, when given, is asked about every command name (the console's and the engine's,
 * addons' included); without it only console.* names can be checked, as the engine's are not known yet.
 */
export function parseBindings(
  raw: unknown,
  file: string,
  isKnownConsoleCommand: (name: string) => boolean,
  isKnownCommand?: (name: string) => boolean,
): Binding[] {
  if (!Array.isArray(raw)) throw new KeymapError([`${file}: expected a JSON array of { key, context, command, help } entries`]);
  const out: Binding[] = [];
  const problems: string[] = [];
  raw.forEach((entry: unknown, index: number) => {
    const where = (key?: unknown) =>
      `${file}: entry ${index}${typeof key === "string" ? ` (key ${JSON.stringify(key)})` : ""}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      problems.push(`${where()}: expected an object`);
      return;
    }
    const e: Record<string, unknown> = { ...(entry as Record<string, unknown>) };
    const bad = (msg: string) => problems.push(`${where(e["key"])}: ${msg}`);
    for (const [theirs, ours] of Object.entries(MITMPROXY_FIELDS)) {
      if (!(theirs in e)) continue;
      if (ours in e) return bad(`both "${theirs}" and "${ours}": give one`);
      e[ours] = e[theirs];
      delete e[theirs];
    }
    const unknown = Object.keys(e).filter((k) => !FIELDS.has(k));
    if (unknown.length) return bad(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
    for (const f of ["key", "command"]) {
      if (!(f in e)) return bad(`missing field "${f}"`);
    }
    // As mitmproxy's keys.yaml: an entry without contexts is global (the first example in its docs has none).
    if (!("context" in e)) e["context"] = "global";
    if (typeof e["key"] !== "string") return bad(`"key" must be a string`);
    if (typeof e["command"] !== "string") return bad(`"command" must be a string`);
    if (e["help"] !== undefined && typeof e["help"] !== "string") return bad(`"help" must be a string`);
    const ctxRaw = e["context"];
    // "flowlist,flowview" as `console.key.bind` takes it, or a list.
    const named = typeof ctxRaw === "string" ? ctxRaw.split(",").map((c) => c.trim()) : ctxRaw;
    if (!Array.isArray(named) || named.length === 0 || !named.every((c) => typeof c === "string")) {
      return bad(`"context" must be a context name or a non-empty list of them`);
    }
    const contexts = named.map((c: string) => CONTEXT_ALIASES[c] ?? c);
    const unknownCtx = contexts.filter((c) => !isContext(c));
    if (unknownCtx.length) {
      return bad(`unknown context ${unknownCtx.map((c) => JSON.stringify(c)).join(", ")} (known: ${CONTEXTS.join(", ")})`);
    }
    let key: string;
    try {
      key = parseKeySpec(e["key"]);
    } catch (err) {
      if (err instanceof KeySpecError) return bad(err.message);
      throw err;
    }
    // A command over several lines (a YAML `|` block) is one command: its line ends are spaces, as in
    // mitmproxy. A space at the end stays: `console.command view.flows.load ` leaves the cursor after it.
    const line = e["command"].replace(/[^\S\r\n]*[\r\n]+\s*/g, " ");
    const command = line.trim();
    if (command.length === 0) return bad(`"command" is empty`);
    let names: string[];
    try {
      names = commandNames(tokenize(command).map((t) => t.value));
    } catch (err) {
      if (err instanceof CommandSyntaxError) return bad(`command ${JSON.stringify(command)}: ${err.message}`);
      throw err;
    }
    for (const name of names) {
      if (name.startsWith("console.") && !isKnownConsoleCommand(name)) return bad(`unknown console command "${name}"`);
      if (isKnownCommand && !isKnownCommand(name)) {
        return bad(`unknown command "${name}" (context ${contexts.map((c) => JSON.stringify(c)).join(", ")})`);
      }
    }
    for (const context of contexts as Context[]) {
      out.push({ key, context, command: line, help: (e["help"] as string | undefined) ?? "", source: `${file}#${index}` });
    }
    return undefined;
  });
  if (problems.length) throw new KeymapError(problems);
  return out;
}

/** Bindings by context and key; a later binding for the same key and context replaces the earlier one. */
export class Keymap {
  private readonly byContext = new Map<Context, Map<string, Binding>>();
  /** Goes up at every bind and unbind, for views that derive text from the bindings. */
  version = 0;

  constructor(bindings: Iterable<Binding>) {
    for (const b of bindings) this.bind(b);
  }

  /** Adds a binding, replacing the key's in that context (`console.key.bind`). */
  bind(b: Binding): void {
    let m = this.byContext.get(b.context);
    if (!m) this.byContext.set(b.context, (m = new Map()));
    // Delete first so an override takes the position of a newly added key, and listing shows it last.
    m.delete(b.key);
    m.set(b.key, b);
    this.version++;
  }

  /** Removes the key's binding in that context (`console.key.unbind`); whether there was one. */
  unbind(context: Context, key: string): boolean {
    const gone = this.byContext.get(context)?.delete(key) ?? false;
    if (gone) this.version++;
    return gone;
  }

  lookup(context: Context, key: string): Binding | undefined {
    return this.byContext.get(context)?.get(key);
  }

  /** The first binding for the key in the given contexts, in order (the current context, then global). */
  resolve(contexts: readonly Context[], key: string): Binding | undefined {
    for (const c of contexts) {
      const b = this.lookup(c, key);
      if (b) return b;
    }
    return undefined;
  }

  forContext(context: Context): Binding[] {
    return [...(this.byContext.get(context)?.values() ?? [])];
  }

  all(): Binding[] {
    const out: Binding[] = [];
    for (const c of CONTEXTS) out.push(...this.forContext(c));
    return out;
  }

  /** The keys bound to a command in a context (for hints such as "press f to load all"). */
  keysFor(command: string, contexts: readonly Context[]): string[] {
    const out: string[] = [];
    for (const c of contexts) for (const b of this.forContext(c)) if (b.command === command && !out.includes(b.key)) out.push(b.key);
    return out;
  }
}

export const DEFAULT_KEYBINDINGS_PATH = fileURLToPath(new URL("../../keybindings.json", import.meta.url));

/** A keybindings file's entries: JSON, or YAML for a .yaml/.yml file (mitmproxy's keys.yaml). */
function readJson(file: string): unknown {
  const text = readFileSync(file, "utf8");
  const yaml = /\.ya?ml$/i.test(file);
  try {
    return yaml ? (parseYaml(text) as unknown) ?? [] : (JSON.parse(text) as unknown);
  } catch (err) {
    throw new KeymapError([`${file}: not valid ${yaml ? "YAML" : "JSON"}: ${((err as Error).message.split("\n")[0] ?? "").replace(/:$/, "")}`]);
  }
}

/**
 * The user's keybindings files in a confdir, in the order they apply: pryx's own, then
 * mitmproxy's keys.yaml copied over as it is (key, cmd, ctx, help).
 */
export function userKeymapFiles(confdir: string): string[] {
  return [path.join(confdir, "keybindings.json"), path.join(confdir, "keys.yaml")];
}

/**
 * Loads the default keymap and, over it, each of the user's files that exists.
 * Throws KeymapError naming each bad entry.
 */
export function loadKeymap(opts: {
  isKnownConsoleCommand: (name: string) => boolean;
  /** Checks every command name of the user's file (the defaults are checked by a test instead). */
  isKnownCommand?: (name: string) => boolean;
  defaultsPath?: string;
  userPaths?: readonly string[];
}): Keymap {
  const defaultsPath = opts.defaultsPath ?? DEFAULT_KEYBINDINGS_PATH;
  const bindings = parseBindings(readJson(defaultsPath), defaultsPath, opts.isKnownConsoleCommand);
  for (const file of opts.userPaths ?? []) bindings.push(...(readBindingsFile(file, opts.isKnownConsoleCommand, opts.isKnownCommand) ?? []));
  return new Keymap(bindings);
}

/**
 * A user's keybindings file, checked entry by entry (at start-up, and by console.keymap.load);
 * undefined when there is no such file. An unreadable file or a bad entry is a KeymapError.
 */
export function readBindingsFile(file: string, isKnownConsoleCommand: (name: string) => boolean, isKnownCommand?: (name: string) => boolean): Binding[] | undefined {
  let raw: unknown;
  try {
    raw = readJson(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if (err instanceof KeymapError) throw err;
    throw new KeymapError([`${file}: ${(err as Error).message}`]);
  }
  return parseBindings(raw, file, isKnownConsoleCommand, isKnownCommand);
}
