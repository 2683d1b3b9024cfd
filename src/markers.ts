/**
 * Flow markers as mitmproxy has them: ":default:" (drawn ●), a letter or digit (drawn as itself),
 * or a GitHub emoji name such as ":grapes:" (drawn as its emoji). The names are gemoji's, the list
 * mitmproxy's own marker table is generated from. The list is 350 KB of source (17 ms to load),
 * so it is loaded when first needed: by `flow.mark` with a name, and by the console as it starts.
 */
export const DEFAULT_MARKER = ":default:";

const SINGLE_CHARACTER = /^[A-Za-z0-9]$/;
const ZERO_WIDTH_JOINER = "\u200d";

let glyphs: ReadonlyMap<string, string> | undefined;
let loading: Promise<ReadonlyMap<string, string>> | undefined;

/**
 * A marker is drawn in one cell, or two for an emoji: a sequence joined by zero-width joiners
 * (a family, a flag with a symbol) is more than one glyph in many terminals, so, as mitmproxy
 * does, only its first part is drawn.
 */
function oneGlyph(emoji: string): string {
  const joined = emoji.indexOf(ZERO_WIDTH_JOINER);
  return joined === -1 ? emoji : emoji.slice(0, joined);
}

/** Loads the emoji names (once); `markerGlyph` draws them from then on. */
export function loadMarkerNames(): Promise<ReadonlyMap<string, string>> {
  loading ??= import("gemoji").then(({ gemoji }) => {
    const byName = new Map<string, string>();
    for (const e of gemoji) for (const name of e.names) byName.set(`:${name}:`, oneGlyph(e.emoji));
    glyphs = byName;
    return byName;
  });
  return loading;
}

/** What `flow.mark` takes, for completion: true, false, ":default:" and the emoji names loaded so far. */
export function markerChoices(): readonly string[] {
  return ["true", "false", DEFAULT_MARKER, ...(glyphs?.keys() ?? [])];
}

/** Whether mitmproxy's `flow.mark` would take `marker` (the emoji names are loaded if need be). */
export async function isMarker(marker: string): Promise<boolean> {
  if (marker === DEFAULT_MARKER || SINGLE_CHARACTER.test(marker)) return true;
  return (await loadMarkerNames()).has(marker);
}

/**
 * What the flow list draws for a flow's marker: `fallback` (the theme's mark) for ":default:", for
 * a name it does not know (or before the names are loaded) and, without `emoji`, for every name;
 * "" for an unmarked flow.
 */
export function markerGlyph(marker: string, fallback: string, emoji = true): string {
  if (marker === "") return "";
  if (SINGLE_CHARACTER.test(marker)) return marker;
  return (emoji ? glyphs?.get(marker) : undefined) ?? fallback;
}
