import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { render } from "ink-testing-library";
import { FlowRow } from "../../src/tui/components/flow-list.tsx";
import { UNICODE_GLYPHS, rowLayout } from "../../src/tui/format.ts";
import { paletteColors } from "../../src/tui/palettes.ts";
import { loadCellStyler, styledCells } from "../../src/tui/styled-cells.ts";
import type { Theme } from "../../src/tui/theme.ts";
import { makeFlow } from "./helpers/fake-engine.ts";

/** The chalk Ink styles with, forced to truecolour so the frames carry every SGR a terminal would get. */
async function inkChalk(): Promise<{ level: number }> {
  const entry = createRequire(import.meta.url).resolve("ink");
  return ((await import(pathToFileURL(createRequire(entry).resolve("chalk")).href)) as { default: { level: number } }).default;
}

const FLOWS = [
  makeFlow({ seq: 1, method: "GET", host: "api.example.com", path: "/v1/users?id=7", status: 200, contentType: "application/json", respSize: 2048, duration: 0.125 }),
  makeFlow({ seq: 2, method: "POST", host: "auth.example.org", path: "/login", status: 302, contentType: "text/html", respSize: 0, duration: 0.01 }),
  makeFlow({ seq: 3, method: "DELETE", host: "cdn.example.net", path: "/missing.png", status: 404, contentType: "text/plain", respSize: 10, intercepted: true }),
  makeFlow({ seq: 4, method: "GET", host: "down.example.com", path: "/", status: undefined, error: "connection refused", respSize: undefined, duration: undefined }),
];

function frames(theme: Theme): string[] {
  const layout = rowLayout(100);
  return FLOWS.flatMap((flow) =>
    [false, true].flatMap((focused) =>
      ([1, 2] as const).map((lines) => {
        const r = render(<FlowRow flow={flow} focused={focused} layout={layout} theme={theme} lines={lines} />);
        const frame = r.lastFrame() ?? "";
        r.unmount();
        return frame;
      }),
    ),
  );
}

test("a flow row drawn as one styled string paints the very bytes of its cells drawn as <Text>s, in colour and without", async () => {
  const chalk = await inkChalk();
  const level = chalk.level;
  chalk.level = 3;
  try {
    const themes: Theme[] = [
      { noColor: false, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") },
      { noColor: true, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") },
    ];
    const asTexts = themes.map(frames);
    assert.match(asTexts[0]!.join("\n"), /\x1b\[38;2;\d+;\d+;\d+m|\x1b\[3\dm/, "the coloured frames have colours to compare");
    assert.equal(await loadCellStyler(), true, "Ink's colorize or chalk moved: revisit src/tui/styled-cells.ts");
    assert.equal(styledCells([{ text: "x", bold: true }], themes[0]!), "\x1b[1mx\x1b[22m", "rows are drawn as one string now");
    const asString = themes.map(frames);
    assert.deepEqual(asString, asTexts);
  } finally {
    chalk.level = level;
  }
});
