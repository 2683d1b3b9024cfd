import type { Options, OptionValue } from "../options.ts";
import type { Log } from "../log.ts";

/**
 * mitmproxy's `ctx` for addons ported line by line: `ctx.options.name` reads an option,
 * `ctx.log.info(...)` writes to the event log. Bound to the engine of this worker.
 */
let boundOptions: Options | undefined;
let boundLog: Log | undefined;

export function bindContext(options: Options, log: Log): void {
  boundOptions = options;
  boundLog = log;
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
};
