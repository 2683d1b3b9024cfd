/** Paints content-view lines (segments with a style) in Ink, one terminal row each, cut to the width. */
import { memo } from "react";
import { Box, Text } from "ink";
import type { Line, Segment } from "../contentviews/index.ts";
import { paint, useTheme, type Theme } from "../theme.ts";

type Style = NonNullable<Segment["style"]>;

const STYLE_COLORS: Record<Style, string | undefined> = {
  key: "cyan",
  string: "green",
  number: "yellow",
  boolean: "magenta",
  null: "magenta",
  punct: undefined,
  offset: "gray",
  dim: undefined,
  heading: undefined,
  error: "red",
};

function SegmentText({ seg, theme }: { seg: Segment; theme: Theme }) {
  const style = seg.style;
  return (
    <Text color={paint(theme, style ? STYLE_COLORS[style] : undefined)} bold={style === "heading" || style === "error"} dimColor={style === "dim" || style === "offset"}>
      {seg.text}
    </Text>
  );
}

/** Lines are replaced, never mutated, so memo on identity skips rows that did not change while scrolling. */
export const LineRow = memo(function LineRow({ line, highlight }: { line: Line; highlight: boolean }) {
  const theme = useTheme();
  return (
    <Box height={1} overflowY="hidden">
      <Text wrap="truncate-end" inverse={highlight}>
        {line.length === 0 ? " " : line.map((seg, i) => <SegmentText key={i} seg={seg} theme={theme} />)}
      </Text>
    </Box>
  );
});

/** The visible slice of a long list of lines, padded to `height` rows so the status bar stays put. */
export function LinesView({ lines, scroll, height, highlight }: { lines: readonly Line[]; scroll: number; height: number; highlight?: number | undefined }) {
  const end = Math.min(lines.length, scroll + height);
  const rows = [];
  for (let i = scroll; i < end; i++) rows.push(<LineRow key={i - scroll} line={lines[i]!} highlight={i === highlight} />);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      {rows}
    </Box>
  );
}
