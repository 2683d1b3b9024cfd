/** The editor screens: the grid editor (headers, query, form) and the inline body editor. */
import { Box, Text } from "ink";
import { useMemo } from "react";
import type { FlowSummary } from "../../protocol.ts";
import type { GridEditorScreen, TextEditorScreen } from "../edit/screens.ts";
import type { Row } from "../edit/grid.ts";
import { columns, padEnd, sanitize, truncEnd } from "../format.ts";
import { charAt, visibleSlice, type LineState } from "../line-edit.ts";
import { paint, useTheme } from "../theme.ts";

function TitleLine({ title, flow, hint, width }: { title: string; flow: FlowSummary | undefined; hint: string; width: number }) {
  const what = flow ? ` ${flow.method} ${sanitize(flow.url)}` : "";
  const room = Math.max(0, width - title.length - hint.length - 2);
  return (
    <Box height={1} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold>{title}</Text>
        <Text dimColor>{padEnd(truncEnd(what, room), room)}</Text>
        <Text dimColor>{`  ${hint}`}</Text>
      </Text>
    </Box>
  );
}

/**
 * A line being edited, scrolled so the cursor shows, the cursor drawn inverse. Filled to `width`
 * in columns, and the cursor on a whole character: a CJK value counted in UTF-16 units pushed the
 * cell past its column and the row off the screen, and an emoji under the cursor was half drawn.
 */
export function EditingText({ line, width }: { line: LineState; width: number }) {
  const { text, cursor } = visibleSlice(line, width);
  const shown = sanitizeSameWidth(text);
  const before = shown.slice(0, cursor);
  const at = charAt(shown, cursor);
  const after = shown.slice(cursor + at.length);
  return (
    <Text>
      {before}
      <Text inverse>{at || " "}</Text>
      {padEnd(after, Math.max(0, width - columns(before) - columns(at || " ")), "")}
    </Text>
  );
}

/** Control characters as one visible glyph each, so columns and the cursor stay where they are. */
function sanitizeSameWidth(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\t" ? "→" : c === "\r" ? "␍" : "·"));
}

/**
 * The columns of the widest key, its heading included. In columns: a CJK key measured in UTF-16
 * units got half the room it needs, and was cut. A loop, not Math.max(...keys): a form of 200,000
 * fields spread as arguments overflowed the stack, and the grid did not open.
 */
function widestKeyColumns(heading: string, rows: readonly Row[]): number {
  let widest = columns(heading);
  for (const r of rows) widest = Math.max(widest, columns(sanitize(r[0] ?? "")));
  return widest;
}

export function GridEditorView({ screen, flow, width, height, bodyRows }: { screen: GridEditorScreen; flow: FlowSummary | undefined; width: number; height: number; bodyRows: number }) {
  const theme = useTheme();
  const g = screen.grid;
  // Measured again only when the cells change, not at every key that moves or types in one.
  const widestKey = useMemo(() => widestKeyColumns(g.columns[0]!, g.rows), [g.columns, g.rows]);
  const keyW = Math.max(8, Math.min(Math.floor(width * 0.35), widestKey + 2));
  const valueW = Math.max(8, width - keyW - 4);
  const widths = [keyW, valueW];
  const enter = theme.glyphs.enter;
  const hint = screen.saving ? `saving${theme.glyphs.ellipsis}` : g.editing ? `${enter}/esc done  tab next cell` : `a add  A insert  d delete  ${enter} edit  q save & back`;
  const rows = g.rows.slice(g.top, g.top + bodyRows);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <TitleLine title={screen.title} flow={flow} hint={hint} width={width} />
      <Box height={1} overflowY="hidden">
        <Text wrap="truncate-end" bold color={paint(theme, "cyan")}>
          {"   " + g.columns.map((c, i) => padEnd(c, widths[i] ?? valueW, theme.glyphs.ellipsis)).join(" ")}
        </Text>
      </Box>
      <Box flexDirection="column" height={bodyRows} overflowY="hidden">
        {g.rows.length === 0 ? <Text dimColor>No values - you should add some. Press ? for help.</Text> : null}
        {rows.map((r, i) => {
          const idx = g.top + i;
          const focusRow = idx === g.row;
          return (
            <Box key={idx} height={1} overflowY="hidden">
              <Text wrap="truncate-end">
                <Text bold color={paint(theme, "cyan")}>
                  {focusRow ? ">> " : "   "}
                </Text>
                {g.columns.map((_, j) => {
                  const w = widths[j] ?? valueW;
                  const focusCell = focusRow && j === g.col;
                  const sep = j < g.columns.length - 1 ? " " : "";
                  if (focusCell && g.editing) {
                    return (
                      <Text key={j}>
                        <EditingText line={g.editing} width={w} />
                        {sep}
                      </Text>
                    );
                  }
                  return (
                    <Text key={j}>
                      <Text inverse={focusCell} bold={focusRow} color={paint(theme, j === 0 ? "cyan" : undefined)}>
                        {padEnd(sanitize(r[j] ?? ""), w, theme.glyphs.ellipsis)}
                      </Text>
                      {sep}
                    </Text>
                  );
                })}
              </Text>
            </Box>
          );
        })}
      </Box>
    </Box>
  );
}

export function TextEditorView({ screen, flow, width, height, bodyRows }: { screen: TextEditorScreen; flow: FlowSummary | undefined; width: number; height: number; bodyRows: number }) {
  const t = screen.text;
  const hint = screen.saving ? "saving…" : `ctrl-s save  esc cancel  ${t.row + 1}:${t.col + 1}`;
  const lines = t.lines.slice(t.top, t.top + bodyRows);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      <TitleLine title={`${screen.title} (inline)`} flow={flow} hint={hint} width={width} />
      <Box flexDirection="column" height={bodyRows} overflowY="hidden">
        {lines.map((l, i) => {
          const idx = t.top + i;
          return (
            <Box key={idx} height={1} overflowY="hidden">
              {idx === t.row ? (
                <EditingText line={{ value: l, cursor: t.col }} width={width} />
              ) : (
                <Text wrap="truncate-end">{truncEnd(sanitizeSameWidth(l), width)}</Text>
              )}
            </Box>
          );
        })}
      </Box>
    </Box>
  );
}
