/** The two bottom lines: proxy state and counts, then the prompt, a question, or the last message. */
import { Box, Text } from "ink";
import { useMemo, useSyncExternalStore } from "react";
import { contextOf, type ConsoleState, type Controller, type Message, type PromptState } from "../controller.ts";
import { ASCII_GLYPHS, columns, sanitize, truncEnd } from "../format.ts";
import { displayKey } from "../keys.ts";
import { fitQuickHelp, quickHelp } from "../quick-help.ts";
import { charAt, visibleSlice } from "../line-edit.ts";
import { paint, useTheme } from "../theme.ts";

/**
 * Where the focus is, as mitmproxy's `[idx/total]`, so that a user can tell how far into a long
 * list they are; when a view filter or marked-only view hides flows, how many there are in all.
 */
export function countsText(c: { shown: number; total: number; focus: number }): string {
  const at = `${c.focus + 1}/${c.shown}`;
  return c.shown === c.total ? `[${at}]` : `[${at} of ${c.total}]`;
}

/** The state flags of the info line, in mitmproxy's order; exported for tests of the exact text. */
export function statusFlags(s: ConsoleState, counts: { shown: number; total: number; intercepted: number; focus: number }, view: { reversed: boolean; markedOnly: boolean; follow: boolean; order: string }, arrows: { up: string; down: string }): string[] {
  const out: string[] = [];
  out.push(`${view.reversed ? arrows.up : arrows.down}${view.markedOnly ? " M" : ""} ${countsText(counts)}`);
  if (counts.intercepted > 0) out.push(`[intercepted:${counts.intercepted}]`);
  // Options that change traffic, so that a forgotten rule is in sight (mitmproxy's flags).
  const opt = (name: string): string => s.options.get(name)?.value ?? "";
  // Counted from the entries, not the text: `{1,3}` in an ignore_hosts regex is one entry.
  const items = (name: string): number => s.options.get(name)?.items?.length ?? 0;
  if (opt("modify_headers")) out.push("[Headers]");
  if (opt("modify_body")) out.push("[body modifications]");
  if (opt("map_remote") || opt("map_local")) out.push("[maps]");
  if (opt("block_list")) out.push("[blocklist]");
  if (s.replay.client) out.push(`[cplayback:${s.replay.client}]`);
  if (s.replay.server) out.push(`[splayback:${s.replay.server}]`);
  if (items("ignore_hosts")) out.push(`[Ignore:${items("ignore_hosts")}]`);
  else if (items("allow_hosts")) out.push(`[Allow:${items("allow_hosts")}]`);
  if (items("tcp_hosts")) out.push(`[TCP:${items("tcp_hosts")}]`);
  const intercept = s.options.get("intercept")?.value ?? "";
  if (intercept) out.push(`[${s.options.get("intercept_active")?.value === "false" ? "X" : ""}i:${intercept}]`);
  if (s.filtering) out.push("[filtering…]");
  else if (s.viewFilter) out.push(`[f:${s.viewFilter}]`);
  else if (s.pausedViewFilter) out.push(`[f off:${s.pausedViewFilter}]`);
  // Sticky cookies and auth, by their flags' letters as mitmproxy shows them.
  if (opt("stickycookie")) out.push(`[t:${opt("stickycookie")}]`);
  if (opt("stickyauth")) out.push(`[u:${opt("stickyauth")}]`);
  // Every body shown in another view than auto picks: said, as mitmproxy says it, or a forgotten hex looks like a broken JSON view.
  const contentview = opt("console_default_contentview");
  if (contentview && contentview !== "auto") out.push(`[contentview:${contentview}]`);
  if (view.order !== "time") out.push(`[o:${view.order}]`);
  if (view.follow) out.push("[follow]");
  const switches = [
    opt("anticache") === "true" ? "anticache" : "",
    opt("anticomp") === "true" ? "anticomp" : "",
    // Recorded responses answer with their dates as recorded (mitmproxy's name for it).
    opt("server_replay_refresh") === "false" ? "norefresh" : "",
    opt("stream_large_bodies"),
  ].filter(Boolean);
  if (switches.length) out.push(`[${switches.join(":")}]`);
  // Only the default, a lone "regular", goes unmentioned: among several modes it counts like any other.
  if (s.modes.length === 1 && s.modes[0] !== "regular") out.push(`[${s.modes[0]}]`);
  else if (s.modes.length > 1) out.push(`[modes:${s.modes.length}]`);
  if (items("scripts")) out.push(`[scripts:${items("scripts")}]`);
  if (opt("save_stream_file")) out.push(`[W:${opt("save_stream_file")}]`);
  return out;
}

/** How short fitFlags cuts a flag (`[i:~u /api…]`): still enough to tell which filter it is. */
const FLAG_MIN_COLUMNS = 10;

/**
 * The flags cut to fit `room` columns as far as cutting them goes: the longest first (a long
 * intercept filter or file path), none below FLAG_MIN_COLUMNS, so that every flag after them
 * stays in sight (cutting the line's end hid the view filter behind a long intercept filter, and
 * the list then looked short for no reason). The first, where the focus is, is never cut. The
 * result can still be wider than `room`.
 */
export function fitFlags(flags: readonly string[], room: number, ellipsis: string): string {
  const widths = flags.map((f) => columns(f));
  let total = widths.reduce((n, w) => n + w, 0) + Math.max(0, flags.length - 1);
  // A flag with a value (`[i:…]`, `[W:…]`) can lose its end; a word (`[anticache]`) is whole or nothing.
  const cuttable = (i: number): boolean => i > 0 && flags[i]!.includes(":") && flags[i]!.endsWith("]") && widths[i]! > FLAG_MIN_COLUMNS;
  // A column at a time from the widest, so that long values end up cut to about the same width.
  while (total > room) {
    let widest = -1;
    for (let i = 1; i < flags.length; i++) if (cuttable(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]!--;
    total--;
  }
  // The closing bracket stays: a cut flag still reads as one.
  return flags.map((f, i) => (widths[i]! < columns(f) ? `${truncEnd(f.slice(0, -1), widths[i]! - 1, ellipsis)}]` : f)).join(" ");
}

/**
 * The info line's two sides in `width` columns: the flags, and where pryx listens at the right.
 * Flags that do not fit beside the address take its room: the filters explain what the list shows,
 * and the address is the one the user started pryx with.
 */
export function infoSides(flags: readonly string[], listen: string, width: number, ellipsis: string): { left: string; listen: string; room: number } {
  const room = Math.max(0, width - columns(listen) - 1);
  const beside = fitFlags(flags, room, ellipsis);
  if (columns(beside) <= room) return { left: beside, listen, room };
  return { left: truncEnd(fitFlags(flags, width, ellipsis), width, ellipsis), listen: "", room: width };
}

/** After a message whose whole text is in the event log. */
export const MORE_HINT = " (more in event log)";

/** A message in `width` columns: a long one is cut short, not its event-log hint, which is what tells the user where the rest is. */
export function messageLine(m: Message, width: number, ellipsis: string): string {
  // A message can quote what a peer sent (a client's SNI in a TLS warning): its control characters must not reach the terminal.
  const text = sanitize(m.text);
  if (!m.more && columns(text) <= width) return text;
  // Cut here rather than by Ink's truncation, which leaves a space before its ellipsis.
  if (!m.more && !m.logged) return truncEnd(text, width, ellipsis);
  // A one-line error cut short reads as the whole of it unless the hint says where the rest is.
  return truncEnd(text, Math.max(0, width - MORE_HINT.length), ellipsis) + MORE_HINT;
}

/** Between two completion candidates in the bar above the prompt. */
const CANDIDATE_GAP = "  ";

/**
 * The page of completion candidates that holds the current one, in `width` columns: the labels
 * before it, it, and those after it, with an ellipsis on the side where more pages are. Pages are
 * cut from the first candidate on, so Tab turns a page only when it steps past its end.
 */
export function candidatePage(labels: readonly string[], index: number, width: number, ellipsis: string): { before: string; current: string; after: string } {
  const lead = `${ellipsis} `;
  const trail = `${CANDIDATE_GAP}${ellipsis}`;
  // The same room on every page (markers or not), so that pages do not depend on themselves.
  const room = Math.max(1, width - columns(lead) - columns(trail));
  let start = 0;
  let end = 0;
  for (;;) {
    let used = 0;
    end = start;
    while (end < labels.length) {
      const add = (end > start ? CANDIDATE_GAP.length : 0) + columns(labels[end]!);
      if (end > start && used + add > room) break;
      used += add;
      end++;
    }
    if (index < end || end >= labels.length) break;
    start = end;
  }
  const page = labels.slice(start, end);
  const at = Math.min(Math.max(0, index - start), page.length - 1);
  const before = (start > 0 ? lead : "") + page.slice(0, at).map((l) => l + CANDIDATE_GAP).join("");
  const after = page.slice(at + 1).map((l) => CANDIDATE_GAP + l).join("") + (end < labels.length ? trail : "");
  return { before, current: page[at] ?? "", after };
}

function PromptLine({ prompt, width, hint }: { prompt: PromptState; width: number; hint: string }) {
  const room = Math.max(4, width - prompt.label.length);
  const { text, cursor } = visibleSlice(prompt.line, room);
  const before = text.slice(0, cursor);
  const at = charAt(text, cursor) || " ";
  const after = text.slice(cursor + charAt(text, cursor).length);
  // The arguments still to give, dimmed after the cursor, when the cursor is at the end.
  const shownHint = hint && cursor >= text.length ? hint : "";
  return (
    <Text wrap="truncate-end">
      <Text bold>{prompt.label}</Text>
      {before}
      <Text inverse>{at}</Text>
      {after}
      {shownHint ? <Text dimColor>{shownHint}</Text> : null}
    </Text>
  );
}

/** The keys of the current screen and the proxy's, from the keymap (see quick-help.ts). */
function QuickHelpLine({ ctrl, state }: { ctrl: Controller; state: ConsoleState }) {
  const theme = useTheme();
  const screen = state.stack[state.stack.length - 1]!;
  const focused = useSyncExternalStore(ctrl.store.subscribe, () => (screen.kind === "flowview" ? ctrl.store.get(screen.id) : ctrl.store.focused()));
  const ascii = theme.glyphs === ASCII_GLYPHS;
  const context = contextOf(screen);
  // Made again only when what it reads changes (the keymap, the screen, the flags its items depend
  // on), not at every repaint of the status bar.
  const items = useMemo(
    () => fitQuickHelp(quickHelp(ctrl.keymap, context, focused), state.width, (k) => columns(displayKey(k, ascii))),
    [ctrl.keymap, ctrl.keymap.version, context, focused === undefined, focused?.intercepted, focused?.marker, focused?.modified, state.width, ascii],
  );
  return (
    <Text wrap="truncate-end" dimColor>
      {items.map((it, i) => (
        <Text key={i}>
          {i ? "  " : ""}
          <Text bold>{displayKey(it.key, ascii)}</Text> {it.label}
        </Text>
      ))}
    </Text>
  );
}

/**
 * Where pryx listens, as much as leaves the flags (the filters that explain a short list) whole:
 * every address when they fit, else the first and how many more (the event log has them all).
 * `flagsColumns` is the flags' width on the terminal: a CJK filter takes 2 columns a character.
 */
export function listenText(listen: readonly string[], flagsColumns: number, width: number): string {
  if (listen.length === 0) return "not listening";
  const all = listen.join(", ");
  if (listen.length === 1 || flagsColumns + 1 + columns(all) <= width) return all;
  return `${listen[0]} +${listen.length - 1}`;
}

export function StatusBar({ ctrl, state, width }: { ctrl: Controller; state: ConsoleState; width: number }) {
  const theme = useTheme();
  const counts = useSyncExternalStore(ctrl.store.subscribe, ctrl.store.counts);
  const view = useSyncExternalStore(ctrl.store.subscribe, () => ctrl.store.viewSettings);
  const flagList = statusFlags(state, counts, view, theme.glyphs);
  const listen = listenText(state.listen, columns(flagList.join(" ")), width);
  const { left, listen: listenShown, room } = infoSides(flagList, listen, width, theme.glyphs.ellipsis);
  const p = state.prompt;
  const o = state.overlay;
  const m = state.message;
  // While Tab cycles, the bar shows the page with the current candidate, marked.
  const c = p?.completion && p.completion.applied === p.line ? p.completion : undefined;
  const bar = c ? candidatePage(c.labels, c.index, width, theme.glyphs.ellipsis) : undefined;
  let second;
  if (p) second = <PromptLine prompt={p} width={width} hint={p.kind === "command" ? ctrl.argumentHint(p.line.value) : ""} />;
  else if (o?.kind === "confirm")
    second = (
      <Text wrap="truncate-end" bold color={paint(theme, "yellow")}>
        {o.prompt} (y/n)
      </Text>
    );
  else if (m)
    second = (
      <Text wrap="truncate-end" color={paint(theme, m.level === "error" ? "red" : m.level === "warn" ? "yellow" : undefined)}>
        {messageLine(m, width, theme.glyphs.ellipsis)}
      </Text>
    );
  else if (ctrl.option("console_quickhelp_visible") !== "false") second = <QuickHelpLine ctrl={ctrl} state={state} />;
  else second = <Text> </Text>;
  return (
    <Box flexDirection="column" height={2}>
      <Box height={1} overflowY="hidden">
        {bar ? (
          <Text wrap="truncate-end" color={paint(theme, "cyan")}>
            {bar.before}
            <Text inverse bold>
              {bar.current}
            </Text>
            {bar.after}
          </Text>
        ) : p?.hint ? (
          <Text wrap="truncate-end" color={paint(theme, "cyan")}>
            {p.hint}
          </Text>
        ) : (
          <Text wrap="truncate-end" inverse>
            {`${left}${" ".repeat(Math.max(0, room - columns(left)))}${listenShown ? ` ${listenShown}` : ""}`}
          </Text>
        )}
      </Box>
      <Box height={1} overflowY="hidden">
        {second}
      </Box>
    </Box>
  );
}
