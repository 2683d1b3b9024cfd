/**
 * Every child the bench starts goes through here, so that an error, Ctrl-C or a plain exit
 * leaves no proxy, origin or generator behind holding a port or a core.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Last few KiB of stderr, for an error message when the child dies. */
  stderrTail(): string;
  exited: Promise<number | null>;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();
/** Processes the bench did not spawn itself but must not leave behind: the console that `script` runs. */
const adopted = new Set<number>();

function track(name: string, proc: ChildProcess): Child {
  let tail = "";
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (s: string) => {
    tail = (tail + s).slice(-4096);
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const child: Child = { name, proc, stderrTail: () => tail, exited };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

export function spawnChild(name: string, cmd: string, args: string[], opts: { cwd: string }): Child {
  return track(name, spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "ignore", "pipe"] }));
}

/** A child whose stdin and stdout the bench talks through (the console under `script`). */
export function spawnPiped(name: string, cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  return track(name, spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] }));
}

/** A grandchild to stop with the others, e.g. the node process that `script` started in its pty. */
export function adoptPid(pid: number): void {
  adopted.add(pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`, for a process known only by its pid. */
export async function stopPid(pid: number, graceMs = 3000): Promise<void> {
  const deadline = performance.now() + graceMs;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    adopted.delete(pid);
    return;
  }
  while (alive(pid)) {
    if (performance.now() > deadline) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  adopted.delete(pid);
}

/** A TypeScript child speaking IPC, run through tsx like the orchestrator itself. */
export function forkTs(name: string, file: string, opts: { cwd: string }): Child {
  return track(name, fork(file, [], { cwd: opts.cwd, execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] }));
}

/** SIGTERM first so proxies can shut down cleanly, SIGKILL if they take too long. */
export async function stopChild(child: Child, graceMs = 3000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...[...adopted].map((p) => stopPid(p)), ...[...children].map((c) => stopChild(c))]);
  removeTempDirs();
}

/** For the 'exit' event, where nothing asynchronous runs any more. */
export function killAllNow(): void {
  for (const p of adopted) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  adopted.clear();
  for (const c of children) c.proc.kill("SIGKILL");
  removeTempDirs();
}

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pryx-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

function removeTempDirs(): void {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Binds port 0 and lets it go: the proxies under test take a port number, not a socket. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until the port accepts a connection; fails at once if the child dies first. */
export async function waitForPort(child: Child, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void child.exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`${child.name} exited before listening on ${port}:\n${child.stderrTail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms:\n${child.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a complete PEM certificate: a proxy may create the file a moment before filling it. */
export async function waitForPem(file: string, child: Child, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (text.includes("-----END CERTIFICATE-----")) return text;
    if (Date.now() > deadline) throw new Error(`${child.name} did not write ${file}:\n${child.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Memory {
  rssKiB: number;
  /** Peak RSS over the process's life: covers the engine's worker thread too, same process. */
  hwmKiB: number;
}

export function readMemory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}
