import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { cacheInkRows } from "../../src/tui/ink-rows.ts";

/** SGR sequences as chalk writes them, so the test needs no colour library. */
const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const chalk = { green: sgr(32, 39), bold: sgr(1, 22), inverse: sgr(7, 27), red: sgr(31, 39), bgBlue: sgr(44, 49), yellow: sgr(33, 39) };

type Transformer = (line: string, index: number) => string;
interface OutputLike {
  write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void;
  clip(c: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
  unclip(): void;
  get(): { output: string; height: number };
}
type OutputClass = { new (o: { width: number; height: number }): OutputLike; prototype: { get(this: OutputLike): { output: string; height: number } } };

async function inkOutput(): Promise<OutputClass> {
  const entry = createRequire(import.meta.url).resolve("ink");
  return ((await import(new URL("./output.js", pathToFileURL(entry)).href)) as { default: OutputClass }).default;
}

/** Frames that exercise what Output#get does: overlapping writes, colours, wide characters, clipping, transformers, lines off the frame. */
const FRAMES: ((o: OutputLike) => void)[] = [
  (o) => {
    o.write(0, 0, `${chalk.green("GET")} http://example.com/${chalk.bold("path")}`, { transformers: [] });
    o.write(4, 0, chalk.inverse("over"), { transformers: [] });
    o.write(2, 1, "two\nlines\nand a third past the end", { transformers: [] });
  },
  (o) => {
    o.write(0, 0, "日本語 wide ✓ text", { transformers: [] });
    o.write(3, 1, chalk.red("red ") + chalk.bgBlue("on blue"), { transformers: [(l, i) => `${i}:${l}`] });
  },
  (o) => {
    o.clip({ x1: 2, x2: 8, y1: 1, y2: 2 });
    o.write(0, 0, "clipped away\nkept part of this line\nalso gone", { transformers: [] });
    o.write(6, 1, chalk.yellow("straddles the clip edge"), { transformers: [] });
    o.unclip();
    o.write(-2, 3, "starts left of the frame", { transformers: [] });
    o.write(0, -1, "above\nfirst row?", { transformers: [] });
  },
];

test("row-cached Output#get paints exactly what Ink's own does, frame after frame", async () => {
  const Output = await inkOutput();
  const original = Output.prototype.get;
  const expected = FRAMES.map((paint) => {
    const o = new Output({ width: 20, height: 4 });
    paint(o);
    return original.call(o);
  });
  assert.equal(await cacheInkRows(), true, "Ink's Output layout changed: revisit src/tui/ink-rows.ts");
  try {
    // Twice over: the second pass is served from the row cache.
    for (let pass = 0; pass < 2; pass++) {
      FRAMES.forEach((paint, i) => {
        const o = new Output({ width: 20, height: 4 });
        paint(o);
        assert.deepEqual(o.get(), expected[i], `frame ${i}, pass ${pass}`);
      });
    }
  } finally {
    Output.prototype.get = original;
  }
});
