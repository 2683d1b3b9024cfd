import { format } from "node:util";
import type { Log } from "./log.ts";
import type { LogLevel } from "../protocol.ts";

interface Streams {
  stdout: { write: NodeJS.WritableStream["write"] };
  stderr: { write: NodeJS.WritableStream["write"] };
  console: Pick<Console, "log" | "info" | "debug" | "warn" | "error">;
}

/**
 * In the console, what an addon prints (`console.log`, `process.stderr.write`, as the
 * examples in addons/ do) would be written over the screen Ink draws and then painted over,
 * lost. It goes to the event log instead, one entry a line: console.warn/error at their
 * level, everything else as info (log-hooks.ts traces to stderr: that is no warning).
 */
export function sendOutputToLog(log: Log, streams: Streams): void {
  const at = (level: LogLevel) => (...args: unknown[]): void => {
    for (const line of format(...args).split("\n")) log.write(level, line);
  };
  streams.console.log = at("info");
  streams.console.info = at("info");
  streams.console.debug = at("debug");
  streams.console.warn = at("warn");
  streams.console.error = at("error");
  lines(streams.stdout, (l) => log.info(l));
  lines(streams.stderr, (l) => log.info(l));
}

/**
 * `pryx dump --jsonl`: a script reads standard output as JSON lines (jq), and an addon's
 * `console.log` there broke it. What addons print goes to standard error instead.
 */
export function sendOutputToStderr(streams: Streams): void {
  // console.log, info and debug write through stdout's write: this covers them too.
  streams.stdout.write = streams.stderr.write.bind(streams.stderr) as NodeJS.WritableStream["write"];
}

/** Replaces a stream's write with one that hands on each complete line, keeping a partial one. */
function lines(stream: Streams["stdout"], each: (line: string) => void): void {
  let partial = "";
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    partial += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const l of parts) each(l.replace(/\r$/, ""));
    const cb = rest.find((r): r is () => void => typeof r === "function");
    if (cb) queueMicrotask(cb);
    return true;
  }) as NodeJS.WritableStream["write"];
}
