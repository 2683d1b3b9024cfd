/**
 * Handing the terminal to a child program (an editor) and taking it back.
 *
 * The console draws on the alternate screen with stdin in raw mode. A full-screen editor needs the
 * normal screen, cooked mode and sole use of stdin. The child runs synchronously: while it runs,
 * the main thread's event loop does not turn, so Node does not read stdin and no key press is
 * stolen from the editor (a paused stream still has a read pending on the terminal, measured under
 * tmux). The engine runs in its worker and keeps proxying; its events wait in the message queue.
 */

/** With bracketed paste (2004): a paste reaches the console as text, not as keys to run. */
export const ENTER_ALT = "\x1b[?1049h\x1b[?25l\x1b[?2004h";
/** Also turns mouse reporting off, which is harmless where it was never on. */
export const LEAVE_ALT = "\x1b[?1000l\x1b[?1006l\x1b[?2004l\x1b[?25h\x1b[?1049l";
/** Button presses, releases and the wheel (1000), reported as SGR sequences (1006), which have no 223-column limit. */
export const MOUSE_ON = "\x1b[?1000h\x1b[?1006h";
export const MOUSE_OFF = "\x1b[?1000l\x1b[?1006l";
/**
 * The terminal's default foreground and background (OSC 10 and 11, as xterm, VTE, kitty, iTerm2
 * and tmux take them; a terminal without them ignores them): how a palette that is not
 * transparent paints the whole screen, its padding and empty rows included. Colours as `#rrggbb`.
 */
export function terminalColours(fg: string, bg: string): string {
  const spec = (hex: string): string => `rgb:${hex.slice(1, 3)}/${hex.slice(3, 5)}/${hex.slice(5, 7)}`;
  return `\x1b]10;${spec(fg)}\x1b\\\x1b]11;${spec(bg)}\x1b\\`;
}
/** The terminal's own default colours again (OSC 110 and 111). */
export const RESET_COLOURS = "\x1b]110\x1b\\\x1b]111\x1b\\";
/** After coming back: the alternate screen may hold what the child drew; start clean at the top. */
const CLEAN = "\x1b[2J\x1b[H";

export interface TerminalHandover {
  /** Runs `fn` with the terminal given up, then restores it and redraws, even if `fn` throws. */
  run<T>(fn: () => T): T;
  /** True while a child has the terminal. */
  readonly suspended: boolean;
  /**
   * Takes the terminal back after pryx was stopped and continued by someone else (`kill -TSTP`,
   * then `fg`): the shell set it to its own cooked mode and normal screen meanwhile.
   */
  resume(): void;
}

/** The part of a TTY input stream the handover touches. */
export interface HandoverInput {
  readonly isTTY?: boolean;
  readonly isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface HandoverOutput {
  write(s: string): unknown;
}

export function terminalHandover(stdin: HandoverInput, stdout: HandoverOutput, repaint: () => void): TerminalHandover {
  let suspended = false;
  return {
    get suspended() {
      return suspended;
    },
    run<T>(fn: () => T): T {
      const wasRaw = stdin.isTTY === true && stdin.isRaw === true;
      stdout.write(LEAVE_ALT);
      if (wasRaw) stdin.setRawMode?.(false);
      suspended = true;
      try {
        return fn();
      } finally {
        suspended = false;
        if (wasRaw) stdin.setRawMode?.(true);
        stdout.write(ENTER_ALT + CLEAN);
        repaint();
      }
    },
    resume() {
      // A child that has the terminal takes it back itself; pryx's own modes come when it returns.
      if (suspended) return;
      if (stdin.isTTY === true && stdin.isRaw === true) {
        // Node thinks raw mode is on and would skip setting it again; the terminal's says otherwise.
        stdin.setRawMode?.(false);
        stdin.setRawMode?.(true);
      }
      stdout.write(ENTER_ALT + CLEAN);
      repaint();
    },
  };
}

/** For a console without a real terminal (tests): the child runs, nothing is switched. */
export const NO_TERMINAL: TerminalHandover = {
  suspended: false,
  run<T>(fn: () => T): T {
    return fn();
  },
  resume() {},
};
