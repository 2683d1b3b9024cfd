/**
 * Tab on a filter being typed: the operator at the cursor (`~h`, `!~b`, `(~q`) completes from the
 * filter language's own table, listed with the help the help screen gives it.
 */

import { FILTER_HELP } from "../engine/filter/operators.ts";
import type { Completions } from "./tab-complete.ts";

/** Every operator as typed (`~h`) with its label, sorted as the help screen sorts them. */
const OPERATOR_ENTRIES: ReadonlyArray<{ readonly name: string; readonly label: string }> = FILTER_HELP.filter((e) => e.op.startsWith("~")).map((e) => ({
  name: e.op.split(" ")[0]!,
  label: `${e.op}: ${e.help}`,
}));

/**
 * The operators that can stand where the cursor is in `line`, whose filter argument begins at
 * `from`, each labelled with its help; undefined when the cursor is not in an operator's name. A `~` anywhere outside a regex
 * starts an operator (the filter lexer stops a bare regex at it), so the text from the last `~`
 * before the cursor decides.
 */
export function completeOperator(line: string, from: number, cursor: number): Completions | undefined {
  const typed = /~[A-Za-z]*$/.exec(line.slice(from, cursor))?.[0];
  if (typed === undefined) return undefined;
  let end = cursor;
  while (end < line.length && /[A-Za-z]/.test(line[end]!)) end++;
  const fits = OPERATOR_ENTRIES.filter((e) => e.name.startsWith(typed));
  return { start: cursor - typed.length, end, typed, candidates: fits.map((e) => e.name), labels: fits.map((e) => e.label), paths: false };
}
