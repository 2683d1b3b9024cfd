import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, defaultKeymap, press, renderConsole, runAtPrompt, until, waitForText } from "./helpers/tui.tsx";
import { makeFlow } from "./helpers/fake-engine.ts";
import { Keymap, parseBindings } from "../../src/tui/keymap.ts";

const lastLine = (frame: string): string => frame.split("\n").at(-1) ?? "";

test("the quick help line shows the keys of the screen and the focused flow, then the proxy's", async (t) => {
  const h = await renderConsole({ width: 120 });
  t.after(() => h.unmount());
  assert.match(lastLine(h.lastFrame()), /^L load flows {2}n new flow {2}\? help {2}q quit {2}: command {2}f filter/, "no flows yet: how to get some");
  h.engine.add([makeFlow({ seq: 1, path: "/one" }), makeFlow({ seq: 2, path: "/two", marker: ":default:", intercepted: true })]);
  let f = await waitForText(h, "/two");
  assert.match(lastLine(f), /^⏎ open {2}m mark {2}r replay {2}d delete {2}D duplicate {2}\? help {2}q quit/);
  f = await press(h, "j");
  assert.match(lastLine(f), /^⏎ open {2}a resume {2}m unmark {2}r replay/, "a paused, marked flow: resume and unmark");
  f = await press(h, "k");
  f = await press(h, KEY.enter);
  f = await waitForText(h, /Tab next tab/);
  assert.match(lastLine(f), /^Tab next tab {2}e edit {2}r replay {2}\/ search {2}␣ next flow {2}\? help {2}q back/);
  f = await press(h, "?");
  f = await waitForText(h, /^\? back/m);
  assert.doesNotMatch(lastLine(f), /\? help/, "in help, ? closes help: the line says so");
});

test("H hides the line and shows it again; a rebound key shows as bound", async (t) => {
  const defaults = defaultKeymap().all();
  const user = parseBindings([{ key: "ctrl k", context: "flowlist", command: "view.flows.remove @focus", help: "Delete" }, { key: "d", context: "flowlist", command: "console.nav.down" }], "user.json", () => true);
  const h = await renderConsole({ width: 120, keymap: new Keymap([...defaults, ...user]), messageMs: 150 });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, path: "/one" })]);
  let f = await waitForText(h, "/one");
  assert.match(lastLine(f), /ctrl-k delete/);
  assert.doesNotMatch(lastLine(f), /\bd delete/);
  f = await press(h, "H");
  assert.equal(lastLine(f), "console_quickhelp_visible = false");
  assert.ok(await until(() => lastLine(h.lastFrame()).trim() === "", 2000), "once the message has gone, the line stays empty");
  f = await runAtPrompt(h, "set console_quickhelp_visible true");
  await waitForText(h, /⏎ open/);
});

test("at 80 columns the line leaves out its least needed keys, not the proxy's: help, quit, command, filter and intercept stay", async (t) => {
  const h = await renderConsole({ width: 80 });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, path: "/one" })]);
  const line = lastLine(await waitForText(h, "/one"));
  assert.ok(line.length <= 80, line);
  assert.doesNotMatch(line, /…/, "nothing cut off in the middle of a key");
  for (const shown of [/⏎ open/, /m mark/, /\? help/, /q quit/, /: command/, /f filter/, /i intercept/]) assert.match(line, shown);
  assert.doesNotMatch(line, /D duplicate/);
});

test("the command prompt hints the arguments still to give after the cursor, as mitmproxy's does", async (t) => {
  const h = await renderConsole({ width: 100 });
  t.after(() => h.unmount());
  await press(h, ":");
  let f = await press(h, "flow.comment ");
  assert.match(lastLine(f), /^: ?flow\.comment +flows comment\s*$/);
  f = await press(h, "@focus ");
  assert.match(lastLine(f), /flow\.comment @focus +comment\s*$/);
  f = await press(h, "looked");
  assert.match(lastLine(f), /flow\.comment @focus looked\s*$/, "all given: no hint");
});
