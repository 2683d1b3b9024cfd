/**
 * The choices of the console's own options, which the engine registers too so that
 * `pryx --set console_layout=vertical` (and a mitmproxy script that sets them) is accepted:
 * one list for both threads.
 */
export const CONSOLE_LAYOUTS = ["single", "vertical", "horizontal"] as const;

/** "auto" first, then the rest sorted, as mitmproxy's `available_views()` lists them. */
export const CONTENT_VIEWS = ["auto", "css", "hex", "image", "javascript", "json", "multipart", "query", "raw", "urlencoded", "xml"] as const;

/** mitmproxy's `console_palette` choices (see tui/palettes.ts for how each is drawn). */
export const CONSOLE_PALETTES = ["dark", "light", "lowdark", "lowlight", "solarized_dark", "solarized_light"] as const;
