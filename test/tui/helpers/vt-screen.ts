/**
 * Just enough of a terminal (for the console's tests and its bench) to read back what the console draws: absolute and relative cursor
 * moves, row and screen erases, newlines and text. Colours and modes are dropped.
 *
 * With `wraps`, text past the last column goes on at the next row, and past the bottom row scrolls
 * the screen up, as a real terminal's autowrap does (DECAWM, which `\x1b[?7l` turns off and
 * `\x1b[?7h` on); without it, such text stays in the last column.
 */
export class VtScreen {
  readonly lines: string[][];
  private row = 0;
  private col = 0;
  /** The last column was written: the next character wraps (a terminal's pending wrap). */
  private atMargin = false;
  private autowrap = true;

  constructor(
    readonly rows: number,
    public cols: number,
    private readonly wraps = false,
  ) {
    this.lines = Array.from({ length: rows }, () => []);
  }

  /** Narrower, as tmux does it: each row cut at the new width, nothing reflowed. */
  shrink(cols: number): void {
    this.cols = cols;
    for (const l of this.lines) if (l.length > cols) l.length = cols;
    this.col = Math.min(this.col, cols - 1);
    this.atMargin = false;
  }

  private put(ch: string): void {
    if (this.atMargin && this.wraps && this.autowrap) {
      this.col = 0;
      if (this.row === this.rows - 1) {
        this.lines.shift();
        this.lines.push([]);
      } else this.row++;
    }
    this.atMargin = false;
    const line = this.lines[this.row]!;
    while (line.length < this.col) line.push(" ");
    line[this.col] = ch;
    if (this.col === this.cols - 1) this.atMargin = true;
    else this.col++;
  }

  feed(s: string): void {
    const re = /\x1b\[([?0-9;<>=]*)([ -/]*[@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEMc]|\n|\r|[^\x1b\n\r]/gu;
    for (const m of s.matchAll(re)) {
      const t = m[0];
      if (m[2] !== undefined) this.csi(m[1] ?? "", m[2]);
      else if (t.startsWith("\x1b")) continue;
      else if (t === "\n") this.row = Math.min(this.rows - 1, this.row + 1), (this.col = 0), (this.atMargin = false);
      else if (t === "\r") (this.col = 0), (this.atMargin = false);
      else this.put(t);
    }
  }

  private csi(params: string, final: string): void {
    if (params === "?7" && (final === "h" || final === "l")) this.autowrap = final === "h";
    if (params.startsWith("?") || final === "m") return;
    this.atMargin = false;
    const n = params.split(";").map((p) => (p === "" ? undefined : Number(p)));
    switch (final) {
      case "H":
        this.row = Math.min(this.rows - 1, (n[0] ?? 1) - 1);
        this.col = (n[1] ?? 1) - 1;
        return;
      case "A":
        this.row = Math.max(0, this.row - (n[0] ?? 1));
        return;
      case "G":
        this.col = (n[0] ?? 1) - 1;
        return;
      case "K":
        if (n[0] === 2) this.lines[this.row] = [];
        else this.lines[this.row]!.length = Math.min(this.lines[this.row]!.length, this.col);
        return;
      case "J":
        if (n[0] === 2) {
          for (let r = 0; r < this.rows; r++) this.lines[r] = [];
          return;
        }
        if (n[0] === 3) return;
        this.lines[this.row]!.length = Math.min(this.lines[this.row]!.length, this.col);
        for (let r = this.row + 1; r < this.rows; r++) this.lines[r] = [];
        return;
    }
  }

  /** The screen's text, one string a row, trailing spaces dropped. */
  text(): string[] {
    return this.lines.map((l) => l.join("").trimEnd());
  }
}
