/** The chooser overlay: a titled list where each choice has a one-key shortcut. */
import { Box, Text } from "ink";
import { CHOOSER_SHORTCUTS, type ChooserOverlay } from "../controller.ts";
import { calcTop } from "../window.ts";
import { paint, useTheme } from "../theme.ts";

export function Chooser({ overlay, height, width }: { overlay: ChooserOverlay; height: number; width: number }) {
  const theme = useTheme();
  const rows = Math.max(1, height - 3);
  const top = calcTop({ count: overlay.choices.length, height: rows, focus: overlay.focus, top: Math.max(0, overlay.focus - rows + 1) });
  const shown = overlay.choices.slice(top, top + rows);
  const count = overlay.choices.length;
  const g = theme.glyphs;
  // More choices than rows: say where the list stands and which way the rest is (the edit menu's last entries were out of sight, unannounced).
  const position = count > rows ? ` ${top > 0 ? g.up : ""}${top + rows < count ? g.down : ""} ${top + 1}-${top + shown.length} of ${count}` : "";
  return (
    <Box flexDirection="column" height={height} width={width} borderStyle={g.box} borderColor={paint(theme, "cyan")} paddingX={1}>
      <Text bold wrap="truncate-end">
        {overlay.title}
        <Text color={paint(theme, "yellow")}>{position}</Text> <Text dimColor>(key or {g.enter} to pick, esc to cancel)</Text>
      </Text>
      {shown.map((c, i) => {
        const idx = top + i;
        const key = CHOOSER_SHORTCUTS[idx];
        const focused = idx === overlay.focus;
        return (
          <Text key={c} wrap="truncate-end" inverse={focused}>
            <Text color={paint(theme, "yellow")} bold>
              {key ?? " "}
            </Text>
            {` ${c}${c === overlay.current ? " *" : ""}`}
          </Text>
        );
      })}
    </Box>
  );
}
