import { test } from "node:test";
import assert from "node:assert/strict";
// Colour support is decided when chalk loads: 24-bit colour, forced before Ink is imported.
process.env["FORCE_COLOR"] = "3";
// chalk caps FORCE_COLOR by TERM (xterm: 16 colours) unless the terminal says it has true colour.
process.env["COLORTERM"] = "truecolor";
const { renderConsole, runAtPrompt, waitForText } = await import("./helpers/tui.tsx");
const { makeFlow } = await import("./helpers/fake-engine.ts");
const { UNICODE_GLYPHS } = await import("../../src/tui/format.ts");
const { paletteColors } = await import("../../src/tui/palettes.ts");
const { CONSOLE_PALETTES } = await import("../../src/console-choices.ts");

const colourTheme = { noColor: false, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") };

/** The SGR sequence that starts the status column's `text` in the frame. */
function colourBefore(frame: string, text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  return new RegExp(`(\x1b\\[[0-9;]*m)${text} `).exec(frame)?.[1];
}

test("set console_palette redraws the list in that palette's colours", async (t) => {
  const h = await renderConsole({ theme: colourTheme });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, status: 404, path: "/missing" })]);
  let f = await waitForText(h, "/missing");
  // dark: the terminal's own yellow for a 4xx.
  assert.match(colourBefore(f, "404") ?? "", /\x1b\[33m/);

  f = await runAtPrompt(h, "set console_palette lowlight");
  await waitForText(h, "/missing");
  f = h.lastFrame();
  assert.match(colourBefore(f, "404") ?? "", /\x1b\[35m/, "lowlight draws yellow as magenta, readable on white");

  f = await runAtPrompt(h, "set console_palette light");
  f = h.lastFrame();
  assert.match(colourBefore(f, "404") ?? "", /\x1b\[38;2;154;91;0m/, "light: a dark amber in 24-bit colour");

  f = await runAtPrompt(h, "set console_palette solarized_dark");
  f = h.lastFrame();
  assert.match(colourBefore(f, "404") ?? "", /\x1b\[38;2;181;137;0m/, "Solarized yellow, #b58900");
});

test("a palette that is not one of mitmproxy's six is refused by name", async (t) => {
  const h = await renderConsole({ theme: colourTheme });
  t.after(() => h.unmount());
  const f = await runAtPrompt(h, "set console_palette neon");
  // Cut to the status line, with where to read the rest: the event log has every name.
  assert.match(f, /option console_palette expects one of dark, light, lowdark, lowlight, solarized… \(more in event log\)/);
  assert.ok(h.ctrl.logs.all().some((e) => e.msg.includes("expects one of dark, light, lowdark, lowlight, solarized_dark, solarized_light")));
  for (const name of ["dark", "light", "lowdark", "lowlight", "solarized_dark", "solarized_light"]) assert.ok(CONSOLE_PALETTES.includes(name as never), name);
  assert.equal(h.ctrl.option("console_palette"), "dark");
});

test("under NO_COLOR no palette adds colour", async (t) => {
  const h = await renderConsole({ theme: { ...colourTheme, noColor: true } });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, status: 404, path: "/missing" })]);
  await waitForText(h, "/missing");
  const f = await runAtPrompt(h, "set console_palette solarized_light");
  assert.doesNotMatch(f, /\x1b\[3[0-9;]*m/);
});

test("console_palette_transparent off makes the palette's text and background the terminal's (OSC 10/11), follows the palette, and gives the terminal's own back", async (t) => {
  const { RESET_COLOURS } = await import("../../src/tui/edit/terminal.ts");
  const escapes: string[] = [];
  const h = await renderConsole({ theme: colourTheme, writeEscape: (e) => escapes.push(e) });
  t.after(() => h.unmount());
  const osc = () => escapes.filter((e) => e.includes("\x1b]1"));
  await runAtPrompt(h, "set console_palette solarized_dark");
  assert.deepEqual(osc(), [], "transparent by default, as mitmproxy's: nothing sent");
  assert.equal(h.ctrl.terminalRestore(), "");
  await runAtPrompt(h, "set console_palette_transparent false");
  assert.deepEqual(osc(), ["\x1b]10;rgb:83/94/96\x1b\\\x1b]11;rgb:00/2b/36\x1b\\"], "Solarized's base0 on base03");
  assert.equal(h.ctrl.terminalRestore(), RESET_COLOURS, "what the exit path writes");
  await runAtPrompt(h, "set console_palette solarized_light");
  assert.equal(osc().at(-1), "\x1b]10;rgb:65/7b/83\x1b\\\x1b]11;rgb:fd/f6/e3\x1b\\");
  await runAtPrompt(h, "set console_palette_transparent true");
  assert.equal(osc().at(-1), RESET_COLOURS);
  assert.equal(h.ctrl.terminalRestore(), "");
  assert.equal(osc().length, 3);
});

test("under NO_COLOR console_palette_transparent off changes no terminal colour", async (t) => {
  const escapes: string[] = [];
  const h = await renderConsole({ theme: { ...colourTheme, noColor: true }, writeEscape: (e) => escapes.push(e) });
  t.after(() => h.unmount());
  await runAtPrompt(h, "set console_palette_transparent false");
  assert.deepEqual(escapes.filter((e) => e.includes("\x1b]1")), []);
  assert.equal(h.ctrl.terminalRestore(), "");
});
