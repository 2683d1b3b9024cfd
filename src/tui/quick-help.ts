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
}

interface Want {
  readonly command: string;
  readonly label: string;
  /** Reads only `intercepted`, `marked` and `modified`: the status bar remakes the line when those change. */
  readonly when?: (f: FlowSummary) => boolean;
}

const FLOW_LIST: readonly Want[] = [
  { command: "console.nav.select", label: "open" },
  { command: "flow.resume @focus", label: "resume", when: (f) => f.intercepted },
  { command: "flow.mark.toggle @focus", label: "mark", when: (f) => !f.marked },
  { command: "flow.mark.toggle @focus", label: "unmark", when: (f) => f.marked },
  { command: "replay.client @focus", label: "replay" },
  { command: "view.flows.remove @focus", label: "delete" },
  { command: "view.flows.duplicate @focus", label: "duplicate" },
  { command: "flow.revert @focus", label: "revert", when: (f) => f.modified },
];

const FLOW_VIEW: readonly Want[] = [
  { command: "console.nav.next", label: "next tab" },
  { command: "console.edit.focus", label: "edit" },
  { command: "flow.resume @focus", label: "resume", when: (f) => f.intercepted },
  { command: "replay.client @focus", label: "replay" },
  { command: "console.search", label: "search" },
  { command: "view.focus.next", label: "next flow" },
];

const NO_FLOWS: readonly Want[] = [
  { command: "console.command view.flows.load ", label: "load flows" },
  { command: "console.command view.flows.create get https://example.com/", label: "new flow" },
];

const PROXY: readonly Want[] = [
  { command: "console.view.help", label: "help" },
  { command: "console.view.pop", label: "back" },
  { command: "console.command", label: "command" },
  { command: "console.command.set view_filter", label: "filter" },
  { command: "console.command.set intercept", label: "intercept" },
  { command: "console.view.eventlog", label: "events" },
  { command: "console.view.options", label: "options" },
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
    if (key !== undefined) out.push({ key, label: w.command === "console.view.pop" && context === "flowlist" ? "quit" : w.label });
  }
  return out;
}
