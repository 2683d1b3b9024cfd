import fs from "node:fs";

/** How many lines are kept, in memory and in the file. */
export const HISTORY_LIMIT = 500;

/**
 * The command prompt's history (`:` lines, filters set with `f`, …), newest last. With a file
 * (`<confdir>/command_history`, as mitmproxy keeps it) it outlives the session: read at start,
 * each new line appended as it is run. A file that cannot be read or written costs the
 * history its persistence, never the console; `takeProblem` says why, once.
 */
export class CommandHistory {
  private lines: string[] = [];
  /** Lines in the file, which appends let grow to twice the limit before it is rewritten. */
  private fileLines = 0;
  private persist: boolean;
  private problem: string | undefined;

  constructor(private readonly file?: string) {
    this.persist = file !== undefined;
    if (!file) return;
    try {
      const all = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
      this.fileLines = all.length;
      this.lines = all.slice(-HISTORY_LIMIT);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.fail("read", err);
    }
  }

  get entries(): readonly string[] {
    return this.lines;
  }

  add(line: string): void {
    if (line.includes("\n") || this.lines[this.lines.length - 1] === line) return;
    this.lines.push(line);
    if (this.lines.length > HISTORY_LIMIT) this.lines.shift();
    if (!this.persist || !this.file) return;
    try {
      if (this.fileLines >= 2 * HISTORY_LIMIT) {
        fs.writeFileSync(this.file, `${this.lines.join("\n")}\n`, { mode: 0o600 });
        this.fileLines = this.lines.length;
      } else {
        fs.appendFileSync(this.file, `${line}\n`, { mode: 0o600 });
        this.fileLines++;
      }
    } catch (err) {
      this.fail("write", err);
    }
  }

  /**
   * The next line from `from` in direction `dir` that starts with `prefix`: its index, -1 past
   * the oldest, or `entries.length` past the newest (the prompt's up/down and commands.history.*).
   */
  find(from: number, dir: -1 | 1, prefix: string): number {
    let i = Math.max(-1, Math.min(from, this.lines.length)) + dir;
    while (i >= 0 && i < this.lines.length && !(this.lines[i] as string).startsWith(prefix)) i += dir;
    return Math.max(-1, Math.min(i, this.lines.length));
  }

  /** Forgets every line, in the file too (mitmproxy's commands.history.clear). */
  clear(): void {
    this.lines = [];
    if (!this.persist || !this.file) return;
    try {
      fs.writeFileSync(this.file, "", { mode: 0o600 });
      this.fileLines = 0;
    } catch (err) {
      this.fail("write", err);
    }
  }

  takeProblem(): string | undefined {
    const p = this.problem;
    this.problem = undefined;
    return p;
  }

  private fail(what: "read" | "write", err: unknown): void {
    this.persist = false;
    this.problem = `cannot ${what} the command history ${this.file}: ${(err as Error).message}; history is kept for this session only`;
  }
}
