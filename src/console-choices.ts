/**
 * The choices of the console's own options, which the engine registers too so that
 * `pryx --set console_layout=vertical` (and a mitmproxy script that sets them) is accepted:
 * one list for both threads.
 */
export const CONSOLE_LAYOUTS = ["single", "vertical", "horizontal"] as const;

/** mitmproxy's order (its views as it registers them), so `m` then a digit picks what it picks there; pryx's own after them. */
export const CONTENT_VIEWS = ["auto", "raw", "hex", "graphql", "json", "xml", "javascript", "css", "urlencoded", "multipart", "image", "query", "protobuf", "msgpack", "grpc", "dns", "mqtt", "socketio", "zip"] as const;

/** mitmproxy's `console_palette` choices (see tui/palettes.ts for how each is drawn). */
export const CONSOLE_PALETTES = ["dark", "light", "lowdark", "lowlight", "solarized_dark", "solarized_light"] as const;

/** mitmproxy's `console_flowlist_layout` choices; pryx's one-line table fits 80 columns, so it is pryx's default. */
export const FLOWLIST_LAYOUTS = ["default", "list", "table"] as const;
export const FLOWLIST_LAYOUT_HELP = "Flow list rows: table (one line each), list (two: the request, then the answer) or default (list below 100 columns, as mitmproxy's).";
