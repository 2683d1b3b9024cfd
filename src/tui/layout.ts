/**
 * How the screen's rows are shared out. The controller needs the same numbers as the components
 * (a page down moves by the rows actually shown), so both compute them here.
 */
import { CONSOLE_LAYOUTS } from "../console-choices.ts";

/** The status line and the prompt/message line. */
export const STATUS_LINES = 2;
/** The option help pane under the options list. */
/** Under the options and commands lists: a rule, the focused item's help wrapped on up to four lines, and its type or signature. */
export const FOOTER_HELP_LINES = 4;
export const OPTION_HELP_LINES = FOOTER_HELP_LINES + 2;

export type ScreenKind = "flowlist" | "flowview" | "help" | "options" | "eventlog" | "commands" | "keybindings" | "grideditor" | "texteditor";

/** Rows of the screen a chooser leaves above it: the focused flow's row, or the flow view's line and tabs, say what the choice is for. */
const CHOOSER_CONTEXT_ROWS = 2;

/**
 * Rows of a chooser overlay (border, title, choices), or 0 without one. As tall as its choices
 * where the screen has the rows, as mitmproxy's overlay is: capped at half the screen, the edit
 * menu's 17 parts showed 9 at 80x24, the rest to scroll to.
 */
export function overlayHeight(choices: number | undefined, height: number): number {
  if (choices === undefined) return 0;
  const max = Math.max(1, height - STATUS_LINES - CHOOSER_CONTEXT_ROWS - 3);
  return Math.min(choices, max) + 3;
}

/** Rows for the current screen, above any overlay and the status bar. */
export function mainHeight(height: number, overlayChoices: number | undefined): number {
  return Math.max(1, height - STATUS_LINES - overlayHeight(overlayChoices, height));
}

/**
 * Rows the screen scrolls: its main area less its own title or header lines. `titles`:
 * mitmproxy's `console_layout_headers`, whether the help, event log, options, commands and key
 * bindings screens spend a row on their title.
 */
export function bodyHeight(kind: ScreenKind, main: number, titles = true): number {
  const title = titles ? 1 : 0;
  switch (kind) {
    case "flowlist":
      return Math.max(1, main);
    case "flowview":
      return Math.max(1, main - 2);
    case "grideditor":
      // The title and the column headings.
      return Math.max(1, main - 2);
    case "texteditor":
      return Math.max(1, main - 1);
    case "options":
    case "commands":
    case "keybindings":
      return Math.max(1, main - title - OPTION_HELP_LINES);
    case "help":
    case "eventlog":
      return Math.max(1, main - title);
  }
}

/** mitmproxy's `console_layout`: the flow list alone, or beside a preview of the focused flow. */
export const LAYOUTS = CONSOLE_LAYOUTS;
export type ConsoleLayout = (typeof LAYOUTS)[number];

export const isLayout = (v: string | undefined): v is ConsoleLayout => (LAYOUTS as readonly string[]).includes(v ?? "");

export interface Pane {
  width: number;
  height: number;
}

/**
 * The flow list's pane and, split, the preview's: vertical stacks them (the list on top),
 * horizontal puts them side by side, as mitmproxy's Pile and Columns do.
 */
export function splitPanes(layout: ConsoleLayout, width: number, main: number): { list: Pane; preview: Pane | undefined } {
  if (layout === "vertical" && main >= 6) {
    const top = Math.ceil(main / 2);
    return { list: { width, height: top }, preview: { width, height: main - top } };
  }
  if (layout === "horizontal" && width >= 40) {
    const left = Math.ceil(width / 2);
    return { list: { width: left, height: main }, preview: { width: width - left, height: main } };
  }
  return { list: { width, height: main }, preview: undefined };
}
