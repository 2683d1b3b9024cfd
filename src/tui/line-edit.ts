/**
 * The prompt's line editor as pure functions on (value, cursor), so every editing key is tested
 * without a terminal and the prompt can open with the cursor anywhere (inside a closing quote).
 */

export interface LineState {
  readonly value: string;
  readonly cursor: number;
}

export function line(value: string, cursor = value.length): LineState {
  return { value, cursor: Math.max(0, Math.min(cursor, value.length)) };
}

export function insert(s: LineState, text: string): LineState {
  return line(s.value.slice(0, s.cursor) + text + s.value.slice(s.cursor), s.cursor + text.length);
}

export function left(s: LineState): LineState {
  return line(s.value, s.cursor - 1);
}

export function right(s: LineState): LineState {
  return line(s.value, s.cursor + 1);
}

export function start(s: LineState): LineState {
  return line(s.value, 0);
}

export function end(s: LineState): LineState {
  return line(s.value, s.value.length);
}

function wordStartBefore(v: string, c: number): number {
  let i = c;
  while (i > 0 && v[i - 1] === " ") i--;
  while (i > 0 && v[i - 1] !== " ") i--;
  return i;
}

function wordEndAfter(v: string, c: number): number {
  let i = c;
  while (i < v.length && v[i] === " ") i++;
  while (i < v.length && v[i] !== " ") i++;
  return i;
}

export function wordLeft(s: LineState): LineState {
  return line(s.value, wordStartBefore(s.value, s.cursor));
}

export function wordRight(s: LineState): LineState {
  return line(s.value, wordEndAfter(s.value, s.cursor));
}

export function deleteBack(s: LineState): LineState {
  if (s.cursor === 0) return s;
  return line(s.value.slice(0, s.cursor - 1) + s.value.slice(s.cursor), s.cursor - 1);
}

export function deleteForward(s: LineState): LineState {
  if (s.cursor >= s.value.length) return s;
  return line(s.value.slice(0, s.cursor) + s.value.slice(s.cursor + 1), s.cursor);
}

export function deleteWord(s: LineState): LineState {
  const i = wordStartBefore(s.value, s.cursor);
  return line(s.value.slice(0, i) + s.value.slice(s.cursor), i);
}

export function deleteToStart(s: LineState): LineState {
  return line(s.value.slice(s.cursor), 0);
}

export function deleteToEnd(s: LineState): LineState {
  return line(s.value.slice(0, s.cursor), s.cursor);
}

/** Replaces value[from, to) with text and puts the cursor after it. */
export function replaceRange(s: LineState, from: number, to: number, text: string): LineState {
  return line(s.value.slice(0, from) + text + s.value.slice(to), from + text.length);
}

/**
 * The part of the line that fits `width` columns with the cursor in view, scrolling horizontally
 * as readline does, so a long filter stays editable at 80 columns.
 */
export function visibleSlice(s: LineState, width: number): { text: string; cursor: number } {
  const w = Math.max(2, width);
  if (s.value.length < w) return { text: s.value, cursor: s.cursor };
  const startAt = Math.max(0, Math.min(s.cursor - Math.floor(w * 0.75), s.value.length + 1 - w));
  return { text: s.value.slice(startAt, startAt + w - 1), cursor: s.cursor - startAt };
}
