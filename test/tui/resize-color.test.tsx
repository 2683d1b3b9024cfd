import { test } from "node:test";
import assert from "node:assert/strict";
// Colour support is decided when chalk loads: force it before Ink is imported, so colours show in frames.
process.env["FORCE_COLOR"] = "1";
const { render } = await import("ink-testing-library");
const { FlowRow } = await import("../../src/tui/components/flow-list.tsx");
const { rowLayout, UNICODE_GLYPHS } = await import("../../src/tui/format.ts");
const { paletteColors } = await import("../../src/tui/palettes.ts");
const { makeFlow, makeFlows } = await import("./helpers/fake-engine.ts");
const { renderConsole, waitForText, until, press, runAtPrompt } = await import("./helpers/tui.tsx");
const { LinesView } = await import("../../src/tui/components/lines.tsx");

test("rows are coloured by status class, and not at all under NO_COLOR", () => {
  const paintRow = (status: number, noColor: boolean) => {
    const r = render(<FlowRow flow={makeFlow({ status })} focused={false} layout={rowLayout(100)} theme={{ noColor, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") }} />);
    const f = r.lastFrame() ?? "";
    r.unmount();
    return f;
  };
  assert.match(paintRow(200, false), /\x1b\[32m200/);
  assert.match(paintRow(404, false), /\x1b\[33m404/);
  assert.match(paintRow(502, false), /\x1b\[31m502/);
  const plain = paintRow(502, true);
  assert.doesNotMatch(plain, /\x1b\[3\dm/);
  assert.match(plain, /502/);
});

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

test("the console takes its size from the terminal and redraws on resize", async () => {
  const h0 = await renderConsole({ terminalSize: true });
  // This file forces colours on; measure what the user sees.
  const h = { ...h0, lastFrame: () => plain(h0.lastFrame()) };
  try {
    h.engine.add(makeFlows(60, (i) => ({ seq: 1 + i, path: `/r/${1 + i}` })));
    let f = await waitForText(h, "/60]");
    // The fake stdout has no rows: 24 is assumed.
    assert.equal(f.split("\n").length, 24);
    assert.ok(f.split("\n").every((l) => l.length <= 100), f);
    Object.defineProperty(h.stdout, "columns", { value: 70, configurable: true });
    Object.defineProperty(h.stdout, "rows", { value: 15, configurable: true });
    h.stdout.emit("resize");
    // Every row of a real terminal (see useTerminalSize).
    assert.ok(await until(() => h.lastFrame().split("\n").length === 15), h.lastFrame());
    f = h.lastFrame();
    assert.ok(f.split("\n").every((l) => l.length <= 70), f);
    assert.match(f, /\/60\]/);
    h.stdin.write("G");
    assert.ok(await until(() => /^>>.*\/r\/60 /m.test(h.lastFrame())), h.lastFrame());
  } finally {
    h.unmount();
  }
});

test("help and the data viewer opened wide are laid out again for a narrower terminal: commands on rows of their own, long lines wrapped, not cut", async () => {
  const h0 = await renderConsole({ terminalSize: true });
  const h = { ...h0, lastFrame: () => plain(h0.lastFrame()) };
  const resize = (columns: number) => {
    Object.defineProperty(h.stdout, "columns", { value: columns, configurable: true });
    h.stdout.emit("resize");
  };
  try {
    resize(120);
    let f = await press(h, "?");
    // The key column is as wide as the widest key of both sections (the global shift-Tab).
    assert.match(f, /^ {2}A {10}Resume all intercepted flows +flow\.resume @all$/m, "three columns when they fit");
    resize(50);
    f = await waitForText(h, /^ {13}flow\.resume @all$/m);
    assert.ok(f.split("\n").every((l) => l.length <= 50), f);
    assert.doesNotMatch(f, /…$/m, "no row cut short");
    await press(h, "q");
    resize(120);
    h.engine.onCommand = () => `${"word ".repeat(30)}end`;
    await runAtPrompt(h, "some.command");
    f = await waitForText(h, "Data viewer");
    resize(40);
    f = await waitForText(h, /^word word word word word word word word$/m);
    assert.match(f, /^word word word word word word end$/m, "wrapped again at 40 columns");
  } finally {
    h.unmount();
  }
});

test("every match of the search term on screen is marked where it is: inverse, and on the current hit's row (inverse already) underlined and bold", () => {
  const lines = [[{ text: "Host: api.example.com" }], [{ text: "Accept: */*" }], [{ text: "X-Example", style: "key" as const }, { text: ": EXAMPLE and example" }]];
  const r = render(<LinesView lines={lines} scroll={0} height={3} highlight={0} match="example" />);
  const [current, plainRow, other] = (r.lastFrame() ?? "").split("\n");
  r.unmount();
  assert.match(current!, /^\x1b\[7mHost: api\.(\x1b\[(4|1)m){2}example\x1b\[22m\x1b\[24m\.com\x1b\[27m$/, JSON.stringify(current));
  assert.equal(plainRow, "Accept: */*");
  // Case as the search ignores it, inside a styled segment and across two: each match on its own.
  assert.equal((other!.match(/\x1b\[7m/g) ?? []).length, 3, JSON.stringify(other));
  assert.match(other!, /\x1b\[7mExample\x1b\[27m: \x1b\[7mEXAMPLE\x1b\[27m and \x1b\[7mexample\x1b\[27m$/);
});
