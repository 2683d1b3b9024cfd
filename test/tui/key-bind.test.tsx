import { test } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { KEY, defaultKeymap, press, renderConsole, runAtPrompt, waitForText } from "./helpers/tui.tsx";
import { Keymap } from "../../src/tui/keymap.ts";

/** A keymap of the test's own: these tests change it. */
const ownKeymap = (): Keymap => new Keymap(defaultKeymap().all());
import { makeFlow } from "./helpers/fake-engine.ts";

const lastLine = (frame: string): string => frame.split("\n").at(-1) ?? "";

test("console.key.bind and console.key.unbind change the keymap for the session; bad bindings are refused by name", async (t) => {
  const h = await renderConsole({ width: 120, keymap: ownKeymap() });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, path: "/one" })]);
  await waitForText(h, "/one");
  let f = await runAtPrompt(h, "console.key.bind flowlist,flowview y console.view.options");
  assert.match(lastLine(f), /bound y in flowlist,flowview to console\.view\.options/);
  f = await press(h, "y");
  await waitForText(h, /^Options/m);
  f = await press(h, "q");
  f = await runAtPrompt(h, "console.key.bind flowlist y no.such.command");
  assert.match(lastLine(f), /cannot bind y in flowlist: unknown command "no\.such\.command"/);
  assert.doesNotMatch(lastLine(f), /entry 0/, "there is no file of entries");
  f = await runAtPrompt(h, "console.key.bind nowhere y console.view.help");
  assert.match(lastLine(f), /unknown context "nowhere"/);
  f = await runAtPrompt(h, "console.key.bind flowlist ctrl x console.view.help");
  assert.match(h.ctrl.logs.all().at(-1)?.msg ?? "", /cannot bind ctrl in flowlist: cannot parse key "ctrl".* \(a key of several words is quoted: console\.key\.bind flowlist 'ctrl x' /);
  f = await runAtPrompt(h, "console.key.unbind flowlist y");
  assert.match(lastLine(f), /unbound y in flowlist/);
  f = await press(h, "y");
  assert.doesNotMatch(f, /^Options/m, "y does nothing on the list now");
  f = await runAtPrompt(h, "console.key.unbind flowlist y");
  assert.match(lastLine(f), /y is not bound in flowlist/);
});

test("on the key bindings screen, d unbinds the focused binding and Enter opens it as a console.key.bind line", async (t) => {
  const h = await renderConsole({ width: 140, height: 30, keymap: ownKeymap() });
  t.after(() => h.unmount());
  const total = h.ctrl.keymap.all().length;
  let f = await press(h, "K");
  f = await waitForText(h, /^Key Bindings/m);
  const first = h.ctrl.keymap.all()[0]!;
  f = await press(h, KEY.enter);
  assert.match(lastLine(f), new RegExp(`console\\.key\\.bind ${first.context} ${first.key.includes(" ") ? `'${first.key}'` : first.key.replace(/[?]/g, "\\?")} ${first.command.replace(/[.?]/g, "\\$&")}`));
  f = await press(h, KEY.esc);
  f = await press(h, "d");
  assert.match(lastLine(f), /^unbound /);
  assert.equal(h.ctrl.keymap.all().length, total - 1);
  assert.equal(h.ctrl.keymap.lookup(first.context, first.key), undefined);
});

test("x on the key bindings screen opens the prompt with the focused binding's command, as mitmproxy's, and runs nothing until Enter", async (t) => {
  const h = await renderConsole({ width: 140, height: 30, keymap: ownKeymap() });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, path: "/kept" })]);
  await waitForText(h, "/kept");
  await runAtPrompt(h, "console.key.bind keybindings,flowlist Y view.flows.remove @focus");
  let f = await press(h, "K");
  f = await waitForText(h, /^Key Bindings/m);
  const at = h.ctrl.keymap.all().findIndex((b) => b.key === "Y");
  for (let i = 0; i < at; i++) f = await press(h, "j");
  f = await press(h, "x");
  assert.match(lastLine(f), /^: ?view\.flows\.remove @focus/);
  assert.match(f, /^Key Bindings/m, "still on the key bindings screen");
  f = await press(h, KEY.esc);
  f = await press(h, "q");
  f = await waitForText(h, "/kept");
});

test("console.keymap.load reads a keybindings file over the session's bindings, and names a bad entry", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-keymap-load-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const good = path.join(dir, "keys.json");
  fs.writeFileSync(good, JSON.stringify([{ key: "y", context: "flowlist", command: "console.view.options", help: "Options" }]));
  const bad = path.join(dir, "bad.json");
  fs.writeFileSync(bad, JSON.stringify([{ key: "y", context: "flowlist", command: "no.such.command" }]));
  const h = await renderConsole({ width: 160, keymap: ownKeymap() });
  t.after(() => h.unmount());
  let f = await runAtPrompt(h, `console.keymap.load ${good}`);
  assert.match(lastLine(f), /loaded 1 key binding from .*keys\.json/);
  f = await press(h, "y");
  await waitForText(h, /^Options/m);
  await press(h, "q");
  f = await runAtPrompt(h, `console.keymap.load ${bad}`);
  assert.match(lastLine(f), /bad\.json: entry 0 \(key "y"\): unknown command "no\.such\.command"/);
  f = await runAtPrompt(h, `console.keymap.load ${path.join(dir, "missing.json")}`);
  assert.match(lastLine(f), /missing\.json: no such file/);
  // Each error stays in the event log, whole, after the status bar lets it go (as in mitmproxy).
  const logged = h.ctrl.logs.all().filter((e) => e.level === "error").map((e) => e.msg);
  assert.equal(logged.length, 2, logged.join("\n"));
  assert.match(logged[0]!, /bad\.json: entry 0 \(key "y"\): unknown command "no\.such\.command"/);
  assert.match(logged[1]!, /missing\.json: no such file/);
});

test("console.keymap.load without a file reads the confdir's files as start-up does, mitmproxy's keys.yaml among them", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-keymap-reload-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const h = await renderConsole({ width: 160, keymap: ownKeymap(), ready: { confdir: dir } });
  t.after(() => h.unmount());
  let f = await runAtPrompt(h, "console.keymap.load");
  assert.match(lastLine(f), /keybindings\.json or .*keys\.yaml: no such file/);
  // Edited while the console runs, as a user copying their mitmproxy keys over would.
  fs.writeFileSync(path.join(dir, "keys.yaml"), "- key: y\n  ctx: [flowlist]\n  cmd: console.view.options\n");
  f = await runAtPrompt(h, "console.keymap.load");
  assert.match(lastLine(f), /loaded 1 key binding from .*keys\.yaml/);
  await press(h, "y");
  await waitForText(h, /^Options/m);
});

test("function keys, Insert and Delete can be bound and fire: Ink names them no key of their own, the sequence the terminal sent does", async (t) => {
  const h = await renderConsole({ width: 120, keymap: ownKeymap() });
  t.after(() => h.unmount());
  h.engine.add([makeFlow({ seq: 1, path: "/one" })]);
  await waitForText(h, "/one");
  for (const [name, sequence] of [["f5", "\x1b[15~"], ["f1", "\x1bOP"], ["insert", "\x1b[2~"], ["delete", "\x1b[3~"]] as const) {
    let f = await runAtPrompt(h, `console.key.bind flowlist ${name} console.view.options`);
    assert.match(lastLine(f), new RegExp(`bound ${name} in flowlist`));
    f = await press(h, sequence);
    await waitForText(h, /^Options/m);
    await press(h, "q");
    await runAtPrompt(h, `console.key.unbind flowlist ${name}`);
  }
  // Backspace (DEL) is still backspace, not Delete.
  await runAtPrompt(h, "console.key.bind flowlist delete console.view.options");
  const f = await press(h, KEY.backspace);
  assert.doesNotMatch(f, /^Options/m);
});

test("the Delete key deletes forwards at the prompt (it was Backspace until the console told them apart)", async (t) => {
  const h = await renderConsole({ width: 120, keymap: ownKeymap() });
  t.after(() => h.unmount());
  await press(h, ":");
  await press(h, "abcd");
  await press(h, KEY.left);
  await press(h, KEY.left);
  await press(h, "\x1b[3~");
  const f = await press(h, KEY.backspace);
  assert.match(lastLine(f), /: ad/);
});

test("console.key.bind keeps a quoted argument one argument, and a binding opened from K and submitted unchanged stays as it was", async (t) => {
  const h = await renderConsole({ width: 200, keymap: ownKeymap() });
  t.after(() => h.unmount());
  let f = await runAtPrompt(h, "console.key.bind flowlist U console.command.confirm 'Really mark all' flow.mark @all true");
  assert.match(lastLine(f), /bound U in flowlist to console\.command\.confirm 'Really mark all' flow\.mark @all true/);
  assert.equal(h.ctrl.keymap.lookup("flowlist", "U")?.command, "console.command.confirm 'Really mark all' flow.mark @all true");
  // K, Enter on z (console.command.confirm "Delete all flows" view.flows.remove @all), Enter: the line the edit opens, as it is.
  const z = h.ctrl.keymap.lookup("flowlist", "z")!;
  f = await runAtPrompt(h, `console.key.bind flowlist z ${z.command}`);
  assert.match(lastLine(f), /^bound z in flowlist to console\.command\.confirm 'Delete all flows' view\.flows\.remove @all/);
});

test("words past a console command's parameters are an error at the prompt, as engine commands' are", async (t) => {
  const h = await renderConsole({ width: 160, keymap: ownKeymap() });
  t.after(() => h.unmount());
  const f = await runAtPrompt(h, "view.order.set url extra");
  assert.match(lastLine(f), /view\.order\.set takes 1: view\.order\.set order; "extra" is more/);
});

test("a command run from the prompt takes the last command's error off the status line, though it says nothing itself", async (t) => {
  const h = await renderConsole({ width: 160, keymap: ownKeymap() });
  t.after(() => h.unmount());
  let f = await runAtPrompt(h, "view.order.set bogus");
  assert.match(lastLine(f), /bogus/);
  f = await runAtPrompt(h, "view.order.set size");
  assert.doesNotMatch(f, /bogus/);
});

test("console.bodyview.options lists the parts console.bodyview takes, as mitmproxy's", async (t) => {
  const h = await renderConsole({ width: 160, keymap: ownKeymap() });
  t.after(() => h.unmount());
  const f = await runAtPrompt(h, "console.bodyview.options");
  assert.match(lastLine(f), /^request, response/);
});
