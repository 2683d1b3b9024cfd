import { inspect } from "node:util";
import type { Options, OptionValue } from "../options.ts";
import type { Log } from "../log.ts";
import type { LogLevel } from "../../protocol.ts";
import type { CommandRegistry } from "../commands.ts";

/**
 * mitmproxy's `ctx` for addons ported line by line: `ctx.options.name` reads an option,
 * `ctx.log.info(...)` writes to the event log. Bound to the engine of this worker.
 */
let boundOptions: Options | undefined;
let boundLog: Log | undefined;
let boundCommands: CommandRegistry | undefined;
let boundAddons: { get(name: string): object | undefined } | undefined;
/** ctx.master.shutdown() was called: the process has its SIGINT. */
let shutdownAsked = false;

export function bindContext(options: Options, log: Log, commands?: CommandRegistry, addons?: { get(name: string): object | undefined }): void {
  boundOptions = options;
  boundLog = log;
  boundCommands = commands;
  boundAddons = addons;
}

/**
 * mitmproxy's `ctx.master.addons`: `"view" in ctx.master.addons` and `ctx.master.addons.get("name")`
 * (its duplicate-modify-replay example asks so), by the names pryx's addons have.
 */
const addons = new Proxy({} as Record<string, object | undefined> & { get(name: string): object | undefined }, {
  has: (_, name) => typeof name === "string" && boundAddons?.get(name) !== undefined,
  get: (_, name) => (name === "get" ? (n: string) => boundAddons?.get(n) : typeof name === "string" ? boundAddons?.get(name) : undefined),
});

const unbound: Record<string, OptionValue> = {};

function logText(msg: unknown): string {
  return typeof msg === "string" ? msg : inspect(msg);
}

/**
 * What `ctx.master.commands.call` gives back for the commands whose value an addon uses; any
 * other command's value is `unknown`.
 */
export interface CommandValues {
  /** The ids of the new flows the replay queues, in order (an addition: mitmproxy's returns None). */
  "replay.client": string[];
  /** The ids of the new flows the file's replay queues, in order (an addition: mitmproxy's returns None). */
  "replay.client.file": string[];
  /** The ids of the copies, in order (an addition: mitmproxy's returns None). */
  "view.flows.duplicate": string[];
}

/** The value `commands.call(name)` gives back. */
export type CommandValue<N extends string> = N extends keyof CommandValues ? CommandValues[N] : unknown;

/**
 * In mitmproxy `commands.call` returns the result, and a failing command raises inside the hook
 * that called it. Here it is a promise; a script ported as it is does not await it, and its
 * failure would surface as pryx's own unhandled rejection. Unless the caller takes the result
 * (`await`, `.then`, `.catch`), a failure is an error in the event log naming the command.
 */
function reportedUnlessAwaited(result: Promise<unknown>, name: string): Promise<unknown> {
  let taken = false;
  result.catch((err: unknown) => {
    // `await` takes the result a few microtasks after the call: a command that failed at once
    // has failed before then, so whether anyone took it is asked once those have run.
    setImmediate(() => {
      if (!taken) boundLog?.error(`ctx.master.commands.call(${JSON.stringify(name)}) failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  const take = (): Promise<unknown> => {
    taken = true;
    return result;
  };
  return {
    then: (onFulfilled, onRejected) => take().then(onFulfilled, onRejected),
    catch: (onRejected) => take().catch(onRejected),
    finally: (onFinally) => take().finally(onFinally),
    [Symbol.toStringTag]: "Promise",
  } as Promise<unknown>;
}

export const ctx = {
  /** Read (and set) options; empty until the engine binds its options. */
  get options(): Record<string, OptionValue> {
    return boundOptions ? boundOptions.view(true) : unbound;
  },
  /**
   * `ctx.log.info(msg)`…, and `ctx.log(msg, level)` as mitmproxy's Log is called too. Anything
   * may be logged, as in mitmproxy (its filter-flows example logs a flow): shown as console.log
   * shows it, since the event log and dump take text.
   */
  log: Object.assign((msg: unknown, level: LogLevel = "info") => void boundLog?.write(level, logText(msg)), {
    debug: (msg: unknown) => boundLog?.debug(logText(msg)),
    info: (msg: unknown) => boundLog?.info(logText(msg)),
    warn: (msg: unknown) => boundLog?.warn(logText(msg)),
    error: (msg: unknown) => boundLog?.error(logText(msg)),
    alert: (msg: unknown) => boundLog?.write("alert", logText(msg)),
  }),
  /** mitmproxy's `ctx.master.commands.call(name, *args)`, for scripts ported as they are. */
  master: {
    addons,
    /**
     * mitmproxy's `ctx.master.shutdown()`: pryx stops as on Ctrl-C, its addons' `done` hooks run.
     * Once: a hook that calls it for every flow under load must not be a second Ctrl-C, which
     * quits at once, without `done`.
     */
    shutdown: (): void => {
      if (shutdownAsked) return;
      shutdownAsked = true;
      process.kill(process.pid, "SIGINT");
    },
    commands: {
      call: <N extends string>(name: N, ...args: unknown[]): Promise<CommandValue<N>> => {
        const result = boundCommands ? boundCommands.call(name, ...args) : Promise.reject(new Error(`no engine to run ${name}: ctx is bound when the engine starts`));
        return reportedUnlessAwaited(result, name) as Promise<CommandValue<N>>;
      },
    },
  },
};
