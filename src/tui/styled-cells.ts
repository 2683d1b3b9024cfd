import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { Cell } from "./format.ts";
import { paint, type Theme } from "./theme.ts";

/**
 * A row of styled cells as one string, styled as Ink's <Text> styles its children. A row drawn
 * as a <Text> per cell is ten React elements and Ink nodes, each squashed, measured and
 * transformed at every repaint; a screenful of new rows (G, g, a page down, follow mode
 * under a flood) spent most of its time there. One string in one <Text> paints the same
 * bytes: the styles come from Ink's own chalk and colorize, so colour levels and NO_COLOR
 * are decided exactly as Ink decides them.
 */
type Style = (text: string) => string;
interface Styler {
  dim: Style;
  bold: Style;
  color(text: string, color: string): string;
}

let styler: Styler | undefined;

/** Loads Ink's chalk and colorize; false (cells stay separate <Text>s) when Ink's layout is not what this expects. */
export async function loadCellStyler(): Promise<boolean> {
  if (styler) return true;
  try {
    const entry = createRequire(import.meta.url).resolve("ink");
    const colorizeMod = (await import(new URL("./colorize.js", pathToFileURL(entry)).href)) as { default?: unknown };
    const chalkMod = (await import(pathToFileURL(createRequire(entry).resolve("chalk")).href)) as { default?: Record<string, unknown> };
    const colorize = colorizeMod.default;
    const chalk = chalkMod.default;
    if (typeof colorize !== "function" || !chalk || typeof chalk["dim"] !== "function" || typeof chalk["bold"] !== "function") return false;
    const fg = colorize as (text: string, color: string, type: "foreground") => string;
    styler = { dim: chalk["dim"] as Style, bold: chalk["bold"] as Style, color: (text, color) => fg(text, color, "foreground") };
    return true;
  } catch {
    return false;
  }
}

/** The cells as one string styled as <Text color bold dimColor> would style each (in Text's order); undefined until loaded. */
export function styledCells(cells: readonly Cell[], theme: Theme): string | undefined {
  const s = styler;
  if (!s) return undefined;
  let out = "";
  for (const c of cells) {
    let text = c.text;
    // Ink transforms only text that is there.
    if (text.length === 0) continue;
    if (c.dim) text = s.dim(text);
    const color = paint(theme, c.color);
    if (color) text = s.color(text, color);
    if (c.bold) text = s.bold(text);
    out += text;
  }
  return out;
}
