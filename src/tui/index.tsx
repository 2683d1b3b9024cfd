/**
 * Entry point of the interactive console: loads the keymap, takes over the terminal (alternate
 * screen, hidden cursor), renders the App with Ink, and gives the terminal back on every way out.
 */
import { loadMarkerNames } from "../markers.ts";
import fs from "node:fs";
import path from "node:path";
// Before ink: see interactive-env.ts.
import "./interactive-env.ts";
import { render } from "ink";
import { shareInkCaches } from "./ink-caches.ts";
import { cacheInkRows } from "./ink-rows.ts";
import { loadCellStyler } from "./styled-cells.ts";
import { CommandHistory } from "./command-history.ts";
import type { EngineHandle } from "../engine-client.ts";
import type { EngineEvent, ReadyInfo } from "../protocol.ts";
import { App } from "./app.tsx";
import { Controller } from "./controller.ts";
import { loadKeymap, userKeymapFiles, type Keymap } from "./keymap.ts";
import { ENTER_ALT, LEAVE_ALT, terminalHandover } from "./edit/terminal.ts";
import { EscapeJoiningInput } from "./escape-join.ts";
import { FrameDiffOutput } from "./frame-diff.ts";
import { ASCII_GLYPHS, localeIsUtf8 } from "./format.ts";
import { themeFromEnv } from "./theme.ts";
import { leaveLostTerminalAtExit } from "../terminal-gone.ts";

export { KeymapError } from "./keymap.ts";

/**
 * Ink 6.8's incremental renderer anchors each frame one row too low when the previous frame ended
 * with a newline (every frame shorter than the terminal does), so the screen drifts and keeps stale
 * rows; measured in tmux. The standard renderer erases and rewrites the frame inside a synchronized
 * update, which is correct, so it is used until Ink's incremental mode handles this case; what it
 * writes goes through FrameDiffOutput, which sends the terminal only the rows that changed.
 */
const INCREMENTAL_RENDERING = false;

export interface ConsoleRunOptions {
  confdir: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Overrides the repo's default keybindings file (tests). */
  defaultKeybindings?: string;
  /**
   * Events the caller buffered between starting the engine and calling runConsole (the engine
   * client drops events nobody listens to): the start-up log and flows read with -r.
   */
  initialEvents?: readonly EngineEvent[];
}

/** What restore-cursor writes to stderr as the process exits. */
const SHOW_CURSOR = "\x1b[?25h";
type Stream = NodeJS.WritableStream & { isTTY?: boolean };
/** The stderr streams redirected, each to the terminal of the console started last. */
const cursorTerminals = new WeakMap<NodeJS.WritableStream, Stream>();

/**
 * Ink hides the cursor with cli-cursor, which registers restore-cursor's exit hook: it writes
 * ESC[?25h to process.stderr as the process exits, whatever stderr is, so `pryx 2>log` ended its
 * log with it. When stderr is not a terminal, that write goes to the console's terminal instead
 * (nowhere when that is not a terminal either); anything else written to stderr goes through.
 */
export function cursorRestoreToTerminal(terminal: Stream, stderr: Stream = process.stderr): void {
  if (stderr.isTTY) return;
  const redirected = cursorTerminals.has(stderr);
  cursorTerminals.set(stderr, terminal);
  if (redirected) return;
  const write = stderr.write.bind(stderr) as (...args: unknown[]) => boolean;
  stderr.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    if (chunk !== SHOW_CURSOR) return write(chunk, ...rest);
    const to = cursorTerminals.get(stderr);
    if (to?.isTTY) {
      try {
        to.write(SHOW_CURSOR);
      } catch {
        // The terminal is gone: nothing to show the cursor on.
      }
    }
    const done = rest.find((a) => typeof a === "function") as (() => void) | undefined;
    if (done) process.nextTick(done);
    return true;
  }) as typeof stderr.write;
}

/**
 * The default keymap plus `<confdir>/keybindings.json` and mitmproxy's `keys.yaml`; a bad entry throws a KeymapError naming it.
 * With `engineCommands` (the ready engine's, addons' included), a user entry whose command neither
 * the engine nor the console has is bad too, rather than failing only when its key is pressed.
 */
export function loadConsoleKeymap(confdir: string, defaultsPath?: string, engineCommands?: Iterable<string>): Keymap {
  const local = Controller.localCommandNames();
  const userPaths = userKeymapFiles(confdir);
  const userPath = userPaths[0] as string;
  // First run: an empty override file, so users find where their keys go.
  if (fs.existsSync(confdir) && !fs.existsSync(userPath)) {
    try {
      fs.writeFileSync(userPath, "[]\n", { flag: "wx" });
    } catch {
      // A read-only confdir still runs with the defaults.
    }
  }
  const all = engineCommands ? new Set([...engineCommands, ...local]) : undefined;
  const isKnownConsoleCommand = (n: string): boolean => n.startsWith("console.") && local.has(n);
  const isKnownCommand = all ? (n: string) => all.has(n) : undefined;
  const keymap = loadKeymap({
    isKnownConsoleCommand,
    ...(isKnownCommand ? { isKnownCommand } : {}),
    userPaths,
    ...(defaultsPath ? { defaultsPath } : {}),
  });
  return keymap;
}

/**
 * Runs the console until the user quits (then the caller shuts the engine down).
 * Rejects before touching the terminal when the keymap is bad or stdin is not a terminal,
 * and with the engine's error if the engine fails.
 */
export async function runConsole(engine: EngineHandle, ready: ReadyInfo, opts: ConsoleRunOptions): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const keymap = loadConsoleKeymap(opts.confdir, opts.defaultKeybindings, ready.commands.map((c) => c.name));
  if (!stdin.isTTY) throw new Error("the console needs a terminal; for scripts and pipes use `pryx dump`");
  cursorRestoreToTerminal(stdout);
  // Not awaited: they patch or load modules of Ink, which are loaded already, so they land before
  // the second frame at the latest (the first frame looks the same either way).
  void shareInkCaches();
  void cacheInkRows();
  void loadCellStyler();
  // Emoji markers: the CLI has the names loaded by now (it started with the engine), so flows marked with one are drawn with it from the first frame.
  void loadMarkerNames();

  const theme = themeFromEnv(process.env);
  // The terminal went away (the SSH connection dropped, the tmux server was killed): nothing can
  // be drawn or restored any more, and the proxy still shuts down as on a quit.
  let terminalLost = false;
  let restored = false;
  // The terminal colours the console changed (console_palette_transparent off), given back too.
  let colours: () => string = () => "";
  const restore = () => {
    if (restored) return;
    restored = true;
    if (terminalLost) return;
    try {
      stdout.write(LEAVE_ALT + colours());
    } catch {
      // The terminal may be gone (SSH dropped): nothing left to restore.
    }
  };

  return new Promise<void>((resolve, reject) => {
    let finished = false;
    let instance: ReturnType<typeof render> | undefined;
    const keyInput = new EscapeJoiningInput(stdin, { onPaste: (text) => ctrl.paste(text) });
    // Without UTF-8, the ellipsis that Ink's truncation and pryx's own texts put in rows becomes
    // the ASCII glyph set's: a multi-byte character drew as several wrong cells.
    const screen = new FrameDiffOutput(stdout, localeIsUtf8(process.env) ? undefined : (row) => row.replaceAll("…", ASCII_GLYPHS.ellipsis));
    const onSignal = () => finish();
    // A Ctrl-C that reaches pryx as a signal (pressed in the pager or editor pryx ran, which share
    // its terminal, or a `kill -INT`) is the Ctrl-C key: mitmproxy's console asks before quitting;
    // quitting at once lost the session's flows. Before the console is up, it stops the start.
    let asKey: (() => void) | undefined;
    const onInterrupt = () => (asKey && !terminalLost ? asKey() : finish());
    const onHangup = () => {
      loseTerminal();
      finish();
    };
    // Writes to a terminal that is gone fail (EIO) as 'error' events: unheard, each was a crash
    // that skipped the engine's shutdown (the addons' done hooks never ran).
    const loseTerminal = () => {
      if (terminalLost) return;
      terminalLost = true;
      process.stderr.on("error", () => undefined);
      // A hang-up comes more than once (the kernel's, then the multiplexer's or sshd's): with no
      // listener of pryx's left, signal-exit would re-raise it and kill the engine's shutdown.
      process.on("SIGHUP", () => undefined);
      leaveLostTerminalAtExit();
    };
    stdout.on("error", onHangup);
    stdin.on("error", onHangup);
    // A terminal hung up reads as the end of its input: no key can come any more.
    stdin.on("end", onHangup);
    // Runs before Node prints an uncaught error, so the trace lands on the normal screen, not the lost alternate one.
    const onCrash = () => restore();
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      try {
        instance?.unmount();
      } catch {
        // Unmounting after a render error can throw again; the terminal still has to be restored.
      }
      restore();
      keyInput.dispose();
      screen.dispose();
      // Later, not now: signal-exit (Ink's exit hook) re-raises a signal that finds no other
      // listener, which would kill the process before the caller shuts the engine down cleanly.
      setImmediate(() => {
        process.off("SIGINT", onInterrupt);
        process.off("SIGCONT", onContinue);
        process.off("SIGTERM", onSignal);
        process.off("SIGHUP", onHangup);
        process.off("exit", restore);
        process.off("uncaughtExceptionMonitor", onCrash);
      });
      if (error) reject(error);
      else resolve();
    };

    process.on("SIGINT", onInterrupt);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onHangup);
    process.on("exit", restore);
    process.on("uncaughtExceptionMonitor", onCrash);

    // The handover repaints through the controller, which the App tells how.
    const terminal = terminalHandover(stdin, stdout, () => {
      screen.invalidate();
      ctrl.repaint();
    });
    // Continued after someone else stopped it (`kill -TSTP`, then `fg`): the shell left the terminal cooked.
    const onContinue = () => terminal.resume();
    process.on("SIGCONT", onContinue);
    const ctrl: Controller = new Controller({
      engine,
      ready,
      keymap,
      theme,
      terminal,
      writeEscape: (escape) => stdout.write(escape),
      // The whole process group, as the terminal's own Ctrl-Z would: under `npm start`, npm must
      // stop too for the shell to see the job stopped. The default action stops pryx right here,
      // inside the handover; a group no shell controls (pryx started by tmux itself) is not stopped.
      stopJob: () => process.kill(0, "SIGTSTP"),
      history: new CommandHistory(ready.options.find((o) => o.name === "command_history")?.value === "true" ? path.join(ready.confdir, "command_history") : undefined),
      onExit: (error) => finish(error),
      ...(opts.initialEvents ? { initialEvents: opts.initialEvents } : {}),
      width: stdout.columns || 80,
      height: stdout.rows > 0 ? stdout.rows : 24,
    });

    colours = () => ctrl.terminalRestore();
    asKey = () => void ctrl.key({ name: "ctrl c", text: "" });
    stdout.write(ENTER_ALT);
    try {
      instance = render(<App ctrl={ctrl} theme={theme} />, {
        // Ink's own read of the terminal would take an escape sequence split by a slow link as Esc and letters.
        stdin: keyInput as unknown as NodeJS.ReadStream,
        // Only the rows a frame changes are written (Ink's standard renderer rewrites them all).
        stdout: screen as unknown as NodeJS.WriteStream,
        exitOnCtrlC: false,
        patchConsole: true,
        // Ink throttles repaints to maxFps: at 120 a key pressed just after a flood batch's repaint
        // waited up to 9 ms for the throttle's trailing edge. Repaints already come only from keys
        // and the engine's batches (10 a second under a flood), so the throttle has nothing to save.
        maxFps: 1000,
        incrementalRendering: INCREMENTAL_RENDERING,
      });
    } catch (err) {
      ctrl.dispose();
      finish(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    instance.waitUntilExit().then(
      () => finish(),
      (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
    );
  });
}
