import { test } from "node:test";
import assert from "node:assert/strict";
import { focusedLine, press, renderConsole, runAtPrompt, waitForText } from "./helpers/tui.tsx";
import { makeFlows } from "./helpers/fake-engine.ts";
import { parseMouse } from "../../src/tui/mouse.ts";
import { LEAVE_ALT, MOUSE_OFF, MOUSE_ON } from "../../src/tui/edit/terminal.ts";

const click = (x: number, y: number): string => `\x1b[<0;${x};${y}M\x1b[<0;${x};${y}m`;
const wheel = (down: boolean): string => `\x1b[<${down ? 65 : 64};10;5M`;

test("SGR mouse reports: wheel, press and release, with or without the ESC Ink strips", () => {
  assert.deepEqual(parseMouse("[<64;10;5M"), { kind: "wheel", up: true, x: 10, y: 5 });
  assert.deepEqual(parseMouse("\x1b[<65;1;2M"), { kind: "wheel", up: false, x: 1, y: 2 });
  assert.deepEqual(parseMouse("[<0;12;7M"), { kind: "press", button: 0, x: 12, y: 7 });
  assert.deepEqual(parseMouse("[<2;12;7m"), { kind: "release", button: 2, x: 12, y: 7 });
  // Shift held: still the left button; a drag and a sideways wheel are nothing to act on.
  assert.deepEqual(parseMouse("[<4;3;3M"), { kind: "press", button: 0, x: 3, y: 3 });
  assert.equal(parseMouse("[<32;3;3M")?.kind, "other");
  assert.equal(parseMouse("[<66;3;3M")?.kind, "other");
  assert.equal(parseMouse("j"), undefined);
  assert.equal(parseMouse("[<0;1M"), undefined);
});

test("console_mouse: asks the terminal for reports only when on; the wheel moves the focus, a click opens the flow", async () => {
  const escapes: string[] = [];
  const h = await renderConsole({ writeEscape: (e) => escapes.push(e) });
  try {
    h.engine.add(makeFlows(30, (i) => ({ seq: 1 + i, path: `/item/${1 + i}` })));
    await waitForText(h, "/item/1 ");
    assert.ok(!escapes.includes(MOUSE_ON), "off by default: the terminal keeps selecting text");

    await runAtPrompt(h, "set console_mouse true");
    assert.equal(escapes.at(-1), MOUSE_ON);
    await press(h, wheel(true));
    assert.match(focusedLine(h.lastFrame())!, /\/item\/4 /);
    await press(h, wheel(false));
    assert.match(focusedLine(h.lastFrame())!, /\/item\/1 /);

    // Row 6 from the top is the sixth flow: focused and opened.
    const opened = await press(h, click(20, 6));
    assert.match(opened, /GET https?:\/\/\S+\/item\/6 /);
    assert.match(opened, /Request/);
    // In the flow view the wheel scrolls and a click does nothing.
    await press(h, click(20, 3));
    assert.match(h.lastFrame(), /\/item\/6 /);
    await press(h, "q");
    assert.match(focusedLine(h.lastFrame())!, /\/item\/6 /);

    // Below the last flow: nothing happens. In the prompt the wheel is ignored (its arrows walk the history).
    h.engine.remove(makeFlows(30, (i) => ({ seq: 1 + i })).slice(10).map((f) => f.id));
    await waitForText(h, "/10]");
    await press(h, click(20, 15));
    assert.match(focusedLine(h.lastFrame())!, /\/item\/6 /);
    await press(h, ":");
    await press(h, wheel(true));
    assert.match(h.lastFrame(), /^: ?$/m);
    await press(h, "\x1b");

    await runAtPrompt(h, "set console_mouse false");
    assert.equal(escapes.at(-1), MOUSE_OFF);
    assert.equal(escapes.filter((e) => e === MOUSE_ON).length, 1);
  } finally {
    h.unmount();
  }
});

test("console_mouse with a split layout: a click or the wheel over the preview leaves the list's focus alone", async () => {
  const h = await renderConsole({ width: 100, height: 24 });
  try {
    h.engine.add(makeFlows(30, (i) => ({ seq: 1 + i, path: `/item/${1 + i}` })));
    await waitForText(h, "/item/1 ");
    await runAtPrompt(h, "set console_mouse true");
    await runAtPrompt(h, "set console_layout horizontal");
    await waitForText(h, /│/);
    // The list is the left half: x 70 is the preview.
    await press(h, click(70, 4));
    await press(h, `\x1b[<65;70;4M`);
    assert.match(focusedLine(h.lastFrame())!, /\/item\/1 /);
    // Over the list the wheel moves the focus, and a click on row 4 opens the fourth flow.
    await press(h, `\x1b[<65;10;4M`);
    assert.match(focusedLine(h.lastFrame())!, /\/item\/4 /);
    const opened = await press(h, click(10, 2));
    assert.match(opened, /^GET \S+\/item\/2 /m);
  } finally {
    h.unmount();
  }
});

test("console_mouse after the terminal comes back from an editor or pager: reporting is asked for again", async () => {
  const escapes: string[] = [];
  const h = await renderConsole({ writeEscape: (e) => escapes.push(e) });
  try {
    await runAtPrompt(h, "set console_mouse true");
    assert.deepEqual(escapes, [MOUSE_ON]);
    // The handover (and every exit) leaves the alternate screen with LEAVE_ALT, which turns reporting off; the handover then repaints.
    assert.ok(LEAVE_ALT.startsWith(MOUSE_OFF));
    h.ctrl.repaint();
    assert.deepEqual(escapes, [MOUSE_ON, MOUSE_ON]);
    await runAtPrompt(h, "set console_mouse false");
    h.ctrl.repaint();
    assert.deepEqual(escapes, [MOUSE_ON, MOUSE_ON, MOUSE_OFF, MOUSE_OFF]);
  } finally {
    h.unmount();
  }
});
