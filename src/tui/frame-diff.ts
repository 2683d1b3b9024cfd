/**
 * The terminal's output as Ink writes to it, sending only the rows of a frame that changed.
 *
 * Ink's standard renderer erases its whole last frame and writes the new one (its incremental
 * renderer anchors frames a row too low; see index.tsx): about 6 KB a key press at 120x40, where
 * moving the focus changes two rows. Over SSH on a slow link that is what makes a console lag
 * (mitmproxy's urwid sends ~1 KB). Here each frame Ink writes is compared with the one before,
 * row by row, and only the rows that differ are written, each placed by absolute position: the
 * frames are on the alternate screen, from its top row.
 *
 * Only the writes shaped as Ink's frames are (its erase of the last frame or of the screen, then
 * its rows, no cursor shown) are diffed. Anything else passes through as written and makes
 * the next frame a whole one, as does `invalidate()` (someone else drew on the screen) and a resize.
 */
import { EventEmitter } from "node:events";

/** What Ink and the console use of their stdout. */
export interface TerminalOutput {
  readonly isTTY?: boolean;
  readonly columns: number;
  readonly rows: number;
  write(data: string, callback?: (err?: Error | null) => void): boolean;
  on(event: "resize", listener: () => void): unknown;
  off(event: "resize", listener: () => void): unknown;
}

/** ansi-escapes' eraseLines(n): erase a row and go up, n - 1 times, erase the top one, column 1. */
const ERASE_PREFIX = /^(?:\x1b\[2K\x1b\[1A)*\x1b\[2K\x1b\[G/;
const SHOW_CURSOR = "\x1b[?25h";
/** ansi-escapes' clearTerminal, which starts Ink's frames once they are as tall as the terminal. */
const CLEAR_SCREEN = "\x1b[2J\x1b[3J\x1b[H";
const ERASE_ROW = "\x1b[2K";
const ERASE_BELOW = "\x1b[J";
/**
 * Autowrap (DECAWM) off while a frame is drawn, on after it. Ink's first frame after the terminal
 * narrows is laid out for the old width: wrapped, its rows spilled onto the next ones and its bottom
 * row scrolled the screen up, so that the rows the diff then kept were not where it thought.
 * Clipped, each row stays on its own.
 */
const NO_WRAP = "\x1b[?7l";
const WRAP = "\x1b[?7h";
const at = (row: number): string => `\x1b[${row};1H`;

export class FrameDiffOutput extends EventEmitter {
  /** The rows on screen, top first; undefined when unknown (the next frame is written whole). */
  private shown: string[] | undefined;
  /** Bytes Ink asked to write and bytes written, for tests and the bench. */
  readonly bytes = { asked: 0, written: 0 };

  constructor(
    private readonly real: TerminalOutput,
    /** Rewrites each row before it is compared and written (a terminal without UTF-8 gets ASCII). */
    private readonly rowText: (row: string) => string = (row) => row,
  ) {
    super();
    real.on("resize", this.onResize);
  }

  get isTTY(): boolean {
    return this.real.isTTY === true;
  }

  get columns(): number {
    return this.real.columns;
  }

  get rows(): number {
    return this.real.rows;
  }

  /** Something other than Ink drew on the screen: the next frame is written whole. */
  invalidate(): void {
    this.shown = undefined;
  }

  dispose(): void {
    this.real.off("resize", this.onResize);
  }

  write(data: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((err?: Error | null) => void), callback?: (err?: Error | null) => void): boolean {
    const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
    const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
    this.bytes.asked += text.length;
    const out = this.frame(text) ?? this.passThrough(text);
    this.bytes.written += out.length;
    return this.real.write(out, done);
  }

  private passThrough(text: string): string {
    // Synchronized-update brackets and empty writes change nothing on screen.
    if (text !== "" && text !== "\x1b[?2026h" && text !== "\x1b[?2026l") this.shown = undefined;
    return text;
  }

  /** The bytes for a frame of Ink's, or undefined when `text` is not one. */
  private frame(text: string): string | undefined {
    const start = ERASE_PREFIX.exec(text) ?? (text.startsWith(CLEAR_SCREEN) ? [CLEAR_SCREEN] : null);
    // A write with no erase is Ink's very first frame only while nothing is known of the screen.
    if (!start && this.shown !== undefined) return undefined;
    const body = start ? text.slice(start[0].length) : text;
    if (body.includes(SHOW_CURSOR)) return undefined;
    // A frame as tall as the terminal has no newline after its last row (Ink's fullscreen frames).
    const belowFrame = body.endsWith("\n");
    const rows = (belowFrame ? body.slice(0, -1) : body).split("\n").map(this.rowText);
    if (!belowFrame && rows.length !== this.real.rows) return undefined;
    const before = this.shown;
    this.shown = rows;
    let out = "";
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as string;
      // The whole row erased first: erasing after a row that fills the width would take its last cell.
      if (!before || before[i] !== row) out += at(i + 1) + ERASE_ROW + row;
    }
    // Where Ink leaves the cursor: below its frame, or on its last row when it fills the screen.
    if (!belowFrame) return NO_WRAP + out + at(rows.length) + WRAP;
    out += at(rows.length + 1);
    // Rows of a taller frame before go.
    if (!before || before.length > rows.length) out += ERASE_BELOW;
    return NO_WRAP + out + WRAP;
  }

  private readonly onResize = (): void => {
    this.shown = undefined;
    this.emit("resize");
  };
}
