/**
 * Colour and glyph choices for one console session. NO_COLOR (https://no-color.org) turns every
 * colour off; emphasis that is not colour (bold, inverse, the `>>` marker) stays, so focus and
 * state are still visible.
 */
import { createContext, useContext } from "react";
import { ASCII_GLYPHS, UNICODE_GLYPHS, localeIsUtf8, type Glyphs } from "./format.ts";

export interface Theme {
  readonly noColor: boolean;
  readonly glyphs: Glyphs;
}

export function themeFromEnv(env: NodeJS.ProcessEnv): Theme {
  const noColor = env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "";
  return { noColor, glyphs: localeIsUtf8(env) ? UNICODE_GLYPHS : ASCII_GLYPHS };
}

/** The colour to pass to Ink's `color` prop: none at all under NO_COLOR. */
export function paint(theme: Theme, color: string | undefined): string | undefined {
  return theme.noColor ? undefined : color;
}

export const ThemeContext = createContext<Theme>({ noColor: false, glyphs: UNICODE_GLYPHS });

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
