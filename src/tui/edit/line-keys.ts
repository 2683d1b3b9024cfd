/**
 * The prompt's line-editing commands as one table, so the `:` prompt and every inline cell editor
 * (grid cells) answer the same keys, including a user's rebinding of them in the `prompt` context.
 */
import type { Keymap } from "../keymap.ts";
import type { KeyPress } from "../keys.ts";
import * as le from "../line-edit.ts";

export interface LineOp {
  /** The command's name after `console.prompt.`. */
  readonly name: string;
  readonly help: string;
  readonly fn: (s: le.LineState) => le.LineState;
}

export const LINE_OPS: readonly LineOp[] = [
  { name: "cursor.left", help: "Cursor left", fn: le.left },
  { name: "cursor.right", help: "Cursor right", fn: le.right },
  { name: "cursor.wordleft", help: "Cursor one word left", fn: le.wordLeft },
  { name: "cursor.wordright", help: "Cursor one word right", fn: le.wordRight },
  { name: "cursor.start", help: "Cursor to start", fn: le.start },
  { name: "cursor.end", help: "Cursor to end", fn: le.end },
  { name: "delete.back", help: "Delete backwards", fn: le.deleteBack },
  { name: "delete.forward", help: "Delete forwards", fn: le.deleteForward },
  { name: "delete.word", help: "Delete the word before the cursor", fn: le.deleteWord },
  { name: "delete.start", help: "Delete to the start", fn: le.deleteToStart },
  { name: "delete.end", help: "Delete to the end", fn: le.deleteToEnd },
];

const BY_COMMAND = new Map(LINE_OPS.map((o) => [`console.prompt.${o.name}`, o.fn]));

/** What a key does to a line being edited: a new line, one of the prompt's actions, or nothing. */
export type LineKeyResult =
  | { readonly kind: "line"; readonly line: le.LineState }
  | { readonly kind: "submit" | "abort" | "complete" | "other" };

/** Resolves a key through the `prompt` context: editing commands apply, printable text is typed. */
export function lineKey(keymap: Keymap, k: KeyPress, line: le.LineState): LineKeyResult {
  const b = keymap.lookup("prompt", k.name);
  if (b) {
    const cmd = b.command.trim();
    const fn = BY_COMMAND.get(cmd);
    if (fn) return { kind: "line", line: fn(line) };
    if (cmd === "console.prompt.submit") return { kind: "submit" };
    if (cmd === "console.prompt.abort") return { kind: "abort" };
    if (cmd === "console.prompt.complete") return { kind: "complete" };
    return { kind: "other" };
  }
  if (k.text) return { kind: "line", line: le.insert(line, k.text) };
  return { kind: "other" };
}
