// First, before anything loads ink (CI runs this with CI=true).
import "../../src/tui/interactive-env.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { FrameDiffOutput } from "../../src/tui/frame-diff.ts";
import { runConsole } from "../../src/tui/index.tsx";
import { FakeEngine, makeFlows } from "./helpers/fake-engine.ts";
import { until } from "./helpers/tui.tsx";
import { tempDir } from "../helpers/temp-dir.ts";
import { tty } from "./helpers/fake-tty.ts";
import { VtScreen } from "./helpers/vt-screen.ts";

/** What Ink's standard renderer writes for a frame: its last frame erased (ansi-escapes' eraseLines), then the rows. */
function inkFrame(previousLineCount: number, rows: string[]): string {
  let erase = "";
  for (let i = 0; i < previousLineCount; i++) erase += "\x1b[2K" + (i < previousLineCount - 1 ? "\x1b[1A" : "");
  if (previousLineCount > 0) erase += "\x1b[G";
  return erase + rows.join("\n") + "\n";
}

class Terminal extends EventEmitter {
  isTTY = true;
  columns = 40;
  rows = 10;
  readonly screen = new VtScreen(10, 40);
  writes: string[] = [];
  write(s: string, cb?: () => void): boolean {
    this.writes.push(s);
    this.screen.feed(s);
    cb?.();
    return true;
  }
}

const rowsOf = (...r: string[]) => r.map((x) => `\x1b[1m${x}\x1b[22m`);
const plain = (t: Terminal, n: number) => t.screen.text().slice(0, n);

test("frames as Ink writes them reach the screen whole; the next frame writes only the rows that changed", () => {
  const t = new Terminal();
  t.screen.feed("old text\nmore old\n");
  const out = new FrameDiffOutput(t);
  out.write(inkFrame(0, rowsOf("alpha", "beta", "gamma", "delta")));
  assert.deepEqual(t.screen.text().slice(0, 5), ["alpha", "beta", "gamma", "delta", ""], "drawn from the top, what was there erased");

  out.write(inkFrame(5, rowsOf("alpha", "BETA", "gamma", "delta")));
  assert.deepEqual(plain(t, 4), ["alpha", "BETA", "gamma", "delta"]);
  const last = t.writes.at(-1)!;
  assert.ok(last.includes("BETA") && !last.includes("alpha") && !last.includes("gamma"), JSON.stringify(last));
  assert.ok(out.bytes.written < out.bytes.asked, "fewer bytes than Ink wrote");
});

test("a shorter frame erases the rows the longer one had below it; a taller one adds them", () => {
  const t = new Terminal();
  const out = new FrameDiffOutput(t);
  out.write(inkFrame(0, rowsOf("a", "b", "c", "d")));
  out.write(inkFrame(5, rowsOf("a", "b")));
  assert.deepEqual(plain(t, 5), ["a", "b", "", "", ""]);
  out.write(inkFrame(3, rowsOf("a", "b", "c2", "d2", "e2")));
  assert.deepEqual(plain(t, 6), ["a", "b", "c2", "d2", "e2", ""]);
});

test("a write that is not one of Ink's frames passes as it is, and the frame after it is written whole", () => {
  const t = new Terminal();
  const out = new FrameDiffOutput(t);
  out.write(inkFrame(0, rowsOf("one", "two")));
  out.write("\x1b[?2026h");
  out.write(inkFrame(3, rowsOf("one", "TWO")));
  out.write("\x1b[?2026l");
  assert.ok(!t.writes.at(-2)!.includes("one"), "synchronized-update brackets keep the diff");
  out.write("\x1b[2J");
  assert.equal(t.writes.at(-1), "\x1b[2J");
  out.write(inkFrame(3, rowsOf("one", "TWO")));
  assert.ok(t.writes.at(-1)!.includes("one") && t.writes.at(-1)!.includes("TWO"), "whole again");
  assert.deepEqual(plain(t, 2), ["one", "TWO"]);

  out.invalidate();
  out.write(inkFrame(3, rowsOf("one", "TWO")));
  assert.ok(t.writes.at(-1)!.includes("one"), "invalidate() makes the next frame whole");
});

test("a resize makes the next frame whole and reaches Ink's listeners; size and TTY are the terminal's", () => {
  const t = new Terminal();
  const out = new FrameDiffOutput(t);
  let resized = 0;
  out.on("resize", () => resized++);
  out.write(inkFrame(0, rowsOf("x", "y")));
  t.columns = 30;
  t.emit("resize");
  assert.equal(resized, 1);
  assert.equal(out.columns, 30);
  assert.equal(out.rows, 10);
  assert.equal(out.isTTY, true);
  out.write(inkFrame(3, rowsOf("x", "y")));
  assert.ok(t.writes.at(-1)!.includes("x"), "whole after the resize");
  out.dispose();
  t.emit("resize");
  assert.equal(resized, 1, "let go of the terminal");
});

test("in the console, j writes the two rows whose focus changed, not the screen, and the screen reads right", async () => {
  const engine = new FakeEngine();
  const t = tty();
  const screen = new VtScreen(t.stdout.rows, t.stdout.columns);
  const write = t.stdout.write;
  const frames: string[] = [];
  t.stdout.write = (s: string) => {
    frames.push(s);
    screen.feed(s);
    return write(s);
  };
  const done = runConsole(engine, engine.ready(), { confdir: tempDir("pryx-diff-"), ...t.streams });
  engine.add(makeFlows(10, (i) => ({ seq: 1 + i, path: `/diff/${i}` })));
  assert.ok(await until(() => screen.text().some((l) => l.includes("/diff/9"))), screen.text().join("\n"));
  await new Promise((r) => setTimeout(r, 30));
  const whole = Math.max(...frames.map((f) => f.length));
  const before = frames.length;
  t.stdin.write("g");
  assert.ok(await until(() => screen.text().find((l) => l.startsWith(">>"))?.includes("/diff/0") === true), screen.text().join("\n"));
  const mark = frames.length;
  t.stdin.write("j");
  assert.ok(await until(() => screen.text().find((l) => l.startsWith(">>"))?.includes("/diff/1") === true), screen.text().join("\n"));
  const jBytes = frames.slice(mark).reduce((n, f) => n + f.length, 0);
  assert.ok(jBytes * 3 < whole, `j wrote ${jBytes} bytes; a whole frame is ${whole}`);
  assert.equal(screen.text().filter((l) => l.startsWith(">>")).length, 1, "one focused row on screen");
  assert.ok(frames.length > before);
  t.stdin.write("Q");
  await done;
});

test("frames as tall as the terminal (Ink clears the screen before each) are diffed too, and keep their bottom row", () => {
  const t = new Terminal();
  const out = new FrameDiffOutput(t);
  const full = (mark: string) => rowsOf(...Array.from({ length: 10 }, (_, i) => (i === 3 ? mark : `r${i}`)));
  // The first as Ink's standard renderer writes it (no newline after a screen-tall frame), then its clear-screen ones.
  out.write(inkFrame(0, full("three")).slice(0, -1));
  out.write("\x1b[2J\x1b[3J\x1b[H" + full("THREE").join("\n"));
  const last = t.writes.at(-1)!;
  assert.ok(last.includes("THREE") && !last.includes("r9") && !last.includes("\x1b[2J"), JSON.stringify(last));
  assert.equal(t.screen.text()[9], "r9", "the bottom row stays");
  assert.equal(t.screen.text()[3], "THREE");
});

test("after the terminal narrows, a frame still as wide as before (Ink's first, laid out before the resize) does not scroll the screen", () => {
  const t = new Terminal();
  const screen = new VtScreen(10, 40, true);
  t.write = (s: string, cb?: () => void) => (t.writes.push(s), screen.feed(s), cb?.(), true);
  const out = new FrameDiffOutput(t);
  const frame = (width: number, tag: string) => Array.from({ length: 10 }, (_, i) => (i === 1 ? "tabs" : `${tag}${i}`.padEnd(width, "-")));
  out.write(inkFrame(0, frame(40, "a")).slice(0, -1));
  // As tmux narrows a window: rows cut, nothing reflowed; then Ink draws its old tree, then the new one.
  t.columns = 30;
  screen.shrink(30);
  t.emit("resize");
  out.write(inkFrame(10, frame(40, "a")).slice(0, -1));
  out.write(inkFrame(10, frame(30, "b")).slice(0, -1));
  assert.deepEqual(screen.text(), frame(30, "b"));
});

test("a row rewrite (ASCII for a terminal without UTF-8) applies to every row before it is compared and written", () => {
  const t = new Terminal();
  const out = new FrameDiffOutput(t, (row) => row.replaceAll("…", "~"));
  out.write(inkFrame(0, ["GET example.com/a-very-lo…", "⇩ [1/1]"]));
  assert.deepEqual(plain(t, 2), ["GET example.com/a-very-lo~", "⇩ [1/1]"]);
  assert.ok(!t.writes.join("").includes("…"));
});
