/**
 * The real console in a real pseudo-terminal, driven from outside like a user at a keyboard.
 *
 * util-linux `script` gives `pryx` a pty; the bench writes key bytes to script's stdin (they reach
 * the console as typed keys) and reads everything the console paints from script's stdout. Ink
 * paints each frame inside a synchronized update (`ESC[?2026h` … `ESC[?2026l`): the closing
 * sequence is the moment a terminal shows the finished frame, so a key's latency is the time from
 * writing its bytes to receiving the end of the first frame that shows its effect. Nothing in
 * src/ is instrumented.
 */
import fs from "node:fs";
import path from "node:path";
import { type Child, adoptPid, spawnPiped, stopChild, stopPid } from "../procs.ts";
import { ID_DIGITS } from "./flowfile.ts";
import { VtScreen } from "../../test/tui/helpers/vt-screen.ts";

const BSU = "\u001b[?2026h";
const ESU = "\u001b[?2026l";
const ROW_ID = new RegExp(`/(\\d{${ID_DIGITS}})(?=[/?.\\s]|$)`);
const COUNTS = /\[(\d+)\/(\d+)(?: of (\d+))?\]/;
const TABS = /\[(Request|Response|Detail)(?: intercepted)?\]/;

/** One finished frame, as a terminal would show it. */
export class Frame {
  readonly lines: string[];
  #focus: number | null | undefined;

  constructor(
    /** performance.now() when the frame's last byte arrived. */
    readonly at: number,
    /** The screen's rows once the frame is drawn. */
    lines: string[],
  ) {
    this.lines = lines;
  }

  /**
   * Index of the focused flow of the bench's file (read from its `/NNNNNN` path segment); -1 for a
   * focused flow from elsewhere (the flood's `/1k`); null when no flow row has the focus.
   */
  get focus(): number | null {
    if (this.#focus === undefined) {
      const row = this.lines.find((l) => l.startsWith(">>"));
      if (row === undefined) this.#focus = null;
      else {
        const m = ROW_ID.exec(row);
        this.#focus = m ? Number(m[1]) : -1;
      }
    }
    return this.#focus;
  }

  /** `[focus/shown]`, or `[focus/shown of total]` under a filter, from the status bar (the second line from the bottom). */
  get counts(): { shown: number; total: number } | undefined {
    for (let i = this.lines.length - 1; i >= Math.max(0, this.lines.length - 4); i--) {
      const m = COUNTS.exec(this.lines[i]!);
      if (m) return { shown: Number(m[2]), total: Number(m[3] ?? m[2]) };
    }
    return undefined;
  }

  /** The flow view's tab bar is on screen. */
  get detail(): boolean {
    return this.lines.some((l) => TABS.test(l));
  }

  /** The flow view shows content, not its placeholder. */
  get detailLoaded(): boolean {
    return this.detail && !this.lines.some((l) => l.includes("Loading…") || l.includes("loading…"));
  }

  /** The command prompt's text, if it is open. */
  get prompt(): string | undefined {
    for (let i = this.lines.length - 1; i >= Math.max(0, this.lines.length - 4); i--) {
      const l = this.lines[i]!;
      if (l.startsWith(": ")) return l.slice(2).trimEnd();
    }
    return undefined;
  }
}

export interface ConsoleLaunch {
  root: string;
  port: number;
  confdir: string;
  flowFile: string;
  rows: number;
  cols: number;
  /** Run node with --cpu-prof into this directory (profiles are written on a clean exit). */
  cpuProfDir?: string;
}

/** Why the console cannot be driven here, or undefined when it can (util-linux `script` is needed). */
export function consoleUnavailable(): string | undefined {
  const dirs = (process.env["PATH"] ?? "").split(path.delimiter).filter(Boolean);
  if (!dirs.some((d) => fs.existsSync(path.join(d, "script")))) return "`script` (util-linux) not found: it gives the console a pty";
  return undefined;
}

type Waiter = { since: number; pred: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The child of `pid`, found in /proc (script forks a shell that execs node). */
function childOf(pid: number): { pid: number; comm: string } | undefined {
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === pid) return { pid: Number(e), comm: stat.slice(stat.indexOf("(") + 1, close) };
    } catch {
      // Gone between readdir and read.
    }
  }
  return undefined;
}

export class ConsolePty {
  /** The newest finished frame. */
  last: Frame | undefined;
  frames = 0;
  #pending = "";
  #lastData = 0;
  /** The terminal's screen: the console writes only the rows a frame changes. */
  readonly #screen: VtScreen;
  readonly #waiters = new Set<Waiter>();
  #nodePid: number | undefined;

  private constructor(
    readonly script: Child,
    size: { rows: number; cols: number },
  ) {
    this.#screen = new VtScreen(size.rows, size.cols);
    const out = script.proc.stdout;
    if (!out) throw new Error("script has no stdout pipe");
    out.setEncoding("utf8");
    out.on("data", (chunk: string) => this.#onData(chunk));
    void script.exited.then((code) => {
      for (const w of this.#waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`the console exited (${code}) while the bench waited for a frame:\n${script.stderrTail()}${this.#tail()}`));
      }
      this.#waiters.clear();
    });
  }

  static async start(o: ConsoleLaunch): Promise<ConsolePty> {
    // Node itself, for --cpu-prof, with the OpenSSL settings bin/pryx.mjs starts it with as a program.
    const openssl = `--openssl-config=${path.join(o.root, "config/openssl.cnf")}`;
    const node = [process.execPath, openssl, ...(o.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", o.cpuProfDir] : []), path.join(o.root, "bin/pryx.mjs")];
    const args = [...node, "-p", String(o.port), "--listen-host", "127.0.0.1", "--confdir", o.confdir, "-r", o.flowFile, "-k"];
    // The size is set on the pty before node starts, so Ink reads it at once; exec keeps node the shell's pid.
    const cmd = `stty rows ${o.rows} cols ${o.cols} && exec ${args.map(shellQuote).join(" ")}`;
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", COLUMNS: String(o.cols), LINES: String(o.rows) };
    // The malloc tunable bin/pryx.mjs sets as a program (huge pages for the memory the console's flows grow).
    if (!env.GLIBC_TUNABLES?.includes("malloc.hugetlb")) env.GLIBC_TUNABLES = [env.GLIBC_TUNABLES, "glibc.malloc.hugetlb=1"].filter(Boolean).join(":");
    // Ink paints nothing but the last frame when it thinks it runs under CI.
    for (const k of ["CI", "CONTINUOUS_INTEGRATION", "NO_COLOR", "FORCE_COLOR", "TMUX"]) delete env[k];
    const script = spawnPiped("console", "script", ["-qfec", cmd, "/dev/null"], { cwd: o.root, env });
    const pty = new ConsolePty(script, o);
    await pty.#findNode(15_000);
    return pty;
  }

  /** The console's node process (not script's): its memory and CPU are the console's. */
  get pid(): number {
    if (this.#nodePid === undefined) throw new Error("the console's node process was not found");
    return this.#nodePid;
  }

  async #findNode(timeoutMs: number): Promise<void> {
    const scriptPid = this.script.proc.pid;
    if (scriptPid === undefined) throw new Error(`could not start script:\n${this.script.stderrTail()}`);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.script.proc.exitCode !== null) throw new Error(`script exited (${this.script.proc.exitCode}):\n${this.script.stderrTail()}${this.#tail()}`);
      const c = childOf(scriptPid);
      if (c && c.comm !== "sh" && c.comm !== "bash" && c.comm !== "dash" && c.comm !== "stty") {
        this.#nodePid = c.pid;
        adoptPid(c.pid);
        return;
      }
      if (performance.now() > deadline) throw new Error(`script started no console within ${timeoutMs} ms:\n${this.script.stderrTail()}`);
      await sleep(20);
    }
  }

  #tail(): string {
    const f = this.last;
    return f ? `\nlast frame:\n${f.lines.join("\n")}` : "";
  }

  #onData(chunk: string): void {
    const now = performance.now();
    this.#lastData = now;
    this.#pending += chunk;
    for (;;) {
      const end = this.#pending.indexOf(ESU);
      if (end < 0) break;
      this.#screen.feed(this.#pending.slice(0, end));
      this.#pending = this.#pending.slice(end + ESU.length);
      this.#frame(new Frame(now, this.#screen.text()));
    }
    // Output outside a synchronized update (there is none in normal painting) must not pile up.
    if (this.#pending.length > 1 << 20 && !this.#pending.includes(BSU)) {
      this.#screen.feed(this.#pending);
      this.#pending = "";
    }
  }

  #frame(f: Frame): void {
    this.frames++;
    this.last = f;
    for (const w of this.#waiters) {
      if (f.at < w.since || !w.pred(f)) continue;
      this.#waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(f);
    }
  }

  /** The first frame finished at or after `since` that satisfies `pred` (the newest one, if it already does). */
  waitFrame(pred: (f: Frame) => boolean, timeoutMs: number, what: string, since = 0): Promise<Frame> {
    const f = this.last;
    if (f && f.at >= since && pred(f)) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        since,
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(w);
          reject(new KeyTimeout(`no frame showed ${what} within ${timeoutMs} ms${this.#tail()}`));
        }, timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  /** Writes key bytes to the terminal; returns when they were handed to the pipe. */
  write(bytes: string): number {
    const at = performance.now();
    this.script.proc.stdin?.write(bytes);
    return at;
  }

  /**
   * Presses a key and times it: from the write to the end of the first frame that shows `pred`.
   * Frames finished before the write never count.
   */
  async press(bytes: string, pred: (f: Frame) => boolean, what: string, timeoutMs = 5000): Promise<number> {
    const at = this.write(bytes);
    const f = await this.waitFrame(pred, timeoutMs, what, at);
    return f.at - at;
  }

  /** Resolves once the console has written nothing for `ms` (or after `maxMs` regardless). */
  async quiet(ms: number, maxMs = 2000): Promise<boolean> {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const idle = performance.now() - this.#lastData;
      if (idle >= ms) return true;
      if (performance.now() > deadline) return false;
      await sleep(Math.max(1, ms - idle));
    }
  }

  /** `Q` quits at once (a clean exit writes CPU profiles); signals if it does not. */
  async stop(): Promise<void> {
    if (this.script.proc.exitCode === null && this.script.proc.signalCode === null) {
      this.write("Q");
      const done = await within(this.script.exited, 10_000, () => "").then(
        () => true,
        () => false,
      );
      if (!done && this.#nodePid !== undefined) await stopPid(this.#nodePid);
    }
    if (this.#nodePid !== undefined) await stopPid(this.#nodePid);
    await stopChild(this.script);
  }
}

export class KeyTimeout extends Error {}

/**
 * The floor under every figure: a byte written to script's stdin, echoed by a raw-mode node process
 * in the pty, read back from script's stdout. Nothing of the console is in it.
 */
export async function ptyRoundTrip(root: string, samples: number): Promise<number[]> {
  // Raw mode first, so the terminal does not echo by itself; READY says it is on.
  const echo = "process.stdin.setRawMode(true);process.stdin.on('data',(d)=>process.stdout.write(d));process.stdout.write('READY')";
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color" };
  const script = spawnPiped("pty-echo", "script", ["-qfec", `stty rows 40 cols 120 && exec ${shellQuote(process.execPath)} -e ${shellQuote(echo)}`, "/dev/null"], { cwd: root, env });
  const out = script.proc.stdout;
  if (!out) throw new Error("script has no stdout pipe");
  out.setEncoding("utf8");
  let waiting: (() => void) | undefined;
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  out.on("data", (d: string) => {
    if (d.includes("READY")) onReady();
    if (waiting && d.includes("x")) {
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  try {
    await within(ready, 15_000, () => `the pty echo did not start:\n${script.stderrTail()}`);
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(5);
      const at = performance.now();
      const back = new Promise<void>((r) => (waiting = r));
      script.proc.stdin?.write("x");
      await within(back, 5000, () => "the pty echo stopped answering");
      ms.push(performance.now() - at);
    }
    return ms;
  } finally {
    waiting = undefined;
    await stopChild(script);
  }
}

function within<T>(p: Promise<T>, ms: number, why: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why())), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
