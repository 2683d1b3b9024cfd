/**
 * The flow list: only the rows in the window are rendered, each a memoized component whose props
 * are its summary (replaced, never mutated), whether it has the focus, and the shared column layout.
 */
import { memo, useMemo } from "react";
import { Box, Text } from "ink";
import type { FlowSummary } from "../../protocol.ts";
import { flowListCells, flowRowCells, rowLayout, type Cell, type RowLayout } from "../format.ts";
import type { FlowStore } from "../store.ts";
import { paint, useTheme, type Theme } from "../theme.ts";
import { styledCells } from "../styled-cells.ts";
import { useSyncExternalStore } from "react";

function RowLine({ cells, focused, theme }: { cells: Cell[]; focused: boolean; theme: Theme }) {
  const styled = styledCells(cells, theme);
  if (styled !== undefined) {
    return (
      <Box height={1} overflowY="hidden">
        <Text wrap="truncate-end" bold={focused}>
          {styled}
        </Text>
      </Box>
    );
  }
  return (
    <Box height={1} overflowY="hidden">
      <Text wrap="truncate-end" bold={focused}>
        {cells.map((c, i) => (
          <Text key={i} color={paint(theme, c.color)} bold={c.bold ?? false} dimColor={c.dim ?? false}>
            {c.text}
          </Text>
        ))}
      </Text>
    </Box>
  );
}

/** A flow on one line (table) or two (list; `lines` 2). */
export const FlowRow = memo(function FlowRow({ flow, focused, layout, theme, lines = 1 }: { flow: FlowSummary; focused: boolean; layout: RowLayout; theme: Theme; lines?: 1 | 2 }) {
  if (lines === 1) return <RowLine cells={flowRowCells(flow, focused, layout, theme.glyphs)} focused={focused} theme={theme} />;
  const [request, answer] = flowListCells(flow, focused, layout.width, theme.glyphs);
  return (
    <Box flexDirection="column" height={2} overflowY="hidden">
      <RowLine cells={request} focused={focused} theme={theme} />
      <RowLine cells={answer} focused={focused} theme={theme} />
    </Box>
  );
});

export function FlowList({ store, width, height, lines }: { store: FlowStore; width: number; height: number; lines: 1 | 2 }) {
  const theme = useTheme();
  // The store caches the window: a batch that changes nothing on screen returns the same object.
  const win = useSyncExternalStore(store.subscribe, store.window);
  const counts = useSyncExternalStore(store.subscribe, store.counts);
  const layout = useMemo(() => rowLayout(width), [width]);
  if (win.rows.length === 0) {
    // "No flows yet" over hidden flows read as if the proxy had seen nothing.
    const why = store.viewSettings.markedOnly ? "M shows all flows again" : "f changes the view filter";
    const text = counts.total === 0 ? "No flows yet. Point a client at the proxy; press ? for help." : `None of the ${counts.total} flows is shown: ${why}.`;
    return (
      <Box flexDirection="column" height={height}>
        <Text dimColor>{text}</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      {win.rows.map((f, i) => (
        <FlowRow key={f.id} flow={f} focused={win.top + i === win.focus} layout={layout} theme={theme} lines={lines} />
      ))}
    </Box>
  );
}
