/** Paints content-view lines (segments with a style) in Ink, one terminal row each, cut to the width. */
import { memo } from "react";
import { Box, Text } from "ink";
import { markMatches, type Line, type LineList, type MarkedSegment, type Segment } from "../contentviews/index.ts";
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

/**
 * The matches of the search term in a row: inverse, or on the row of the current hit (inverse
 * itself) underlined and bold, so each one is seen where it is, not just its line.
 */
function MatchedSegments({ marked, current, theme }: { marked: readonly MarkedSegment[]; current: boolean; theme: Theme }) {
  return (
    <>
      {marked.map(({ seg, match }, i) =>
        match ? (
          <Text key={i} inverse={!current} underline={current} bold={current}>
            {seg.text}
          </Text>
        ) : (
          <SegmentText key={i} seg={seg} theme={theme} />
        ),
      )}
    </>
  );
}

/** Plain text with the search term's matches marked, as a content line's are (the event log's rows). */
export function MatchedText({ text, match, current }: { text: string; match: string | undefined; current: boolean }) {
  const theme = useTheme();
  const marked = match ? markMatches([{ text }], match) : undefined;
  return marked ? <MatchedSegments marked={marked} current={current} theme={theme} /> : <>{text}</>;
}

/** Lines are replaced, never mutated, so memo on identity skips rows that did not change while scrolling. */
export const LineRow = memo(function LineRow({ line, highlight, match }: { line: Line; highlight: boolean; match?: string | undefined }) {
  const theme = useTheme();
  const marked = match ? markMatches(line, match) : undefined;
  return (
    <Box height={1} overflowY="hidden">
      <Text wrap="truncate-end" inverse={highlight}>
        {line.length === 0 ? " " : marked ? <MatchedSegments marked={marked} current={highlight} theme={theme} /> : line.map((seg, i) => <SegmentText key={i} seg={seg} theme={theme} />)}
      </Text>
    </Box>
  );
});

/** The visible slice of a long list of lines, padded to `height` rows so the status bar stays put; `match`, the search term to mark. */
export function LinesView({ lines, scroll, height, highlight, match }: { lines: LineList; scroll: number; height: number; highlight?: number | undefined; match?: string | undefined }) {
  const end = Math.min(lines.length, scroll + height);
  const rows = [];
  for (let i = scroll; i < end; i++) rows.push(<LineRow key={i - scroll} line={lines.at(i)!} highlight={i === highlight} match={match} />);
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      {rows}
    </Box>
  );
}
