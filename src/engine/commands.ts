import { expandHome } from "../home-path.ts";
import type { StartedFlows } from "../protocol.ts";

/** A command callable from the console prompt, key bindings and addons: `name arg arg…`. */
export interface CommandSpec {
  name: string;
  /**
   * e.g. "save.file flows path" — shown in help and completion. The parameter names are the
   * arguments' types as far as the prompt cares: one named `path` is a file path and Tab completes
   * it from the file system.
   */
  signature: string;
  help: string;
  /**
   * The last parameter takes the rest of the line's words, so a value or filter with spaces needs
   * no quotes (`flow.comment @focus looks wrong`). Otherwise words past the signature's parameters
   * are an error, as mitmproxy's "argument mismatch": they were often a prompt typed into by mistake.
   */
  rest?: boolean;
  run(args: string[]): unknown;
  /**
   * For addons calling with values rather than a command line (`ctx.master.commands.call`):
   * flows, booleans and bytes as they are. Without it, the values are turned into `run`'s words.
   */
  call?(args: readonly unknown[]): unknown;
}

export class CommandError extends Error {}

/**
 * A write that failed, said as what was being saved where. Node's own message names neither
 * ("EISDIR: illegal operation on a directory, open '…'"), and in the status line it read as
 * though the command itself were broken. Its trailing "open '<file>'" goes: the file is named first.
 */
export function cannotWrite(what: string, file: string, err: unknown): CommandError {
  const reason = (err as Error).message.replace(/, \w+ '[^']*'$/, "");
  return new CommandError(`cannot ${what} to ${file}: ${reason}`);
}

/**
 * A command's result that reads one way on a command line (the status bar: "replaying 2 flows")
 * and is a value to an addon's `commands.call` (the ids of those flows).
 */
export class Answer<T> {
  constructor(
    readonly said: string,
    readonly value: T,
  ) {}
}

/** A result as a command line shows it. */
function saidOf(result: unknown): string | undefined {
  if (result instanceof Answer) return result.said;
  if (result === undefined || result === null) return undefined;
  return typeof result === "string" ? result : JSON.stringify(result);
}

/** A result as an addon's `commands.call` gets it. */
function valueOf(result: unknown): unknown {
  return result instanceof Answer ? result.value : result;
}

/** One registry: the engine's commands, built-in features' and addons' (`loader.add_command`). */
export class CommandRegistry {
  private readonly commands = new Map<string, CommandSpec>();
  /** Turns a flow spec (@all, @marked, an id, a filter) into the flows it names; the engine sets it. */
  private flowResolver: ((spec: string) => readonly object[]) | undefined;

  resolveFlowsWith(resolver: (spec: string) => readonly object[]): void {
    this.flowResolver = resolver;
  }

  /**
   * An argument for a parameter typed `flows` (or `flow`, exactly one), as mitmproxy's typed
   * command parameters are: the flows themselves, whether a spec or flow objects were given.
   */
  flowsArgument(word: string, param: "flows" | "flow", command: string): readonly object[] | object {
    const flows = givenFlows(word) ?? this.flowResolver?.(word);
    if (!flows) throw new CommandError(`${command}: no flows to resolve ${JSON.stringify(word)} in`);
    if (param === "flows") return flows;
    if (flows.length !== 1) throw new CommandError(`${command} takes one flow; ${JSON.stringify(word)} names ${flows.length}`);
    return flows[0] as object;
  }

  add(spec: CommandSpec): void {
    this.commands.set(spec.name, spec);
  }

  remove(name: string): void {
    this.commands.delete(name);
  }

  has(name: string): boolean {
    return this.commands.has(name);
  }

  list(): CommandSpec[] {
    return [...this.commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Runs a command line. Returns the command's result rendered as text (or undefined). */
  async run(line: string): Promise<string | undefined> {
    return saidOf(await this.result(line));
  }

  /**
   * Runs a command line that makes new flows (replay.client, view.flows.duplicate): what it says, and the ids of those
   * flows, for the console to follow exactly them. A command that gives no ids gives none here.
   */
  async start(line: string): Promise<StartedFlows> {
    const result = await this.result(line);
    const value = valueOf(result);
    return { said: saidOf(result), ids: Array.isArray(value) && value.every((v) => typeof v === "string") ? value : [] };
  }

  private async result(line: string): Promise<unknown> {
    const words = splitCommandLine(line);
    const [name, ...args] = words;
    if (!name) throw new CommandError("empty command");
    const cmd = this.commands.get(name);
    if (!cmd) throw new CommandError(`unknown command "${name}"${this.suggest(name)}`);
    // An argument whose parameter is a `path` gets `~` expanded here, for every command alike.
    const params = cmd.signature.split(/\s+/).slice(1);
    checkArgumentCount(cmd.signature, args, cmd.rest ?? false);
    return cmd.run(args.map((a, i) => (params[i] === "path" ? expandHome(a) : a)));
  }

  /**
   * mitmproxy's `commands.call(name, *args)`: a command run with values, for addons. Flows given
   * as objects stay those objects (a `flow.copy()` to replay, a flow dump mode no longer keeps):
   * each becomes a word that flow specs resolve to it while the command runs (see `givenFlows`).
   */
  async call(name: string, ...args: unknown[]): Promise<unknown> {
    const cmd = this.commands.get(name);
    if (!cmd) throw new CommandError(`unknown command "${name}"${this.suggest(name)}`);
    if (cmd.call) return cmd.call(args);
    const params = cmd.signature.split(/\s+/).slice(1);
    const words: string[] = [];
    try {
      for (const [i, a] of args.entries()) words.push(asWord(a, params[i]));
      return valueOf(await cmd.run(words));
    } finally {
      for (const w of words) GIVEN.delete(w);
    }
  }

  private suggest(name: string): string {
    const near = [...this.commands.keys()].filter((n) => n.startsWith(name.split(".")[0] ?? name)).slice(0, 4);
    return near.length ? ` (try ${near.join(", ")})` : "";
  }
}

/**
 * Words past a signature's parameters are an error naming them (mitmproxy's "argument mismatch"),
 * unless the last parameter is variadic (`*args`) or takes the rest of the line (`takesRest`).
 */
export function checkArgumentCount(signature: string, args: readonly string[], takesRest: boolean): void {
  const [name, ...params] = signature.trim().split(/\s+/);
  if (takesRest || params.at(-1)?.replace(/^\[/, "").startsWith("*") || args.length <= params.length) return;
  const extra = args.slice(params.length).map((a) => JSON.stringify(a)).join(" ");
  throw new CommandError(`${name} takes ${params.length === 0 ? "no arguments" : `${params.length}: ${signature}`}; ${extra} is more (quote an argument that has spaces)`);
}

/** Objects with an id (flows) an addon passed to `call`, under the words standing for them. */
const GIVEN = new Map<string, readonly object[]>();
let givenCount = 0;

const hasId = (v: unknown): v is { id: string } => v !== null && typeof v === "object" && typeof (v as { id?: unknown }).id === "string";

/**
 * Flows an addon gave `commands.call` as objects, one or a list, as a list; undefined for anything
 * else (a flow spec, to be resolved). Every command that takes flows from an addon takes them so.
 */
export function flowObjects(value: unknown): readonly object[] | undefined {
  if (value === null || typeof value !== "object") return undefined;
  return Array.isArray(value) ? value : [value];
}

/** The objects an addon passed for this word of a command line (`@given:N`), if it stands for some. */
export function givenFlows(word: string): readonly object[] | undefined {
  return GIVEN.get(word);
}

/**
 * A value as a command word: flows (one or a list) by a word for those very objects, bytes as
 * UTF-8 text. An empty list for a `flows` parameter is no flows, as in mitmproxy (not the empty
 * text, which is no flow spec).
 */
function asWord(v: unknown, param: string | undefined): string {
  const forFlows = param?.replace(/^\[|\]$/g, "") === "flows";
  const flows = hasId(v) || (Array.isArray(v) && (v.length > 0 ? v.every(hasId) : forFlows)) ? flowObjects(v) : undefined;
  if (flows) {
    const word = `@given:${++givenCount}`;
    GIVEN.set(word, flows);
    return word;
  }
  if (Array.isArray(v)) return v.map((item) => asWord(item, undefined)).join(",");
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  return String(v);
}

/** Splits on whitespace, honouring '…' and "…" quoting with backslash escapes (mitmproxy's command lexer). */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === "\\" && i + 1 < line.length && (line[i + 1] === quote || line[i + 1] === "\\")) {
        cur += line[++i];
      } else if (c === quote) {
        quote = undefined;
      } else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandError(`unterminated ${quote} quote in command: ${line}`);
  if (inWord) out.push(cur);
  return out;
}
