/**
 * The prompt's line editor as pure functions on (value, cursor), so every editing key is tested
 * without a terminal and the prompt can open with the cursor anywhere (inside a closing quote).
 * The cursor moves and deletes a code point at a time: by UTF-16 unit it stopped inside an
 * emoji, and Backspace there left half of it in the filter.
 */
import { columns, fitColumns } from "./format.ts";

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

/** UTF-16 units of the code point that starts at `at` (2 for a surrogate pair). */
function unitsAt(v: string, at: number): number {
  return (v.codePointAt(at) ?? 0) > 0xffff ? 2 : 1;
}

/** UTF-16 units of the code point that ends at `at`. */
function unitsBefore(v: string, at: number): number {
  return at >= 2 && unitsAt(v, at - 2) === 2 ? 2 : 1;
}

/** The character under the cursor at `at` in `v` (a whole code point), or "" at the end. */
export function charAt(v: string, at: number): string {
  return at < v.length ? v.slice(at, at + unitsAt(v, at)) : "";
}

export function left(s: LineState): LineState {
  return s.cursor === 0 ? s : line(s.value, s.cursor - unitsBefore(s.value, s.cursor));
}

export function right(s: LineState): LineState {
  return s.cursor >= s.value.length ? s : line(s.value, s.cursor + unitsAt(s.value, s.cursor));
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
  const from = s.cursor - unitsBefore(s.value, s.cursor);
  return line(s.value.slice(0, from) + s.value.slice(s.cursor), from);
}

export function deleteForward(s: LineState): LineState {
  if (s.cursor >= s.value.length) return s;
  return line(s.value.slice(0, s.cursor) + s.value.slice(s.cursor + unitsAt(s.value, s.cursor)), s.cursor);
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
  const v = s.value;
  // Measured in terminal columns: a CJK character takes two, and counted as one the end being typed went off the screen.
  if (columns(v) < w) return { text: v, cursor: s.cursor };
  // The cursor three quarters along, as readline scrolls...
  let startAt = s.cursor;
  for (let used = 0; startAt > 0; ) {
    const n = unitsBefore(v, startAt);
    used += columns(v.slice(startAt - n, startAt));
    if (used > Math.floor(w * 0.75)) break;
    startAt -= n;
  }
  let endAt = fitColumns(v, startAt, w - 1);
  // ...but near the end the line's last columns fill the room, with one left for the cursor.
  if (endAt >= v.length) {
    for (let used = columns(v.slice(startAt)); startAt > 0; ) {
      const n = unitsBefore(v, startAt);
      const more = columns(v.slice(startAt - n, startAt));
      if (used + more > w - 1) break;
      used += more;
      startAt -= n;
    }
    endAt = v.length;
  }
  return { text: v.slice(startAt, endAt), cursor: s.cursor - startAt };
}
