/**
 * The grid editor's state as pure functions: rows of cells, a cursor (row, column), the first row
 * shown, and the cell being edited. The controller and the component only call these, so every
 * key's effect is tested without a terminal.
 */
import * as le from "../line-edit.ts";
import { calcTop, clamp } from "../window.ts";

export type Row = readonly string[];

export interface GridState {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
  readonly row: number;
  readonly col: number;
  /** The first row on screen. */
  readonly top: number;
  /** The focused cell's text while it is being edited; committed by commitEdit. */
  readonly editing: le.LineState | undefined;
}

export function makeGrid(columns: readonly string[], rows: readonly Row[]): GridState {
  return { columns, rows: rows.map((r) => columns.map((_, i) => r[i] ?? "")), row: 0, col: 0, top: 0, editing: undefined };
}

function withRow(g: GridState, row: number, height: number): GridState {
  const n = g.rows.length;
  const r = n === 0 ? 0 : clamp(row, 0, n - 1);
  return { ...g, row: r, top: calcTop({ count: n, height: Math.max(1, height), focus: r, top: g.top }) };
}

export function moveRow(g: GridState, delta: number, height: number): GridState {
  return withRow(g, g.row + delta, height);
}

export function toRow(g: GridState, row: number, height: number): GridState {
  return withRow(g, row, height);
}

/** Left and right stop at the first and last column, as mitmproxy's grid does. */
export function moveCol(g: GridState, delta: number): GridState {
  return { ...g, col: clamp(g.col + delta, 0, g.columns.length - 1) };
}

/** Tab order: along the row, then to the next (or previous) row; false at either end of the grid. */
export function stepCell(g: GridState, dir: 1 | -1, height: number): GridState | undefined {
  const last = g.columns.length - 1;
  if (dir === 1 && g.col < last) return { ...g, col: g.col + 1 };
  if (dir === -1 && g.col > 0) return { ...g, col: g.col - 1 };
  const row = g.row + dir;
  if (row < 0 || row >= g.rows.length) return undefined;
  return { ...withRow(g, row, height), col: dir === 1 ? 0 : last };
}

function blank(g: GridState): Row {
  return g.columns.map(() => "");
}

/** `a`: a new empty row after the cursor, its first cell ready for typing. */
export function addRow(g: GridState, height: number): GridState {
  return newRowAt(commitEdit(g), g.rows.length === 0 ? 0 : g.row + 1, height);
}

/** `A`: a new empty row before the cursor. */
export function insertRow(g: GridState, height: number): GridState {
  return newRowAt(commitEdit(g), g.rows.length === 0 ? 0 : g.row, height);
}

function newRowAt(g: GridState, at: number, height: number): GridState {
  const rows = [...g.rows.slice(0, at), blank(g), ...g.rows.slice(at)];
  return startEdit({ ...withRow({ ...g, rows }, at, height), col: 0 });
}

export function deleteRow(g: GridState, height: number): GridState {
  if (g.rows.length === 0) return g;
  const rows = g.rows.filter((_, i) => i !== g.row);
  return withRow({ ...g, rows, editing: undefined }, g.row, height);
}

export function startEdit(g: GridState): GridState {
  const row = g.rows[g.row];
  if (!row) return g;
  return { ...g, editing: le.line(row[g.col] ?? "") };
}

export function setEditing(g: GridState, line: le.LineState): GridState {
  return g.editing ? { ...g, editing: line } : g;
}

/** Writes the edited text into its cell and leaves edit mode. */
export function commitEdit(g: GridState): GridState {
  if (!g.editing) return g;
  const value = g.editing.value;
  const rows = g.rows.map((r, i) => (i === g.row ? r.map((c, j) => (j === g.col ? value : c)) : r));
  return { ...g, rows, editing: undefined };
}

/** Sets the focused cell to `value` (a grid with no rows gets one), leaving edit mode. */
export function setCell(g: GridState, value: string): GridState {
  const base = g.rows.length === 0 ? { ...g, rows: [g.columns.map(() => "")], row: 0 } : commitEdit(g);
  const rows = base.rows.map((r, i) => (i === base.row ? r.map((c, j) => (j === base.col ? value : c)) : r));
  return { ...base, rows, editing: undefined };
}

/** The focused cell's text, the edit in progress included. */
export function cellValue(g: GridState): string {
  return g.editing?.value ?? g.rows[g.row]?.[g.col] ?? "";
}

/** The rows as they would be saved: the cell being edited included, rows with no text at all left out. */
export function gridValues(g: GridState): Row[] {
  return commitEdit(g).rows.filter((r) => r.some((c) => c !== "")).map((r) => [...r]);
}

export function sameRows(a: readonly Row[], b: readonly Row[]): boolean {
  return a.length === b.length && a.every((r, i) => r.length === b[i]!.length && r.every((c, j) => c === b[i]![j]));
}
