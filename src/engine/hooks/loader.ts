import type { Options, OptionSpec, OptionValue } from "../options.ts";
import { CommandError, type CommandRegistry } from "../commands.ts";
import type { OptionType } from "../../protocol.ts";

type TypeName = "bool" | "int" | "str" | "optional str" | "str[]" | "filter" | "choice";

const TYPE_OF: Record<string, OptionType> = {
  bool: "bool", boolean: "bool", int: "int", number: "int", str: "str", string: "str",
  "optional str": "optional str", "str[]": "str[]", filter: "filter", choice: "choice",
};

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
   * typespec is a type name: "bool", "int", "str", "optional str", "str[]", "filter" or "choice".
   * `extra` is pryx's: `validate` checks a parsed value and throws with the reason (the error
   * names the option); `paths` marks file paths, whose `~` is the home directory.
   */
  add_option(
    name: string,
    typespec: TypeName | BooleanConstructor | NumberConstructor | StringConstructor,
    default_: unknown,
    help: string,
    choices?: readonly string[],
    extra: Pick<OptionSpec<OptionValue>, "validate" | "paths"> = {},
  ): void {
    const key = typeof typespec === "string" ? typespec : typespec === Boolean ? "bool" : typespec === Number ? "int" : "str";
    const type = TYPE_OF[key];
    if (!type) throw new Error(`addon ${this.addonName}: option ${name} has unknown type ${String(typespec)}`);
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
    const sig = signature || `${name} ${"args".repeat(fn.length ? 1 : 0)}`.trim();
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
        // The prompt shows only this line: it says whose command failed.
        throw new CommandError(`${name} (from ${this.addonName}) failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    this.commands.add({ name, signature: sig, help: help || `(from ${this.addonName})`, run });
    this.commandNames.push(name);
  }
}
