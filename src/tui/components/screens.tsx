/** The secondary screens: help, event log, options, commands and key bindings. */
import type { ReactNode } from "react";
import { createContext, useContext, useSyncExternalStore } from "react";
import { Box, Text } from "ink";
import type { CommandInfo, LogLevel, OptionInfo } from "../../protocol.ts";
import { type Controller, type EventLogScreen, type ListScreen, type TextScreen } from "../controller.ts";
import { displayKey } from "../keys.ts";
import type { Binding } from "../keymap.ts";
import { FOOTER_HELP_LINES, OPTION_HELP_LINES } from "../layout.ts";
import { ASCII_GLYPHS, padEnd, sanitize, truncEnd, wrapColumns } from "../format.ts";
import { paint, useTheme } from "../theme.ts";
import { LinesView, MatchedText } from "./lines.tsx";
import { EditingText } from "./editors.tsx";

/** `console_layout_headers`: whether the screens draw their title row (the App provides it). */
export const TitlesContext = createContext(true);

function Title({ text, right }: { text: string; right?: string }) {
  if (!useContext(TitlesContext)) return null;
  return (
    <Box height={1} overflowY="hidden">
      <Text bold wrap="truncate-end">
        {text}
        {right ? <Text dimColor>{`  ${right}`}</Text> : null}
      </Text>
    </Box>
  );
}

export function HelpView({ screen, height, bodyRows }: { screen: TextScreen; height: number; bodyRows: number }) {
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <Title text={screen.title} right="q to go back, / to search" />
      <LinesView lines={screen.lines} scroll={screen.scroll} height={bodyRows} highlight={screen.highlight} match={screen.match} />
    </Box>
  );
}

const LEVEL_COLORS: Record<LogLevel, string | undefined> = { error: "red", warn: "yellow", alert: "magenta", info: undefined, debug: "gray" };

export function EventLogView({ ctrl, screen, height, bodyRows }: { ctrl: Controller; screen: EventLogScreen; height: number; bodyRows: number }) {
  const theme = useTheme();
  useSyncExternalStore(ctrl.logs.subscribe, ctrl.logs.getVersion);
  const all = ctrl.eventLogRows();
  const scroll = screen.follow ? Math.max(0, all.length - bodyRows) : Math.min(screen.scroll, Math.max(0, all.length - bodyRows));
  const rows = all.slice(scroll, scroll + bodyRows);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <Title text="Events" right={`${ctrl.eventLogEntries()} entries${screen.follow ? ", following" : ""}`} />
      <Box flexDirection="column" height={bodyRows} overflowY="hidden">
        {all.length === 0 ? <Text dimColor>No events yet.</Text> : null}
        {rows.map((r, i) => (
          <Box key={i} height={1} overflowY="hidden">
            <Text wrap="truncate-end" color={paint(theme, LEVEL_COLORS[r.level])} inverse={scroll + i === screen.highlight}>
              <MatchedText text={r.text} match={screen.match} current={scroll + i === screen.highlight} />
            </Text>
          </Box>
        ))}
      </Box>
    </Box>
  );
}

export function OptionsView({ screen, options, width, height, bodyRows }: { screen: ListScreen; options: readonly OptionInfo[]; width: number; height: number; bodyRows: number }) {
  const theme = useTheme();
  const nameW = Math.min(28, Math.max(8, ...options.map((o) => o.name.length)));
  const typeW = 12;
  const valueW = Math.max(8, width - nameW - typeW - 6);
  const focused = options[screen.focus];
  const rows = options.slice(screen.top, screen.top + bodyRows);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      {/* While a value is typed, the keys that matter are how to end it. */}
      <Title text="Options" right={screen.editing ? `${theme.glyphs.enter} set, esc cancel` : `${theme.glyphs.enter} edit or toggle, d reset, D reset all, q back`} />
      <Box flexDirection="column" height={bodyRows} overflowY="hidden">
        {rows.map((o, i) => {
          const isFocus = screen.top + i === screen.focus;
          const editing = isFocus && screen.editing?.name === o.name ? screen.editing : undefined;
          const changed = o.value !== o.default;
          return (
            <Box key={o.name} height={1} overflowY="hidden">
              <Text wrap="truncate-end" bold={isFocus}>
                <Text color={paint(theme, isFocus ? "cyan" : undefined)}>{isFocus ? ">>" : "  "}</Text>
                <Text color={paint(theme, changed ? "yellow" : undefined)}>{padEnd(o.name, nameW, theme.glyphs.ellipsis) + "  "}</Text>
                {editing ? <EditingText line={editing.line} width={valueW} /> : <Text>{padEnd(sanitize(o.value) || (o.type === "optional str" || o.type === "optional int" || o.type === "filter" ? "(none)" : ""), valueW, theme.glyphs.ellipsis)}</Text>}
                {editing ? null : <Text dimColor>{"  " + o.type}</Text>}
              </Text>
            </Box>
          );
        })}
      </Box>
      <HelpFooter width={width} help={focused?.help} detail={focused ? optionDetail(focused) : undefined} />
    </Box>
  );
}

/** The line under an option's help: its type (for a list, how its entries are written, which the value column does not show), default and choices. */
function optionDetail(o: OptionInfo): string {
  if (o.type === "str[]") return `type str[], entries separated by commas (\\, for a comma inside one), default ${o.default === "" ? "none" : o.default}`;
  return `type ${o.type}, default ${JSON.stringify(o.default)}${o.choices ? `, one of ${o.choices.join(", ")}` : ""}`;
}

/**
 * The focused option's or command's help under its list, wrapped between words (cut short only
 * past FOOTER_HELP_LINES lines), then its type or signature: many options say there how pryx
 * differs from mitmproxy, which a one-line pane cut off.
 */
function HelpFooter({ width, help, detail }: { width: number; help: string | undefined; detail: string | undefined }) {
  const theme = useTheme();
  const w = Math.max(1, width);
  const lines = help === undefined ? [] : wrapColumns(sanitize(help), w, w);
  const shown = lines.length > FOOTER_HELP_LINES ? [...lines.slice(0, FOOTER_HELP_LINES - 1), truncEnd(lines.slice(FOOTER_HELP_LINES - 1).join(" "), w, theme.glyphs.ellipsis)] : lines;
  return (
    <Box flexDirection="column" height={OPTION_HELP_LINES} overflowY="hidden">
      {help === undefined ? null : (
        <>
          <Text wrap="truncate-end" dimColor>
            {theme.glyphs.ruleH.repeat(w)}
          </Text>
          <Box flexDirection="column" height={FOOTER_HELP_LINES} overflowY="hidden">
            {shown.map((l, i) => (
              <Text key={i} wrap="truncate-end">
                {l}
              </Text>
            ))}
          </Box>
          <Text wrap="truncate-end" dimColor>
            {detail ?? ""}
          </Text>
        </>
      )}
    </Box>
  );
}

/** A titled, windowed list with a focus marker: the shape of the commands and key bindings screens. */
function FocusList<T>({ title, right, screen, items, itemKey, height, bodyRows, row }: {
  title: string;
  right: string;
  screen: ListScreen;
  items: readonly T[];
  itemKey: (item: T) => string;
  height: number;
  bodyRows: number;
  row: (item: T) => ReactNode;
}) {
  const theme = useTheme();
  const rows = items.slice(screen.top, screen.top + bodyRows);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <Title text={title} right={right} />
      <Box flexDirection="column" height={bodyRows} overflowY="hidden">
        {rows.map((item, i) => {
          const isFocus = screen.top + i === screen.focus;
          return (
            <Box key={itemKey(item)} height={1} overflowY="hidden">
              <Text wrap="truncate-end" bold={isFocus}>
                <Text color={paint(theme, isFocus ? "cyan" : undefined)}>{isFocus ? ">>" : "  "}</Text>
                {row(item)}
              </Text>
            </Box>
          );
        })}
      </Box>
    </Box>
  );
}

export function CommandsView({ screen, commands, width, height, bodyRows }: { screen: ListScreen; commands: readonly CommandInfo[]; width: number; height: number; bodyRows: number }) {
  const theme = useTheme();
  const nameW = Math.min(34, Math.max(8, ...commands.map((c) => c.name.length)));
  const focused = commands[screen.focus];
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <FocusList title="Command Reference" right={`${theme.glyphs.enter} to run, q back`} screen={screen} items={commands} itemKey={(c) => c.name} height={height - OPTION_HELP_LINES} bodyRows={bodyRows}
        row={(c) => (
          <>
            <Text color={paint(theme, "cyan")}>{padEnd(c.name, nameW, theme.glyphs.ellipsis) + "  "}</Text>
            <Text>{truncEnd(c.help || c.signature, Math.max(0, width - nameW - 4), theme.glyphs.ellipsis)}</Text>
          </>
        )}
      />
      <HelpFooter width={width} help={focused ? focused.help || focused.name : undefined} detail={focused?.signature} />
    </Box>
  );
}

export function KeybindingsView({ screen, bindings, width, height, bodyRows }: { screen: ListScreen; bindings: readonly Binding[]; width: number; height: number; bodyRows: number }) {
  const theme = useTheme();
  const ascii = theme.glyphs === ASCII_GLYPHS;
  const ellipsis = theme.glyphs.ellipsis;
  const focused = bindings[screen.focus];
  // Key, context and command first; the help takes what is left (the footer has it whole).
  const helpW = Math.max(0, width - 2 - 11 - 13 - 45);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <FocusList title="Key Bindings" right={`${theme.glyphs.enter} edit, a add, d unbind, x run, q back`} screen={screen} items={bindings} itemKey={(b) => `${b.context} ${b.key}`} height={height - OPTION_HELP_LINES} bodyRows={bodyRows}
        row={(b) => (
          <>
            <Text color={paint(theme, "cyan")}>{padEnd(displayKey(b.key, ascii), 10, ellipsis) + " "}</Text>
            <Text dimColor>{padEnd(b.context, 12, ellipsis) + " "}</Text>
            <Text>{padEnd(b.command, 44, ellipsis) + " "}</Text>
            <Text dimColor>{truncEnd(b.help, helpW, ellipsis)}</Text>
          </>
        )}
      />
      <HelpFooter width={width} help={focused ? focused.help || focused.command : undefined} detail={focused ? `${focused.context} ${displayKey(focused.key, ascii)}: ${focused.command}` : undefined} />
    </Box>
  );
}
