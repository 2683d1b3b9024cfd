/**
 * Editing a flow from the console (`e`): the chooser of parts, single values in the prompt, header,
 * query and form fields in the grid editor, bodies in $EDITOR or the inline editor. Every change
 * goes to the engine as one `edit` request, which validates it and leaves the flow as it was when
 * it refuses; the refusal is shown in the status bar.
 *
 * The controller owns the screens and the keys; it gives this class a narrow host to work through.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { csvRows } from "../../csv.ts";
import { expandHome } from "../../home-path.ts";
import type { EngineHandle } from "../../engine-client.ts";
import { EDIT_IN_PROGRESS, type FlowDetail, type FlowPatch, type FlowSummary } from "../../protocol.ts";
import { quoteAlways } from "../command-line.ts";
import { humanSize } from "../format.ts";
import type { Keymap } from "../keymap.ts";
import type { KeyPress } from "../keys.ts";
import { chooseEditor, chooseViewer, editInExternalEditor, viewInExternalViewer } from "./external-editor.ts";
import * as grid from "./grid.ts";
import { lineKey } from "./line-keys.ts";
import {
  gridColumns,
  currentValue,
  extensionFor,
  cellFromBytes,
  formWarning,
  isFormPart,
  gridPatch,
  gridRows,
  gridTitle,
  isGridPart,
  isValuePart,
  parsePart,
  partsFor,
  valueLabel,
  valuePatch,
  type BodyPart,
  type RawPart,
  isRawPart,
  isMessagePart,
  contentPatch,
  type MessagePart,
  rawPatch,
  rawText,
  type EditPart,
  type GridPart,
  type ValuePart,
} from "./parts.ts";
import type { EditScreen, GridEditorScreen, TextEditorScreen } from "./screens.ts";
import type { TerminalHandover } from "./terminal.ts";
import { makeText, textKey, textValue } from "./text-editor.ts";

/** Bodies above this ask first: fetching and editing them is slow. */
export const EDIT_CONFIRM_BYTES = 1024 * 1024;
/** The largest body the console fetches for editing. */
export const EDIT_MAX_BYTES = 64 * 1024 * 1024;
/** A message larger than this is not edited in the console. */
const MESSAGE_EDIT_BYTES = 1024 * 1024;
const EDITOR_TITLES: Record<BodyPart, string> = {
  "request-body": "Edit Request Body",
  "response-body": "Edit Response Body",
  "websocket-message": "Edit WebSocket Message",
  "tcp-message": "Edit TCP Message",
  "udp-message": "Edit UDP Message",
};

export type GridNav = "up" | "down" | "pageup" | "pagedown" | "start" | "end" | "left" | "right" | "next" | "prev" | "select";

export interface EditHost {
  readonly engine: Pick<EngineHandle, "request">;
  readonly keymap: Keymap;
  readonly terminal: TerminalHandover;
  readonly env: NodeJS.ProcessEnv;
  summary(id: string): FlowSummary | undefined;
  message(text: string, level?: "info" | "warn" | "error"): void;
  confirm(prompt: string, onYes: () => void | Promise<void>): void;
  choose(title: string, choices: readonly string[], current: string | undefined, onPick: (choice: string) => void | Promise<void>): void;
  /** Opens the prompt on `value` under `label`; Enter hands the text to onSubmit. */
  prompt(label: string, value: string, onSubmit: (text: string) => Promise<void>): void;
  newKey(): number;
  push(screen: EditScreen): void;
  update<S extends EditScreen>(key: number, fn: (s: S) => S): void;
  /** Removes the screen, wherever it is on the stack. */
  close(key: number): void;
  option(name: string): string | undefined;
  /** Rows the editor screen has for its rows or lines. */
  rows(kind: EditScreen["kind"]): number;
}

type SendResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class FlowEditor {
  constructor(private readonly host: EditHost) {}

  /** The flow `@focus` means for the command at hand (the console's `execute` says which). */
  private focused(id: string | undefined): FlowSummary {
    const f = id === undefined ? undefined : this.host.summary(id);
    if (!f) throw new Error("no flow is in focus");
    return f;
  }

  /** `console.edit.focus.options`: the parts of the focused flow. */
  options(focus: string | undefined): string[] {
    return partsFor(this.focused(focus));
  }

  /**
   * `e`: the chooser of parts, or the named part at once. The flow is taken now, not when a part
   * is picked, so a new flow arriving under focus-follow cannot take its place.
   */
  async start(partArg: string | undefined, focus: string | undefined): Promise<void> {
    const f = this.focused(focus);
    if (partArg === undefined || partArg.trim() === "") {
      this.host.choose("Edit...", partsFor(f), undefined, (c) => this.edit(f.id, c));
      return;
    }
    await this.edit(f.id, partArg);
  }

  /**
   * mitmproxy's console.bodyview: the whole request or response body, decoded, in an external
   * viewer ($PAGER, then less or more, then the editor) with the terminal handed over.
   */
  async viewBody(id: string, part: string | undefined): Promise<void> {
    if (part !== "request" && part !== "response") throw new Error(`console.bodyview views request or response, not ${JSON.stringify(part ?? "")}`);
    const f = this.host.summary(id);
    if (!f) throw new Error(`no flow with id ${id}`);
    if (f.type !== "http") throw new Error(`a ${f.type.toUpperCase()} flow has no ${part} body`);
    const size = part === "request" ? f.reqSize : (f.respSize ?? 0);
    const d = await this.detail(id, Math.max(1, size));
    const m = part === "request" ? d.request : d.response;
    if (!m) throw new Error(`the flow has no ${part}`);
    if (!m.body || m.body.length === 0) throw new Error(`the ${part} has no body`);
    const viewer = chooseViewer(this.host.env);
    if (!viewer) throw new Error("no viewer: set $PAGER (or install less)");
    viewInExternalViewer(m.body, { command: viewer, terminal: this.host.terminal, extension: extensionFor(m.contentType), env: this.host.env });
  }

  async edit(id: string, partName: string): Promise<void> {
    const f = this.host.summary(id);
    if (!f) throw new Error(`no flow with id ${id}`);
    const part = parsePart(partName);
    if (!part) throw new Error(`cannot edit ${JSON.stringify(partName)}; one of ${partsFor(f).join(", ")}`);
    if (!partsFor(f).includes(part)) {
      throw new Error(f.type === "dns" ? "Cannot edit DNS flows yet (only their comment)" : `a ${f.type.toUpperCase()} flow has no ${part} to edit: one of ${partsFor(f).join(", ")}`);
    }
    // Said before an editor opens, not after the user's work: the engine refuses it (see applyFlowPatch).
    if (f.type === "http" && f.live && !f.intercepted && f.messages === undefined && part !== "comment") {
      throw new Error(EDIT_IN_PROGRESS);
    }
    if (isValuePart(part)) return this.editValue(f, part);
    if (isGridPart(part)) return this.openGrid(f, part);
    if (isRawPart(part)) return this.editRaw(f, part);
    if (isMessagePart(part)) return this.editMessage(f, part);
    return this.editBody(f, part);
  }

  private async detail(id: string, bodyLimit: number): Promise<FlowDetail> {
    const d = await this.host.engine.request({ op: "detail", id, bodyLimit });
    if (!d) throw new Error("the engine no longer has this flow");
    return d;
  }

  private async send(id: string, patch: FlowPatch, what: EditPart): Promise<SendResult> {
    try {
      const after = await this.host.engine.request({ op: "edit", id, patch });
      const resume = this.host.keymap.keysFor("flow.resume @focus", ["flowlist", "flowview"])[0];
      this.host.message(`edited ${what}${after.intercepted && resume ? `; press ${resume} to resume the flow` : ""}`);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: errorText(err) };
    }
  }

  // ---- single values: the prompt ----

  private async editValue(f: FlowSummary, part: ValuePart): Promise<void> {
    const http = f.type === "http";
    const value = part === "comment" ? f.comment : currentValue(part, await this.detail(f.id, 0));
    this.host.prompt(valueLabel(part), value, async (text) => {
      if (text === value) return;
      if (!http) {
        // The engine's edit request takes HTTP flows only; the comment command takes any flow.
        await this.host.engine.request({ op: "command", line: `flow.comment ${f.id} ${quoteAlways(text)}` });
        return;
      }
      const r = await this.send(f.id, valuePatch(part, text), part);
      if (!r.ok) this.host.message(r.error, "error");
    });
  }

  // ---- headers, query, form: the grid ----

  private async openGrid(f: FlowSummary, part: GridPart): Promise<void> {
    const d = await this.detail(f.id, isFormPart(part) ? EDIT_MAX_BYTES : 0);
    // A form grid writes the whole body back: from a cut one, it would drop the rest.
    if (isFormPart(part) && d.request && d.request.body.length !== d.request.bodySize) throw new Error(`the request body is ${humanSize(d.request.bodySize)}, more than the ${humanSize(EDIT_MAX_BYTES)} the console edits`);
    const rows = gridRows(part, d);
    this.host.push({
      kind: "grideditor",
      key: this.host.newKey(),
      flowId: f.id,
      part,
      title: gridTitle(part),
      grid: grid.makeGrid(gridColumns(part), rows),
      original: rows,
      detail: d,
      refused: undefined,
      saving: false,
    });
    const warning = isFormPart(part) ? formWarning(d, part) : undefined;
    if (warning) this.host.message(warning, "warn");
  }

  private updateGrid(s: GridEditorScreen, fn: (g: grid.GridState, rows: number) => grid.GridState): void {
    const rows = this.host.rows("grideditor");
    this.host.update<GridEditorScreen>(s.key, (cur) => ({ ...cur, grid: fn(cur.grid, rows) }));
  }

  /** Keys while a cell is edited (or a save is on its way): all of them stay here. */
  gridKey(s: GridEditorScreen, k: KeyPress): boolean {
    if (s.saving) return true;
    const editing = s.grid.editing;
    if (!editing) return false;
    if (k.name === "tab" || k.name === "shift tab") {
      // As mitmproxy: Tab commits the cell and goes on editing the next one.
      const dir = k.name === "tab" ? 1 : -1;
      this.updateGrid(s, (g, rows) => {
        const next = grid.stepCell(grid.commitEdit(g), dir, rows);
        return next ? grid.startEdit(next) : grid.commitEdit(g);
      });
      return true;
    }
    const r = lineKey(this.host.keymap, k, editing);
    if (r.kind === "line") this.updateGrid(s, (g) => grid.setEditing(g, r.line));
    // Enter and Esc both stop editing and keep the text, as mitmproxy's grid does.
    else if (r.kind === "submit" || r.kind === "abort") this.updateGrid(s, (g) => grid.commitEdit(g));
    return true;
  }

  gridNav(s: GridEditorScreen, what: GridNav): void {
    if (s.saving) return;
    this.updateGrid(s, (g, rows) => {
      switch (what) {
        case "up":
          return grid.moveRow(g, -1, rows);
        case "down":
          return grid.moveRow(g, 1, rows);
        case "pageup":
          return grid.moveRow(g, -rows, rows);
        case "pagedown":
          return grid.moveRow(g, rows, rows);
        case "start":
          return grid.toRow(g, 0, rows);
        case "end":
          return grid.toRow(g, g.rows.length - 1, rows);
        case "left":
        case "prev":
          return grid.moveCol(g, -1);
        case "right":
        case "next":
          return grid.moveCol(g, 1);
        case "select":
          return grid.startEdit(g);
      }
    });
  }

  gridAdd(s: GridEditorScreen, where: "after" | "before"): void {
    if (s.saving) return;
    this.updateGrid(s, (g, rows) => (where === "after" ? grid.addRow(g, rows) : grid.insertRow(g, rows)));
  }

  gridDelete(s: GridEditorScreen): void {
    if (s.saving) return;
    this.updateGrid(s, (g, rows) => grid.deleteRow(g, rows));
  }

  /**
   * mitmproxy's console.grideditor.load (`r`): a file's bytes into the focused cell, escaped as the
   * grid shows them, so a backslash or a byte that is not text comes back as it was in the file.
   * With `escaped` (console.grideditor.load_escaped, `R`) the file holds escaped text already
   * (\n, \xNN, as the cells show it), taken as it is.
   */
  gridLoad(s: GridEditorScreen, file: string | undefined, escaped = false): void {
    const cmd = escaped ? "console.grideditor.load_escaped" : "console.grideditor.load";
    if (!file) throw new Error(`${cmd} needs a path`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(expandHome(file));
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
    const cell = escaped ? new TextDecoder().decode(bytes) : cellFromBytes(s.part, bytes);
    this.updateGrid(s, (g) => grid.setCell(g, cell));
  }

  /** mitmproxy's console.grideditor.save: the rows as CSV, no header row, as mitmproxy writes them. */
  gridSave(s: GridEditorScreen, file: string | undefined): string {
    if (!file) throw new Error("console.grideditor.save needs a path");
    const rows = grid.gridValues(s.grid);
    const path = expandHome(file);
    writeFileSync(path, csvRows(rows));
    return `saved ${rows.length} row${rows.length === 1 ? "" : "s"} to ${path}`;
  }

  /** mitmproxy's console.grideditor.editor: the focused cell in the external editor. */
  gridEditor(s: GridEditorScreen): void {
    const editor = chooseEditor(this.host.env);
    if (editor.kind === "inline") throw new Error("no external editor: set $EDITOR");
    const before = grid.cellValue(s.grid);
    const saved = new TextDecoder().decode(editInExternalEditor(new TextEncoder().encode(before), { command: editor.command, terminal: this.host.terminal, env: this.host.env }));
    // vim and nano end the file with a newline the value never had (a header would then be
    // refused, a query value sent with %0A): dropped, as mitmproxy's clean_hanging_newline does.
    const edited = !/\r?\n$/.test(before) ? saved.replace(/\r?\n$/, "") : saved;
    if (edited !== before) this.updateGrid(s, (g) => grid.setCell(g, edited));
  }

  /**
   * `q`/Esc: the grid is written back with one edit. When the engine refuses it, the grid stays
   * open with the message, so nothing typed is lost; leaving again unchanged discards the rows.
   */
  async leaveGrid(s: GridEditorScreen): Promise<void> {
    if (s.saving) return;
    const rows = grid.gridValues(s.grid);
    if (grid.sameRows(rows, s.original)) {
      this.host.close(s.key);
      return;
    }
    if (s.refused && grid.sameRows(rows, s.refused)) {
      this.host.close(s.key);
      this.host.message(`discarded the changes to ${s.part}`, "warn");
      return;
    }
    this.host.update<GridEditorScreen>(s.key, (cur) => ({ ...cur, grid: grid.commitEdit(cur.grid), saving: true }));
    const r = await this.send(s.flowId, gridPatch(s.part, rows, s.detail), s.part);
    if (r.ok) {
      this.host.close(s.key);
      return;
    }
    this.host.update<GridEditorScreen>(s.key, (cur) => ({ ...cur, saving: false, refused: rows }));
    this.host.message(`${r.error} — fix it, or leave again to discard`, "error");
  }

  // ---- bodies: $EDITOR or the inline editor ----

  private async editBody(f: FlowSummary, part: BodyPart): Promise<void> {
    const side = part === "request-body" ? "request" : "response";
    const probe = await this.detail(f.id, 0);
    const m = side === "request" ? probe.request : probe.response;
    const size = m?.bodySize ?? 0;
    if (size > EDIT_MAX_BYTES) throw new Error(`the ${side} body is ${humanSize(size)}, more than the ${humanSize(EDIT_MAX_BYTES)} the console edits`);
    const go = () => this.editBodyNow(f.id, part, size, m?.contentType);
    if (size > EDIT_CONFIRM_BYTES) this.host.confirm(`Edit the ${humanSize(size)} ${side} body?`, go);
    else await go();
  }

  /** The whole message in $EDITOR, read back into one patch of what changed. */
  private async editRaw(f: FlowSummary, part: RawPart): Promise<void> {
    const side = part === "raw request" ? "request" : "response";
    const probe = await this.detail(f.id, 0);
    const size = (side === "request" ? probe.request : probe.response)?.bodySize ?? 0;
    if (size > EDIT_MAX_BYTES) throw new Error(`the ${side} body is ${humanSize(size)}, more than the ${humanSize(EDIT_MAX_BYTES)} the console edits`);
    const editor = chooseEditor(this.host.env);
    if (editor.kind === "inline") throw new Error(`editing the raw ${side} needs an external editor: set $EDITOR`);
    const d = await this.detail(f.id, Math.max(1, size));
    const text = rawText(part, d);
    const edited = editInExternalEditor(text, { command: editor.command, terminal: this.host.terminal, extension: ".http", env: this.host.env });
    const patch = rawPatch(part, edited, d);
    if (Object.keys(patch).length === 0) {
      this.host.message(`${part} unchanged`);
      return;
    }
    const r = await this.send(f.id, patch, part);
    if (!r.ok) this.host.message(r.error, "error");
  }

  private async editBodyNow(id: string, part: BodyPart, size: number, contentType: string | undefined): Promise<void> {
    const d = await this.detail(id, Math.max(1, size));
    const m = part === "request-body" ? d.request : d.response;
    const body = m?.body ?? new Uint8Array(0);
    // Saving a cut body would drop its end.
    if (m && m.bodySize !== body.length) throw new Error(`the body changed size while it was fetched (${humanSize(m.bodySize)}); try again`);
    await this.editBytes(id, part, body, extensionFor(contentType));
  }

  /**
   * mitmproxy's tcp-message, udp-message and websocket-message: the flow's last message, which
   * the intercept filter may be holding; resumed, it goes on as edited.
   */
  private async editMessage(f: FlowSummary, part: MessagePart): Promise<void> {
    // The limit cuts every message of the detail, so it stays small: a stream may hold thousands.
    const d = await this.detail(f.id, MESSAGE_EDIT_BYTES + 1);
    const index = d.messages.length - 1;
    const last = d.messages[index];
    if (!last) throw new Error("the flow has no message yet");
    if (last.content.length > MESSAGE_EDIT_BYTES) throw new Error(`the last message is more than the ${humanSize(MESSAGE_EDIT_BYTES)} the console edits of a message`);
    await this.editBytes(f.id, part, last.content, last.type === "text" ? ".txt" : ".bin", index);
  }

  /** Bytes in $EDITOR (or the inline editor), sent back as one patch when they changed. */
  private async editBytes(id: string, part: BodyPart, bytes: Uint8Array, extension: string, messageIndex?: number): Promise<void> {
    const editor = chooseEditor(this.host.env);
    if (editor.kind === "inline") return this.openTextEditor(id, part, bytes, messageIndex);
    let edited = editInExternalEditor(bytes, { command: editor.command, terminal: this.host.terminal, extension, env: this.host.env });
    if (this.host.option("console_strip_trailing_newlines") === "true") {
      let end = edited.length;
      while (end > 0 && (edited[end - 1] === 0x0a || edited[end - 1] === 0x0d)) end--;
      edited = edited.subarray(0, end);
    }
    if (sameBytes(edited, bytes)) {
      this.host.message(`${part} unchanged`);
      return;
    }
    const r = await this.send(id, contentPatch(part, edited, messageIndex), part);
    if (!r.ok) this.host.message(r.error, "error");
  }

  private openTextEditor(id: string, part: BodyPart, body: Uint8Array, messageIndex?: number): void {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new Error(`the ${part} is not UTF-8 text: set $EDITOR to edit it in an external editor`);
    }
    this.host.push({
      kind: "texteditor",
      key: this.host.newKey(),
      flowId: id,
      part,
      title: EDITOR_TITLES[part],
      messageIndex,
      text: makeText(text),
      original: text,
      saving: false,
    });
  }

  /** Every key goes to the inline editor while it is open. */
  textKey(s: TextEditorScreen, k: KeyPress): boolean {
    if (s.saving) return true;
    const r = textKey(s.text, k, this.host.rows("texteditor"));
    if (r.kind === "text") this.host.update<TextEditorScreen>(s.key, (cur) => ({ ...cur, text: r.text }));
    else if (r.kind === "save") void this.saveText(s);
    else if (r.kind === "cancel") {
      if (textValue(s.text) === s.original) this.host.close(s.key);
      else this.host.confirm("Discard the changes to the body?", () => this.host.close(s.key));
    }
    return true;
  }

  private async saveText(s: TextEditorScreen): Promise<void> {
    const value = textValue(s.text);
    if (value === s.original) {
      this.host.close(s.key);
      this.host.message(`${s.part} unchanged`);
      return;
    }
    this.host.update<TextEditorScreen>(s.key, (cur) => ({ ...cur, saving: true }));
    const body = new TextEncoder().encode(value);
    const r = await this.send(s.flowId, contentPatch(s.part, body, s.messageIndex), s.part);
    if (r.ok) this.host.close(s.key);
    else {
      this.host.update<TextEditorScreen>(s.key, (cur) => ({ ...cur, saving: false }));
      this.host.message(r.error, "error");
    }
  }
}
