/** The flow view: the flow's line, the tabs, and the visible part of the current tab. */
import { escapeAscii } from "../detail-lines.ts";
import { Box, Text } from "ink";
import type { FlowSummary } from "../../protocol.ts";
import type { FlowViewScreen } from "../controller.ts";
import { STATUS_COLORS, answeredThenFailed, codeClass, columns, humanDuration, humanSize, padEnd, rowSize, sanitize, statusClass, truncEnd } from "../format.ts";
import { paint, useTheme } from "../theme.ts";
import { LinesView } from "./lines.tsx";

function FlowHeader({ flow, width }: { flow: FlowSummary; width: number }) {
  const theme = useTheme();
  const cls = statusClass(flow);
  // A DNS rcode goes by name only. "…" says an answer is coming: only while the flow is live, not
  // for a finished TCP flow nor a request made with view.flows.create or loaded without its response.
  // The reason phrase is the server's: escaped, or its control bytes would reach the terminal (an OSC 52 clipboard write).
  const code = flow.status === undefined ? undefined : flow.type === "dns" ? flow.reason : `${flow.status} ${escapeAscii(flow.reason ?? "")}`.trim();
  const pending = flow.live ? "…" : "";
  // A response that came before the error keeps its code ahead of it, in the code's own colour.
  const answered = answeredThenFailed(flow) && code ? `${code} ` : "";
  const status = flow.error ? `error: ${flow.error}` : flow.intercepted ? (code ? `${code} intercepted` : "intercepted") : (code ?? pending);
  // The URL names the flow, so a long error message gets at most half the line; the Response tab shows it whole.
  const half = Math.max(10, Math.floor(width / 2));
  const rest = truncEnd(`${status}  ${humanSize(rowSize(flow))}  ${humanDuration(flow.duration)}`.trimEnd(), Math.max(1, half - columns(answered)), theme.glyphs.ellipsis);
  const right = ` ${answered}${rest}`;
  const left = `${flow.method ? flow.method + " " : ""}${sanitize(flow.url || flow.host)}`;
  // Columns, not UTF-16 units: a URL with CJK or emoji (or an error naming one) would push the size and duration off the line.
  const room = Math.max(10, width - columns(right) - 1);
  return (
    <Box height={1} flexShrink={0} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold>{padEnd(left, room, theme.glyphs.ellipsis)}</Text>
        {answered ? (
          <Text color={paint(theme, STATUS_COLORS[codeClass(flow)])}>
            {" "}
            {answered}
          </Text>
        ) : null}
        <Text color={paint(theme, STATUS_COLORS[cls])} bold={flow.intercepted}>
          {answered ? "" : " "}
          {rest}
        </Text>
      </Text>
    </Box>
  );
}

// The flow's line and the tabs keep their rows when a chooser leaves the view only two: the body gives way, not they.
function TabBar({ screen }: { screen: FlowViewScreen }) {
  const theme = useTheme();
  return (
    <Box height={1} flexShrink={0} overflowY="hidden">
      <Text wrap="truncate-end">
        {screen.tabs.map((t, i) => {
          const active = i === screen.tab;
          return (
            <Text key={t.id} inverse={active} bold={active} color={active ? undefined : paint(theme, "gray")}>
              {active ? `[${t.title}]` : ` ${t.title} `}
            </Text>
          );
        })}
        {screen.loading ? <Text dimColor> loading…</Text> : screen.content?.rendering ? <Text dimColor> rendering…</Text> : null}
      </Text>
    </Box>
  );
}

export function FlowView({ screen, flow, width, height, bodyRows }: { screen: FlowViewScreen; flow: FlowSummary | undefined; width: number; height: number; bodyRows: number }) {
  const theme = useTheme();
  const shown = flow ?? screen.detail?.summary ?? screen.fetchedFor;
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      {shown ? <FlowHeader flow={shown} width={width} /> : <Text> </Text>}
      <TabBar screen={screen} />
      {screen.error ? (
        <Box height={bodyRows}>
          <Text color={paint(theme, "red")}>{screen.error}</Text>
        </Box>
      ) : screen.content ? (
        <LinesView lines={screen.content.lines} scroll={screen.scroll} height={bodyRows} highlight={screen.highlight} match={screen.match} />
      ) : (
        <Box height={bodyRows}>
          <Text dimColor>Loading…</Text>
        </Box>
      )}
    </Box>
  );
}
