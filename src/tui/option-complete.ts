/**
 * Tab on an option's value, by the option's type, for the options screen's in-place editor and
 * `:set name value` alike: a filter's operator, a file path (the entry at the cursor, in a list of
 * them), one of a choice option's choices, true/false for a bool.
 */
import { entryAt } from "../engine/list-text.ts";
import type { OptionInfo } from "../protocol.ts";
import { completeOperator } from "./filter-complete.ts";
import { completePath } from "./path-complete.ts";
import { pathStart } from "../path-form.ts";
import type { Completions } from "./tab-complete.ts";

/** A bool's values as the registry reads them; toggle flips the current one. */
const BOOL_VALUES = ["true", "false", "toggle"] as const;

/**
 * What may complete option `o`'s value `text` at `cursor` (offsets in `text`); undefined for a
 * value nothing completes: an int, a plain string, a filter away from an operator.
 */
export async function completeOptionValue(o: OptionInfo, text: string, cursor: number, where: { cwd?: string; home?: string } = {}): Promise<Completions | undefined> {
  if (o.type === "filter") return completeOperator(text, 0, cursor);
  if (o.paths) return completeOptionPath(o, text, cursor, where);
  const values = o.type === "bool" ? BOOL_VALUES : o.choices;
  if (!values) return undefined;
  const typed = text.slice(0, cursor);
  return { start: 0, end: text.length, typed, candidates: values.filter((v) => v.startsWith(typed)), paths: false, wholeValue: true };
}

/**
 * The path at the cursor: the whole value, or the list entry it is in; after the "=" of a
 * `[name=]path` entry, after the "+" of a `[+]path` value.
 */
async function completeOptionPath(o: OptionInfo, text: string, cursor: number, where: { cwd?: string; home?: string }): Promise<Completions> {
  let { start, end } = o.type === "str[]" ? entryAt(text, cursor) : { start: 0, end: text.length };
  // The list's text form trims its entries: "a.ts, b" holds "b".
  while (start < cursor && text[start] === " ") start++;
  const path = start + pathStart(text.slice(start, end), o.paths);
  if (path <= cursor) start = path;
  const typed = text.slice(start, cursor);
  end = Math.max(end, cursor);
  return { start, end, typed, candidates: await completePath(typed, where), paths: true, wholeValue: true };
}
