import type { Options, OptionSpec, OptionValue } from "../options.ts";
import { CommandError, type CommandRegistry } from "../commands.ts";
import type { OptionType } from "../../protocol.ts";

type TypeName = "bool" | "int" | "optional int" | "str" | "optional str" | "str[]" | "filter" | "choice";

const TYPE_OF: Record<string, OptionType> = {
  bool: "bool", boolean: "bool", int: "int", number: "int", "optional int": "optional int", str: "str", string: "str",
  "optional str": "optional str", "str[]": "str[]", filter: "filter", choice: "choice",
};

type Typespec = TypeName | BooleanConstructor | NumberConstructor | StringConstructor | ArrayConstructor;

/** add_option's arguments as one object, as a port of mitmproxy's keyword call writes them. */
export interface OptionKeywords extends Pick<OptionSpec<OptionValue>, "validate" | "paths"> {
  name: string;
  typespec: Typespec;
  default: unknown;
  help?: string;
  choices?: readonly string[];
}

/**
 * A function's parameter names as its source spells them (`function (flows, header)`,
 * `(flows) => …`, `flows => …`, a method): "arg" for one that is no plain name (destructured),
 * without defaults and rest dots. JavaScript keeps no types; the names are what a signature says.
 */
export function parameterNames(fn: (...args: never[]) => unknown): string[] {
  const source = Function.prototype.toString.call(fn);
  const list = /^(?:async\s*)?(?:function\b[^(]*)?\(([^)]*)\)/.exec(source)?.[1] ?? /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source)?.[1] ?? /^[^(]*\(([^)]*)\)\s*\{/.exec(source)?.[1];
  if (list === undefined) return [];
  return list
    .split(",")
    .map((p) => p.trim().replace(/\s*=.*$/s, "").replace(/\s*:.*$/s, ""))
    .filter((p) => p.length > 0)
    // A rest parameter (...args) takes any number of words: mitmproxy's *args.
    .map((p) => (p.startsWith("...") ? `*${paramName(p.slice(3))}` : paramName(p)));
}

function paramName(p: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(p) ? p : "arg";
}

/** Given to an addon's `load(loader)`: registers its options and commands. */
export class Loader {
  /** Names registered through this loader, so a reload can remove the commands again. */
  readonly commandNames: string[] = [];

  constructor(
    private readonly options_: Options,
    private readonly commands: CommandRegistry,
    readonly addonName: string,
  ) {}

  /**
   * Current option values by name (`loader.options.block_host`), read-only. Addons keep the
   * loader from `load` and read their options in `configure`, where mitmproxy reads `ctx.options`.
   */
  get options(): Readonly<Record<string, OptionValue>> {
    return this.options_.view(false);
  }

  /**
   * mitmproxy's signature: add_option(name, typespec, default, help, choices?).
   * typespec is a type name: "bool", "int", "optional int" (mitmproxy's `Optional[int]`), "str",
   * "optional str", "str[]", "filter" or "choice".
   * `extra` is pryx's: `validate` checks a parsed value and throws with the reason (the error
   * names the option); `paths` marks file paths, whose `~` is the home directory.
   */
  add_option(
    nameOrSpec: string | OptionKeywords,
    typespec?: Typespec,
    default_?: unknown,
    help = "",
    choices?: readonly string[],
    extra: Pick<OptionSpec<OptionValue>, "validate" | "paths"> = {},
  ): void {
    // mitmproxy's examples call it with keywords (add_option(name="x", typespec=bool, ...)): ported, that is one object.
    if (typeof nameOrSpec === "object" && nameOrSpec !== null) {
      const k = nameOrSpec;
      return this.add_option(k.name, k.typespec, k.default, k.help ?? "", k.choices, { ...(k.validate ? { validate: k.validate } : {}), ...(k.paths ? { paths: k.paths } : {}) });
    }
    const name = nameOrSpec;
    if (typeof name !== "string" || !name) throw new TypeError(`addon ${this.addonName}: add_option needs the option's name as a string, got ${typeof name}`);
    const key = typeof typespec === "string" ? typespec : typespec === Boolean ? "bool" : typespec === Number ? "int" : typespec === String ? "str" : typespec === Array ? "str[]" : undefined;
    const type = key === undefined ? undefined : TYPE_OF[key];
    if (!type) throw new TypeError(`addon ${this.addonName}: option ${name} has unknown type ${typeof typespec === "function" ? typespec.name : String(typespec)} (give Boolean, Number, String, Array, or one of ${Object.keys(TYPE_OF).join(", ")})`);
    const spec: OptionSpec<OptionValue> = { name, type, default: default_ as OptionValue, help };
    if (choices) spec.choices = choices;
    if (extra.validate) spec.validate = extra.validate;
    if (extra.paths) spec.paths = true;
    this.options_.add(spec);
  }

  /**
   * Registers a command callable as `:name args` in the console, from key bindings and with
   * `ctx.master.commands.call`. Arguments are strings, but for a parameter the signature names
   * `flows` (or `flow`, exactly one), which gets the flows themselves, as mitmproxy's typed
   * `Sequence[flow.Flow]` parameters do: `mycmd @marked`, or flow objects from another addon.
   */
  add_command(name: string, fn: (...args: never[]) => unknown, help = "", signature = ""): void {
    // Without a signature, the function's own parameter names make one: mitmproxy reads its command's
    // types from the function too, and a `flows` parameter must get flows there as well.
    const sig = signature || [name, ...parameterNames(fn)].join(" ");
    const params = sig.split(/\s+/).slice(1).map((p) => p.replace(/^\[|\]$/g, ""));
    const run = async (args: string[]): Promise<unknown> => {
      // A missing argument would reach the addon as undefined ("hi undefined"); mitmproxy refuses it.
      if (args.length < fn.length) throw new CommandError(`${name} needs ${fn.length} argument${fn.length === 1 ? "" : "s"} (${sig}), got ${args.length}`);
      const values = args.map((a, i) => {
        const param = params[i];
        return param === "flows" || param === "flow" ? this.commands.flowsArgument(a, param, name) : a;
      });
      try {
        return await (fn as (...args: unknown[]) => unknown)(...values);
      } catch (err) {
        // A CommandError is a message for the user as it stands (a built-in's "cannot replay TCP flows"), as mitmproxy shows one.
        if (err instanceof CommandError) throw err;
        // Anything else is the addon's failure: the prompt shows only this line, so it says whose command failed.
        throw new CommandError(`${name} (from ${this.addonName}) failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    this.commands.add({ name, signature: sig, help: help || `(from ${this.addonName})`, run });
    this.commandNames.push(name);
  }
}
