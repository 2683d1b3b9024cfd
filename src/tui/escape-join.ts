/**
 * The terminal's input as Ink reads it, with escape sequences that arrive split kept whole.
 *
 * Over SSH on a slow or lossy link (or mosh), an arrow key's `ESC [ A` can reach pryx in two
 * reads: `ESC`, then `[A` a few milliseconds later. Ink takes an escape it cannot complete at
 * once as the Esc key, so the user got Esc (back out of the view) and then `[` and `A` as keys.
 * Here an unfinished sequence at the end of a read waits up to `ESCAPE_WAIT_MS` for the rest,
 * as urwid (mitmproxy's console) and vim (`ttimeout`) wait; the Esc key alone is that much later.
 *
 * A lone ESC joins only what continues a sequence (`[` or `O`): Esc then `j` typed quickly stays
 * two keys rather than becoming Alt-j.
 */
import { EventEmitter } from "node:events";

export const ESCAPE_WAIT_MS = 100;

const ESC = "\x1b";

/** What Ink uses of its stdin. */
export interface TerminalInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  read(): string | Buffer | null;
  on(event: "readable", listener: () => void): unknown;
  off(event: "readable", listener: () => void): unknown;
  ref(): unknown;
  unref(): unknown;
}

/** Where an unfinished escape sequence starts at the end of `s`, or -1 when `s` ends complete. */
export function unfinishedEscapeAt(s: string): number {
  let at = s.lastIndexOf(ESC);
  if (at === -1) return -1;
  // ESC ESC [ ... is Alt with an arrow key in some terminals: the sequence starts at the first.
  if (at > 0 && s[at - 1] === ESC) at--;
  let i = at + 1;
  if (s[i] === ESC) i++;
  if (i === s.length) return at;
  const kind = s[i];
  if (kind === "O") return i + 1 === s.length ? at : -1;
  if (kind !== "[") return -1;
  i++;
  // Legacy function keys (ESC [ [ A) have a second bracket.
  if (s[i] === "[") i++;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x40 && c <= 0x7e) return -1; // the final byte: complete
    if (c < 0x20 || c > 0x3f) return -1; // not a parameter or intermediate byte: not a sequence Ink completes either
  }
  return at;
}

/** Whether `next` can continue `held` (an unfinished sequence) rather than start new keys. */
function continues(held: string, next: string): boolean {
  const lone = held === ESC || held === ESC + ESC;
  return !lone || next.startsWith("[") || next.startsWith("O");
}

/** Bracketed paste (xterm's mode 2004): the terminal brackets pasted text with these. */
export const PASTE_START = "\x1b[200~";
export const PASTE_END = "\x1b[201~";
/** A paste whose end marker has not come after this long is taken as ended: keys must not stay swallowed. */
export const PASTE_IDLE_MS = 1000;

export interface InputOptions {
  /** How long an unfinished escape sequence waits for its rest. */
  waitMs?: number;
  /** Takes pasted text, which then never reaches Ink as keys; without it a paste is typed as keys. */
  onPaste?: (text: string) => void;
  /** How long a paste without its end marker may go quiet before it is taken as ended. */
  pasteIdleMs?: number;
}

/**
 * Ink's stdin, reading from the real one: reads pass through as they come except an unfinished
 * escape sequence at the end of one, held for the next read or `waitMs`, and pasted text, which
 * goes to `onPaste` whole however many reads it takes.
 */
export class EscapeJoiningInput extends EventEmitter {
  readonly isTTY: boolean;
  private queue = "";
  private held = "";
  /** Input that came after an Esc sent on its own, given to Ink a turn later. */
  private deferred: string | undefined;
  /** The text of a paste still coming (its end marker not read yet). */
  private pasting: string | undefined;
  private pasteTimer: NodeJS.Timeout | undefined;
  private readonly waitMs: number;
  private readonly onPaste: ((text: string) => void) | undefined;
  private readonly pasteIdleMs: number;
  private timer: NodeJS.Timeout | undefined;
  private listening = false;

  constructor(
    private readonly source: TerminalInput,
    options: InputOptions = {},
  ) {
    super();
    this.waitMs = options.waitMs ?? ESCAPE_WAIT_MS;
    this.onPaste = options.onPaste;
    this.pasteIdleMs = options.pasteIdleMs ?? PASTE_IDLE_MS;
    this.isTTY = source.isTTY === true;
    // The real input is read only while Ink listens: an editor pryx hands the terminal to reads it then.
    this.on("newListener", (event: string) => {
      if (event === "readable" && !this.listening) {
        this.listening = true;
        source.on("readable", this.pump);
      }
    });
    this.on("removeListener", (event: string) => {
      if (event === "readable" && this.listening && this.listenerCount("readable") === 0) {
        this.listening = false;
        source.off("readable", this.pump);
      }
    });
  }

  setRawMode(mode: boolean): this {
    this.source.setRawMode?.(mode);
    return this;
  }

  setEncoding(encoding: BufferEncoding): this {
    this.source.setEncoding(encoding);
    return this;
  }

  ref(): this {
    this.source.ref();
    return this;
  }

  unref(): this {
    this.source.unref();
    return this;
  }

  read(): string | null {
    if (this.queue === "") return null;
    const out = this.queue;
    this.queue = "";
    return out;
  }

  private readonly pump = (): void => {
    let chunk: string | Buffer | null;
    let text = "";
    while ((chunk = this.source.read()) !== null) text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    if (text !== "") this.accept(text);
  };

  private accept(text: string): void {
    if (this.deferred !== undefined) {
      this.deferred += text;
      return;
    }
    if (this.pasting !== undefined) {
      const all = this.pasting + text;
      const end = all.indexOf(PASTE_END);
      clearTimeout(this.pasteTimer);
      if (end < 0) {
        this.pasting = all;
        this.pasteTimer = setTimeout(this.endPaste, this.pasteIdleMs).unref();
        return;
      }
      this.pasting = undefined;
      this.onPaste?.(all.slice(0, end));
      text = all.slice(end + PASTE_END.length);
      if (text === "") return;
    }
    if (this.held !== "") {
      clearTimeout(this.timer);
      this.timer = undefined;
      const held = this.held;
      this.held = "";
      if (continues(held, text)) text = held + text;
      else {
        // The Esc key, then what followed in a later turn: Ink joins an ESC with the next read
        // of the same turn (Alt with that key), and these came apart in time.
        this.queue += held;
        this.emit("readable");
        this.deferred = text;
        setImmediate(() => {
          const next = this.deferred as string;
          this.deferred = undefined;
          this.accept(next);
        });
        return;
      }
    }
    const paste = this.onPaste ? text.indexOf(PASTE_START) : -1;
    if (paste >= 0) {
      this.keys(text.slice(0, paste));
      this.pasting = "";
      this.accept(text.slice(paste + PASTE_START.length));
      return;
    }
    this.keys(text);
  }

  /** A terminal that never sent the paste's end marker: what came is the paste, and keys are keys again. */
  private readonly endPaste = (): void => {
    const text = this.pasting;
    this.pasting = undefined;
    if (text) this.onPaste?.(text);
  };

  /** Key input for Ink, less an unfinished escape sequence at its end, which waits. */
  private keys(text: string): void {
    const at = unfinishedEscapeAt(text);
    if (at === -1) this.queue += text;
    else {
      this.queue += text.slice(0, at);
      this.held = text.slice(at);
      this.timer = setTimeout(this.release, this.waitMs).unref();
    }
    if (this.queue !== "") this.emit("readable");
  }

  /** Nothing came to finish it: the held escape goes as it is (the Esc key, most often). */
  private readonly release = (): void => {
    this.timer = undefined;
    this.queue += this.held;
    this.held = "";
    this.emit("readable");
  };

  /** Stops the wait timer (the console is closing). */
  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.pasteTimer);
    this.timer = undefined;
  }
}
