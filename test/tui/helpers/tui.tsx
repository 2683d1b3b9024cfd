/**
 * Rendering the console in ink-testing-library, and pressing keys: `press` writes and then waits
 * until the frame changes (or a short deadline passes when the key changes nothing on screen).
 */
import type { CommandHistory } from "../../../src/tui/command-history.ts";
import { render } from "ink-testing-library";
import { App } from "../../../src/tui/app.tsx";
import { Controller } from "../../../src/tui/controller.ts";
import { loadConsoleKeymap } from "../../../src/tui/index.tsx";
import type { Keymap } from "../../../src/tui/keymap.ts";
import { UNICODE_GLYPHS } from "../../../src/tui/format.ts";
import type { Theme } from "../../../src/tui/theme.ts";
import { paletteColors } from "../../../src/tui/palettes.ts";
import type { ReadyInfo } from "../../../src/protocol.ts";
import type { TerminalHandover } from "../../../src/tui/edit/terminal.ts";
import { FakeEngine } from "./fake-engine.ts";
import type { BodyRendering } from "../../../src/tui/render/body-renderer.ts";

export const KEY = {
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  pageUp: "\x1b[5~",
  pageDown: "\x1b[6~",
  home: "\x1b[H",
  end: "\x1b[F",
  enter: "\r",
  esc: "\x1b",
  tab: "\t",
  shiftTab: "\x1b[Z",
  backspace: "\x7f",
  ctrlF: "\x06",
  ctrlB: "\x02",
  ctrlC: "\x03",
  ctrlRight: "\x1b[1;5C",
  ctrlLeft: "\x1b[1;5D",
} as const;

export const TEST_THEME: Theme = { noColor: true, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") };

const tick = () => new Promise<void>((r) => setTimeout(r, 2));

export interface Harness {
  engine: FakeEngine;
  /** ink-testing-library's fake stdout (100 columns, no rows unless a test sets them). */
  stdout: NodeJS.EventEmitter & { columns?: number; rows?: number };
  ctrl: Controller;
  lastFrame: () => string;
  stdin: { write: (s: string) => void };
  exits: (Error | undefined)[];
  unmount: () => void;
  width: number;
  height: number;
}

let sharedKeymap: Keymap | undefined;
export function defaultKeymap(): Keymap {
  // The repo's keybindings.json; a confdir without a keybindings.json adds nothing.
  sharedKeymap ??= loadConsoleKeymap("/nonexistent-pryx-confdir");
  return sharedKeymap;
}

export async function renderConsole(
  opts: {
    width?: number;
    height?: number;
    engine?: FakeEngine;
    ready?: Partial<ReadyInfo>;
    keymap?: Keymap;
    terminalSize?: boolean;
    /** The environment editors are chosen from (EDITOR, PRYX_EDITOR); the test's own by default. */
    env?: NodeJS.ProcessEnv;
    terminal?: TerminalHandover;
    /** Receives the escapes the console writes past Ink (the OSC 52 clipboard). */
    writeEscape?: (escape: string) => void;
    history?: CommandHistory;
    /** Colours off unless a test asks for them. */
    theme?: Theme;
    /** How long a status message stays; the console's own default otherwise. */
    messageMs?: number;
    /** Renders large bodies shown whole; the console's worker thread otherwise. */
    bodyRenderer?: BodyRendering;
  } = {},
): Promise<Harness> {
  const theme = opts.theme ?? TEST_THEME;
  const engine = opts.engine ?? new FakeEngine();
  const exits: (Error | undefined)[] = [];
  const width = opts.width ?? 100;
  const height = opts.height ?? 24;
  const ctrl = new Controller({
    engine,
    ready: engine.ready(opts.ready),
    keymap: opts.keymap ?? defaultKeymap(),
    theme,
    onExit: (e) => exits.push(e),
    width,
    height,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.terminal ? { terminal: opts.terminal } : {}),
    ...(opts.writeEscape ? { writeEscape: opts.writeEscape } : {}),
    ...(opts.history ? { history: opts.history } : {}),
    ...(opts.messageMs ? { messageMs: opts.messageMs } : {}),
    ...(opts.bodyRenderer ? { bodyRenderer: opts.bodyRenderer } : {}),
  });
  // With terminalSize the App reads the size from stdout, as it does in a real terminal.
  const r = opts.terminalSize ? render(<App ctrl={ctrl} theme={theme} />) : render(<App ctrl={ctrl} width={width} height={height} theme={theme} />);
  // useInput subscribes in an effect: let it run before the first key.
  await tick();
  await tick();
  return {
    engine,
    ctrl,
    stdout: r.stdout,
    lastFrame: () => r.lastFrame() ?? "",
    stdin: r.stdin,
    exits,
    unmount: () => {
      r.unmount();
      ctrl.dispose();
    },
    width,
    height,
  };
}

/** Polls until `cond` holds, up to `timeoutMs`; returns whether it did. */
export async function until(cond: () => boolean, timeoutMs = 1000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await tick();
  }
  return true;
}

/** Writes keys and waits for the next frame (or a short deadline when nothing changes on screen). */
export async function press(h: Pick<Harness, "stdin" | "lastFrame">, keys: string, timeoutMs = 300): Promise<string> {
  const before = h.lastFrame();
  h.stdin.write(keys);
  await until(() => h.lastFrame() !== before, timeoutMs);
  // A key may cause several renders (a reply arriving): let the microtasks settle.
  await tick();
  return h.lastFrame();
}

/** Presses each key in turn. */
export async function pressEach(h: Pick<Harness, "stdin" | "lastFrame">, keys: string[]): Promise<string> {
  let f = h.lastFrame();
  for (const k of keys) f = await press(h, k);
  return f;
}

/** Types a command at the `:` prompt and runs it; resolves with the frame after Enter. */
export async function runAtPrompt(h: Pick<Harness, "stdin" | "lastFrame">, line: string): Promise<string> {
  await press(h, ":");
  await press(h, line);
  return press(h, KEY.enter);
}

/** Waits for a frame containing `text`; fails the test with the last frame if it never comes. */
export async function waitForText(h: Pick<Harness, "lastFrame">, text: string | RegExp, timeoutMs = 1500): Promise<string> {
  const ok = await until(() => (typeof text === "string" ? h.lastFrame().includes(text) : text.test(h.lastFrame())), timeoutMs);
  if (!ok) throw new Error(`timed out waiting for ${String(text)} in frame:\n${h.lastFrame()}`);
  return h.lastFrame();
}

/** The frame's line holding the focus marker. */
export function focusedLine(frame: string): string | undefined {
  return frame.split("\n").find((l) => l.startsWith(">>"));
}
