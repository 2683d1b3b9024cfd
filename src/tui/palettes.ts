/**
 * mitmproxy's `console_palette` choices, as colours for the seven colour names the console's
 * components use. The components say what a thing is by a colour name (a 2xx status is green,
 * a warning yellow); a palette says how that name is drawn on the user's background.
 *
 * dark and lowdark are the terminal's own ANSI colours, so a terminal theme made for a dark
 * background keeps working as it is. lowlight stays with ANSI colours but moves yellow and
 * cyan, which are pale on white, to darker ones. light and the Solarized pair are 24-bit
 * colours, which chalk brings down to 256 or 16 where the terminal has no more.
 */
import { CONSOLE_PALETTES } from "../console-choices.ts";

export type PaletteName = (typeof CONSOLE_PALETTES)[number];

export type ColorName = "red" | "green" | "yellow" | "blue" | "magenta" | "cyan" | "gray";
export type Palette = Readonly<Record<ColorName, string>>;

const TERMINAL: Palette = { red: "red", green: "green", yellow: "yellow", blue: "blue", magenta: "magenta", cyan: "cyan", gray: "gray" };

/** Solarized's accent colours (https://ethanschoonover.com/solarized/), shared by both backgrounds. */
const SOLARIZED = { red: "#dc322f", green: "#859900", yellow: "#b58900", blue: "#268bd2", magenta: "#d33682", cyan: "#2aa198" } as const;

const COLORS: Readonly<Record<PaletteName, Palette>> = {
  dark: TERMINAL,
  lowdark: TERMINAL,
  lowlight: { ...TERMINAL, yellow: "magenta", cyan: "blue", gray: "blackBright" },
  light: { red: "#b3261e", green: "#2e7d32", yellow: "#9a5b00", blue: "#1f4fbf", magenta: "#8e24aa", cyan: "#00727d", gray: "#6b6b6b" },
  // Solarized's base01 and base1: the secondary text of each background.
  solarized_dark: { ...SOLARIZED, gray: "#586e75" },
  solarized_light: { ...SOLARIZED, gray: "#93a1a1" },
};

export function isPaletteName(name: string | undefined): name is PaletteName {
  return (CONSOLE_PALETTES as readonly (string | undefined)[]).includes(name);
}

/** The named palette's colours; the default (dark) for a name that is not a palette. */
export function paletteColors(name: string | undefined): Palette {
  return COLORS[isPaletteName(name) ? name : "dark"];
}

/**
 * Each palette's own text and background colours, painted when `console_palette_transparent` is
 * off (mitmproxy's option; on, the default, the terminal's own background shows).
 */
const GROUNDS: Readonly<Record<PaletteName, { fg: string; bg: string }>> = {
  dark: { fg: "#d0d0d0", bg: "#000000" },
  lowdark: { fg: "#d0d0d0", bg: "#000000" },
  lowlight: { fg: "#000000", bg: "#ffffff" },
  light: { fg: "#1c1c1c", bg: "#ffffff" },
  // Solarized's base0 on base03, and base00 on base3.
  solarized_dark: { fg: "#839496", bg: "#002b36" },
  solarized_light: { fg: "#657b83", bg: "#fdf6e3" },
};

export function paletteGround(name: string | undefined): { fg: string; bg: string } {
  return GROUNDS[isPaletteName(name) ? name : "dark"];
}
