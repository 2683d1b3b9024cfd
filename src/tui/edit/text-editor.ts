/**
 * The inline body editor's state as pure functions: the text as lines, a cursor, and the first line
 * shown. It is the fallback when no external editor can run, so it stays small: typing, Enter,
 * Backspace/Delete across line ends, arrows, Home/End, page keys; Ctrl-S saves, Esc cancels.
 */
import type { KeyPress } from "../keys.ts";
import { clamp } from "../window.ts";

export interface TextState {
  readonly lines: readonly string[];
  readonly row: number;
  readonly col: number;
  readonly top: number;
  /** The line end the text is saved with: CRLF when every line of the body ended so. */
  readonly eol?: "\n" | "\r\n";
}

/**
 * A body whose every line ends in CRLF (multipart forms, many text protocols) is edited as lines
 * without the CR and saved with CRLF again. Split at LF alone, each line kept its CR at the end:
 * End put the cursor after it, so text typed there (or Enter) went after the CR and broke the
 * line end, and with it a multipart body.
 */
export function makeText(text: string): TextState {
  const crlf = text.includes("\r\n") && !/(^|[^\r])\n/.test(text);
  return { lines: text.split(crlf ? "\r\n" : "\n"), row: 0, col: 0, top: 0, eol: crlf ? "\r\n" : "\n" };
}

export function textValue(t: TextState): string {
  return t.lines.join(t.eol ?? "\n");
}

function at(t: TextState, row: number, col: number, height: number): TextState {
  const r = clamp(row, 0, t.lines.length - 1);
  const c = clamp(col, 0, t.lines[r]!.length);
  const h = Math.max(1, height);
  const top = r < t.top ? r : r >= t.top + h ? r - h + 1 : t.top;
  return { ...t, row: r, col: c, top };
}

function replaceLines(t: TextState, from: number, count: number, lines: string[], row: number, col: number, height: number): TextState {
  const next = [...t.lines.slice(0, from), ...lines, ...t.lines.slice(from + count)];
  return at({ ...t, lines: next }, row, col, height);
}

export function insertText(t: TextState, typed: string, height: number): TextState {
  // In a CRLF text a pasted CRLF is one line end, not a CR character and a line end.
  const text = t.eol === "\r\n" ? typed.replace(/\r\n/g, "\n") : typed;
  const line = t.lines[t.row]!;
  const parts = (line.slice(0, t.col) + text + line.slice(t.col)).split("\n");
  // The cursor ends after the inserted text, which may itself hold line breaks (a paste).
  const inserted = text.split("\n");
  const lastLen = inserted.length === 1 ? t.col + text.length : inserted[inserted.length - 1]!.length;
  return replaceLines(t, t.row, 1, parts, t.row + inserted.length - 1, lastLen, height);
}

export function backspace(t: TextState, height: number): TextState {
  const line = t.lines[t.row]!;
  if (t.col > 0) return replaceLines(t, t.row, 1, [line.slice(0, t.col - 1) + line.slice(t.col)], t.row, t.col - 1, height);
  if (t.row === 0) return t;
  const prev = t.lines[t.row - 1]!;
  return replaceLines(t, t.row - 1, 2, [prev + line], t.row - 1, prev.length, height);
}

export function deleteForward(t: TextState, height: number): TextState {
  const line = t.lines[t.row]!;
  if (t.col < line.length) return replaceLines(t, t.row, 1, [line.slice(0, t.col) + line.slice(t.col + 1)], t.row, t.col, height);
  if (t.row >= t.lines.length - 1) return t;
  return replaceLines(t, t.row, 2, [line + t.lines[t.row + 1]!], t.row, t.col, height);
}

export function moveCursor(t: TextState, what: "left" | "right" | "up" | "down" | "home" | "end" | "pageup" | "pagedown", height: number): TextState {
  const line = t.lines[t.row]!;
  switch (what) {
    case "left":
      return t.col > 0 ? at(t, t.row, t.col - 1, height) : t.row > 0 ? at(t, t.row - 1, t.lines[t.row - 1]!.length, height) : t;
    case "right":
      return t.col < line.length ? at(t, t.row, t.col + 1, height) : t.row < t.lines.length - 1 ? at(t, t.row + 1, 0, height) : t;
    case "up":
      return at(t, t.row - 1, t.col, height);
    case "down":
      return at(t, t.row + 1, t.col, height);
    case "home":
      return at(t, t.row, 0, height);
    case "end":
      return at(t, t.row, line.length, height);
    case "pageup":
      return at(t, t.row - Math.max(1, height - 1), t.col, height);
    case "pagedown":
      return at(t, t.row + Math.max(1, height - 1), t.col, height);
  }
}

export type TextKeyResult = { readonly kind: "text"; readonly text: TextState } | { readonly kind: "save" | "cancel" | "none" };

/** The editor's own keys; they are not in the keymap because every printable key types itself here. */
export function textKey(t: TextState, k: KeyPress, height: number): TextKeyResult {
  const text = (s: TextState): TextKeyResult => ({ kind: "text", text: s });
  switch (k.name) {
    case "ctrl s":
      return { kind: "save" };
    case "esc":
      return { kind: "cancel" };
    case "enter":
      return text(insertText(t, "\n", height));
    case "tab":
      return text(insertText(t, "\t", height));
    case "backspace":
      return text(backspace(t, height));
    case "ctrl d":
    case "delete":
      return text(deleteForward(t, height));
    case "left":
    case "right":
    case "up":
    case "down":
    case "home":
    case "end":
    case "pageup":
    case "pagedown":
      return text(moveCursor(t, k.name, height));
    case "ctrl a":
      return text(moveCursor(t, "home", height));
    case "ctrl e":
      return text(moveCursor(t, "end", height));
  }
  if (k.text) return text(insertText(t, k.text, height));
  return { kind: "none" };
}
