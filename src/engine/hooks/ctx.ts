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

const optionsView = new Proxy({} as Record<string, OptionValue>, {
  get: (_t, name) => (typeof name === "string" && boundOptions?.has(name) ? boundOptions.get(name) : undefined),
  has: (_t, name) => typeof name === "string" && (boundOptions?.has(name) ?? false),
  set: (_t, name, value) => {
    if (typeof name !== "string" || !boundOptions) return false;
    boundOptions.setValues({ [name]: value as OptionValue });
    return true;
  },
  ownKeys: () => boundOptions?.names() ?? [],
  getOwnPropertyDescriptor: (_t, name) =>
    typeof name === "string" && boundOptions?.has(name) ? { value: boundOptions.get(name), enumerable: true, configurable: true, writable: true } : undefined,
});

export const ctx = {
  options: optionsView,
  log: {
    debug: (msg: string) => boundLog?.debug(msg),
    info: (msg: string) => boundLog?.info(msg),
    warn: (msg: string) => boundLog?.warn(msg),
    error: (msg: string) => boundLog?.error(msg),
  },
};
