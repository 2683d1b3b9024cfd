import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/**
 * Ink tokenizes every styled line of every frame anew: its Output keeps its caches per
 * frame, and with a screenful of coloured rows that work is most of a repaint. Rows that
 * did not change between frames are the same strings, so this makes those caches live
 * across frames (bounded). It patches the prototype of Ink's internal cache class, found
 * through an Output instance; anything unexpected (another Ink version) leaves Ink as it is.
 */
// A styled row is an object per character, about 37 KB for a 100-column flow row: ten screens of
// rows, not the 20,000 kept before, which grew to 740 MB as follow mode or a long scroll drew new ones.
const MAX_ENTRIES = 1_000;

type CacheMethod = (this: unknown, key: string) => unknown;

export async function shareInkCaches(): Promise<boolean> {
  try {
    const entry = createRequire(import.meta.url).resolve("ink");
    const mod = (await import(new URL("./output.js", pathToFileURL(entry)).href)) as { default?: new (o: { width: number; height: number }) => { caches?: object } };
    const Output = mod.default;
    const caches = Output ? new Output({ width: 1, height: 1 }).caches : undefined;
    const proto = caches ? (Object.getPrototypeOf(caches) as Record<string, unknown>) : undefined;
    const names = ["getStyledChars", "getStringWidth", "getWidestLine"] as const;
    if (!proto || !names.every((n) => typeof proto[n] === "function")) return false;
    for (const name of names) {
      const original = proto[name] as CacheMethod;
      const shared = new Map<string, unknown>();
      proto[name] = function (this: unknown, key: string): unknown {
        const hit = shared.get(key);
        if (hit !== undefined) return hit;
        const value = original.call(this, key);
        if (shared.size >= MAX_ENTRIES) shared.clear();
        shared.set(key, value);
        return value;
      };
    }
    return true;
  } catch {
    return false;
  }
}
