/**
 * The quick help line under the status bar (mitmproxy's quickhelp, toggled with `H`): what the
 * keys of the current screen do to the focused flow, then the proxy-wide ones. Every key shown
 * is looked up in the keymap by its command, so a user's rebinding shows, and an unbound
 * command is left out rather than shown with a key that does not do it.
 */
import type { FlowSummary } from "../protocol.ts";
import type { Context, Keymap } from "./keymap.ts";

export interface QuickHelpItem {
  readonly key: string;
  readonly label: string;
  /** What is left out first when the line is too narrow: the lowest. */
  readonly keep: number;
}

interface Want {
  readonly command: string;
  readonly label: string;
  readonly keep: number;
  /** Reads only `intercepted`, `marker` and `modified`: the status bar remakes the line when those change. */
  readonly when?: (f: FlowSummary) => boolean;
}

const FLOW_LIST: readonly Want[] = [
  { command: "console.nav.select", label: "open", keep: 10 },
  { command: "flow.resume @focus", label: "resume", when: (f) => f.intercepted, keep: 10 },
  { command: "flow.mark.toggle @focus", label: "mark", when: (f) => f.marker === "", keep: 6 },
  { command: "flow.mark.toggle @focus", label: "unmark", when: (f) => f.marker !== "", keep: 6 },
  { command: "replay.client @focus", label: "replay", keep: 5 },
  { command: "view.flows.remove @focus", label: "delete", keep: 4 },
  { command: "view.flows.duplicate @focus", label: "duplicate", keep: 2 },
  { command: "flow.revert @focus", label: "revert", when: (f) => f.modified, keep: 5 },
];

const FLOW_VIEW: readonly Want[] = [
  { command: "console.nav.next", label: "next tab", keep: 9 },
  { command: "console.edit.focus", label: "edit", keep: 9 },
  { command: "flow.resume @focus", label: "resume", when: (f) => f.intercepted, keep: 10 },
  { command: "replay.client @focus", label: "replay", keep: 5 },
  { command: "console.search", label: "search", keep: 6 },
  { command: "view.focus.next", label: "next flow", keep: 4 },
];

const NO_FLOWS: readonly Want[] = [
  { command: "console.command view.flows.load ", label: "load flows", keep: 8 },
  { command: "console.command view.flows.create get https://example.com/", label: "new flow", keep: 7 },
];

const PROXY: readonly Want[] = [
  { command: "console.view.help", label: "help", keep: 10 },
  { command: "console.view.pop", label: "back", keep: 9 },
  { command: "console.command", label: "command", keep: 8 },
  { command: "console.command.set view_filter", label: "filter", keep: 8 },
  { command: "console.command.set intercept", label: "intercept", keep: 8 },
  { command: "console.view.eventlog", label: "events", keep: 3 },
  { command: "console.view.options", label: "options", keep: 3 },
];

/** The items for a screen whose keymap context is `context`, with `focused` the flow the keys act on. */
export function quickHelp(keymap: Keymap, context: Context, focused: FlowSummary | undefined): QuickHelpItem[] {
  const contexts: Context[] = context === "global" ? ["global"] : [context, "global"];
  const flowItems = context === "flowlist" ? (focused ? FLOW_LIST : NO_FLOWS) : context === "flowview" && focused ? FLOW_VIEW : [];
  const out: QuickHelpItem[] = [];
  for (const w of [...flowItems, ...PROXY]) {
    if (w.when && !(focused && w.when(focused))) continue;
    // A key bound in global may be taken by the screen's own binding (`?` closes help).
    const key = keymap.keysFor(w.command, contexts).find((k) => keymap.resolve(contexts, k)?.command === w.command);
    // The list's `q` quits (after asking); elsewhere it goes back.
    if (key !== undefined) out.push({ key, label: w.command === "console.view.pop" && context === "flowlist" ? "quit" : w.label, keep: w.keep });
  }
  return out;
}

/**
 * The items that fit `width` columns (each `key label`, two spaces apart), in their order: the
 * least kept go first, so at 80 columns the line still says where help, the filter and the
 * intercept are, rather than cutting off after the flow's keys.
 */
export function fitQuickHelp(items: readonly QuickHelpItem[], width: number, keyWidth: (key: string) => number): QuickHelpItem[] {
  const length = (list: readonly QuickHelpItem[]): number => list.reduce((n, it, i) => n + (i ? 2 : 0) + keyWidth(it.key) + 1 + it.label.length, 0);
  const kept = [...items];
  while (kept.length > 1 && length(kept) > width) {
    let drop = 0;
    // The least kept; of those, the last.
    kept.forEach((it, i) => {
      if (it.keep <= (kept[drop] as QuickHelpItem).keep) drop = i;
    });
    kept.splice(drop, 1);
  }
  return kept;
}
