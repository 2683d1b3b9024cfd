import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deadPort, waitUntil } from "./wait.ts";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(REPO, "bin/pryx.mjs");

export interface Pryx {
  proc: ChildProcess;
  /** The port the proxy reported it listens on. */
  port: number;
  stdout(): string;
  stderr(): string;
  stdoutLines(): string[];
  /** Polls stdout (or stderr) until `re` matches, returning the match. */
  waitStdout(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  waitStderr(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Runs `node bin/pryx.mjs <args>` and collects its output. With `slowStdoutMs`, stdout is not read until
 * pryx exits or that long has passed: a reader slower than pryx, as a pager or a busy pipe is. With
 * `openFiles`, pryx runs under that `ulimit -n` (bash execs node, so `proc.pid` is pryx's).
 */
export function runPryx(args: string[], env: NodeJS.ProcessEnv = {}, opts: { slowStdoutMs?: number; openFiles?: number } = {}): Omit<Pryx, "port"> {
  const [file, argv] = opts.openFiles === undefined ? [process.execPath, [BIN, ...args]] : ["bash", ["-c", `ulimit -n ${opts.openFiles} && exec "$0" "$@"`, process.execPath, BIN, ...args]];
  const proc = spawn(file, argv, { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let reading = false;
  const readStdout = (): void => {
    if (reading) return;
    reading = true;
    proc.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  };
  if (opts.slowStdoutMs === undefined) readStdout();
  else {
    const timer = setTimeout(readStdout, opts.slowStdoutMs);
    proc.once("exit", () => {
      clearTimeout(timer);
      readStdout();
    });
  }
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const wait = (get: () => string, re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> =>
    waitUntil(() => re.exec(get()) ?? (proc.exitCode !== null ? fail(re, out, err) : undefined), `${re} in pryx output\n--- stdout:\n${out}\n--- stderr:\n${err}`, timeoutMs);
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    stdoutLines: () => out.split("\n").filter(Boolean),
    waitStdout: (re, t) => wait(() => out, re, t),
    waitStderr: (re, t) => wait(() => err, re, t),
    stop: (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    exited,
  };
}

function fail(re: RegExp, out: string, err: string): never {
  throw new Error(`pryx exited before printing ${re}\n--- stdout:\n${out}\n--- stderr:\n${err}`);
}

/** Starts `pryx dump -p <a free port>` and waits until it says it listens there. */
export async function startDump(args: string[], opts: { confdir: string; env?: NodeJS.ProcessEnv; openFiles?: number }): Promise<Pryx> {
  const port = await deadPort();
  const p = runPryx(["dump", "-p", String(port), "--confdir", opts.confdir, ...args], opts.env, { openFiles: opts.openFiles });
  try {
    await p.waitStderr(new RegExp(`proxy listening at http://127\\.0\\.0\\.1:${port}/`), 20_000);
    return { ...p, port };
  } catch (err) {
    await p.stop("SIGKILL");
    throw err;
  }
}
