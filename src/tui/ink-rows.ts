import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/**
 * Ink builds every frame from scratch: a grid of width x height cell objects, every write
 * tokenized into it, then every row turned back into a string (styledCharsToString, the
 * console's costliest function). Between two frames most rows are the same writes at the
 * same places (a focus move changes two rows of forty), so this replaces Output#get with
 * the same algorithm done per row and remembered: a row whose writes match a row already
 * built reuses that string. Clipping, transformers and wide characters follow Ink's code
 * exactly; anything unexpected about Ink's layout leaves Ink as it is.
 */
const MAX_ROWS = 4096;

interface StyledChar {
  type: string;
  value: string;
  fullWidth: boolean;
  styles: unknown[];
}
type Transformer = (line: string, index: number) => string;
type Clip = { x1?: number; x2?: number; y1?: number; y2?: number };
type Operation = { type: "write"; x: number; y: number; text: string; transformers: Transformer[] } | { type: "clip"; clip: Clip } | { type: "unclip" };
interface OutputCaches {
  getStyledChars(line: string): StyledChar[];
  getStringWidth(text: string): number;
  getWidestLine(text: string): number;
}
interface OutputLike {
  width: number;
  height: number;
  operations: Operation[];
  caches: OutputCaches;
}
type SliceAnsi = (s: string, from: number, to: number) => string;
type StyledCharsToString = (chars: StyledChar[]) => string;

/**
 * Imports one of Ink's own dependencies as Ink resolves it. Through require.resolve where the
 * package allows it; an import-only package is found through its exported package.json.
 */
async function importFrom(inkEntry: string, pkg: string, file: string): Promise<Record<string, unknown>> {
  const req = createRequire(inkEntry);
  let target: string;
  try {
    target = req.resolve(pkg);
  } catch {
    target = path.join(path.dirname(req.resolve(`${pkg}/package.json`)), file);
  }
  if (!fs.existsSync(target)) throw new Error(`${pkg}: ${target} not found`);
  return (await import(pathToFileURL(target).href)) as Record<string, unknown>;
}

export async function cacheInkRows(): Promise<boolean> {
  try {
    const entry = createRequire(import.meta.url).resolve("ink");
    const mod = (await import(new URL("./output.js", pathToFileURL(entry)).href)) as { default?: { prototype: Record<string, unknown> } };
    const proto = mod.default?.prototype;
    const tokenizer = await importFrom(entry, "@alcalzone/ansi-tokenize", "build/index.js");
    const sliceMod = await importFrom(entry, "slice-ansi", "index.js");
    const styledCharsToString = tokenizer["styledCharsToString"] as StyledCharsToString | undefined;
    const sliceAnsi = sliceMod["default"] as SliceAnsi | undefined;
    if (!proto || typeof proto["get"] !== "function" || typeof styledCharsToString !== "function" || typeof sliceAnsi !== "function") return false;
    proto["get"] = rowCachedGet(styledCharsToString, sliceAnsi);
    return true;
  } catch {
    return false;
  }
}

function rowCachedGet(styledCharsToString: StyledCharsToString, sliceAnsi: SliceAnsi): (this: OutputLike) => { output: string; height: number } {
  const built = new Map<string, string>();
  const blank: StyledChar = Object.freeze({ type: "char", value: " ", fullWidth: false, styles: Object.freeze([]) as unknown as unknown[] });

  return function get(this: OutputLike) {
    const { width, height, caches } = this;
    // Per row: x, line, x, line, ... in the order Ink would paint them.
    const writes: (number | string)[][] = Array.from({ length: height }, () => []);
    const clips: Clip[] = [];
    for (const operation of this.operations) {
      if (operation.type === "clip") clips.push(operation.clip);
      if (operation.type === "unclip") clips.pop();
      if (operation.type !== "write") continue;
      const { text, transformers } = operation;
      let { x, y } = operation;
      let lines = text.split("\n");
      const clip = clips.at(-1);
      if (clip) {
        const clipHorizontally = typeof clip.x1 === "number" && typeof clip.x2 === "number";
        const clipVertically = typeof clip.y1 === "number" && typeof clip.y2 === "number";
        if (clipHorizontally && (x + caches.getWidestLine(text) < clip.x1! || x > clip.x2!)) continue;
        if (clipVertically && (y + lines.length < clip.y1! || y > clip.y2!)) continue;
        if (clipHorizontally) {
          lines = lines.map((line) => {
            const from = x < clip.x1! ? clip.x1! - x : 0;
            const w = caches.getStringWidth(line);
            const to = x + w > clip.x2! ? clip.x2! - x : w;
            return sliceAnsi(line, from, to);
          });
          if (x < clip.x1!) x = clip.x1!;
        }
        if (clipVertically) {
          const from = y < clip.y1! ? clip.y1! - y : 0;
          const to = y + lines.length > clip.y2! ? clip.y2! - y : lines.length;
          lines = lines.slice(from, to);
          if (y < clip.y1!) y = clip.y1!;
        }
      }
      let offsetY = 0;
      for (let [index, line] of lines.entries()) {
        const row = writes[y + offsetY];
        // As Ink: a line outside the frame is skipped without moving on a row.
        if (!row) continue;
        for (const transformer of transformers) line = transformer(line, index);
        row.push(x, line);
        offsetY++;
      }
    }

    const out: string[] = new Array<string>(height);
    for (let y = 0; y < height; y++) {
      const row = writes[y]!;
      const key = `${width}\u0000${row.join("\u0000")}`;
      let s = built.get(key);
      if (s === undefined) {
        s = buildRow(row, width, caches, blank, styledCharsToString);
        if (built.size >= MAX_ROWS) built.clear();
        built.set(key, s);
      }
      out[y] = s;
    }
    return { output: out.join("\n"), height };
  };
}

/** One row exactly as Ink's Output#get paints it: blank cells, each write's styled characters, then back to a string. */
function buildRow(row: (number | string)[], width: number, caches: OutputCaches, blank: StyledChar, styledCharsToString: StyledCharsToString): string {
  const cells: (StyledChar | undefined)[] = new Array<StyledChar>(width).fill(blank);
  for (let i = 0; i < row.length; i += 2) {
    let offsetX = row[i] as number;
    for (const character of caches.getStyledChars(row[i + 1] as string)) {
      cells[offsetX] = character;
      const characterWidth = Math.max(1, caches.getStringWidth(character.value));
      for (let k = 1; k < characterWidth; k++) cells[offsetX + k] = { type: "char", value: "", fullWidth: false, styles: character.styles };
      offsetX += characterWidth;
    }
  }
  return styledCharsToString(cells.filter((c): c is StyledChar => c !== undefined)).trimEnd();
}
