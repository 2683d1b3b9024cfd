import type { Options, OptionValue } from "../options.ts";
import type { Log } from "../log.ts";
import type { CommandRegistry } from "../commands.ts";

/**
 * mitmproxy's `ctx` for addons ported line by line: `ctx.options.name` reads an option,
 * `ctx.log.info(...)` writes to the event log. Bound to the engine of this worker.
 */
let boundOptions: Options | undefined;
let boundLog: Log | undefined;
let boundCommands: CommandRegistry | undefined;

export function bindContext(options: Options, log: Log, commands?: CommandRegistry): void {
  boundOptions = options;
  boundLog = log;
  boundCommands = commands;
}

const unbound: Record<string, OptionValue> = {};

export const ctx = {
  /** Read (and set) options; empty until the engine binds its options. */
  get options(): Record<string, OptionValue> {
    return boundOptions ? boundOptions.view(true) : unbound;
  },
  log: {
    debug: (msg: string) => boundLog?.debug(msg),
    info: (msg: string) => boundLog?.info(msg),
    warn: (msg: string) => boundLog?.warn(msg),
    error: (msg: string) => boundLog?.error(msg),
  },
  /** mitmproxy's `ctx.master.commands.call(name, *args)`, for scripts ported as they are. */
  master: {
    commands: {
      call: (name: string, ...args: unknown[]): Promise<unknown> => {
        if (!boundCommands) return Promise.reject(new Error(`no engine to run ${name}: ctx is bound when the engine starts`));
        return boundCommands.call(name, ...args);
      },
    },
  },
};
