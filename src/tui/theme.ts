/**
 * Colour and glyph choices for one console session. NO_COLOR (https://no-color.org) turns every
 * colour off; emphasis that is not colour (bold, inverse, the `>>` marker) stays, so focus and
 * state are still visible.
 */
import { createContext, useContext } from "react";
import { ASCII_GLYPHS, UNICODE_GLYPHS, localeIsUtf8, type Glyphs } from "./format.ts";
import { paletteColors, type Palette } from "./palettes.ts";

export interface Theme {
  readonly noColor: boolean;
  readonly glyphs: Glyphs;
  /** How the colour names the components use are drawn (`console_palette`). */
  readonly palette: Palette;
}

export function themeFromEnv(env: NodeJS.ProcessEnv): Theme {
  const noColor = env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "";
  return { noColor, glyphs: localeIsUtf8(env) ? UNICODE_GLYPHS : ASCII_GLYPHS, palette: paletteColors("dark") };
}

/** The theme drawn with the named palette (dark for a name that is not one). */
export function withPalette(theme: Theme, name: string | undefined): Theme {
  const palette = paletteColors(name);
  return palette === theme.palette ? theme : { ...theme, palette };
}

/** The colour to pass to Ink's `color` prop: the palette's for a colour name, none at all under NO_COLOR. */
export function paint(theme: Theme, color: string | undefined): string | undefined {
  if (theme.noColor || color === undefined) return undefined;
  return (theme.palette as Readonly<Record<string, string>>)[color] ?? color;
}

export const ThemeContext = createContext<Theme>({ noColor: false, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") });

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
