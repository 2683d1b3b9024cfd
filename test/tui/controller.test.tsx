import { loadMarkerNames } from "../../src/markers.ts";
import { test } from "node:test";
import { EMPTY_BATCH, encodeSummaries } from "../../src/summary-codec.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Controller } from "../../src/tui/controller.ts";
import { FakeEngine, makeFlows } from "./helpers/fake-engine.ts";
import { defaultKeymap, TEST_THEME } from "./helpers/tui.tsx";
import { keyPressFromChar } from "../../src/tui/keys.ts";
import { Engine } from "../../src/engine/engine.ts";
import type { FlowSummary } from "../../src/protocol.ts";
import { splitCommandLine } from "../../src/engine/commands.ts";
import type { EngineHandle } from "../../src/engine-client.ts";

function make(engine = new FakeEngine()) {
  const exits: (Error | undefined)[] = [];
  const ctrl = new Controller({ engine, ready: engine.ready(), keymap: defaultKeymap(), theme: TEST_THEME, onExit: (e) => exits.push(e), width: 100, height: 24 });
  return { ctrl, engine, exits };
}

const type = (ctrl: Controller, s: string) => {
  for (const ch of s) ctrl.key(keyPressFromChar(ch));
};

test("console commands run in the console; others go to the engine with @focus replaced", async () => {
  const { ctrl, engine } = make();
  const flows = makeFlows(2);
  engine.add(flows);
  ctrl.store.focusBy(1);
  await ctrl.run("flow.mark.toggle @focus");
  await ctrl.run("flow.comment @focus '@focus stays'");
  assert.deepEqual(engine.commandLines(), [`flow.mark.toggle ${flows[1]!.id}`, `flow.comment ${flows[1]!.id} '@focus stays'`]);
  await ctrl.run("console.view.eventlog");
  assert.equal(ctrl.state.stack.at(-1)!.kind, "eventlog");
  await ctrl.run("console.nope");
  assert.match(ctrl.state.message!.text, /unknown console command "console\.nope"/);
  await ctrl.run("set x 'unterminated");
  assert.equal(ctrl.state.message!.level, "error");
  ctrl.dispose();
});

test("console.command keeps a trailing space and puts the cursor inside a final ''", async () => {
  const { ctrl } = make();
  await ctrl.run("console.command cut.save @focus response.content ");
  assert.deepEqual(ctrl.state.prompt!.line, { value: "cut.save @focus response.content ", cursor: 33 });
  await ctrl.run("console.command flow.comment @focus ''");
  assert.deepEqual(ctrl.state.prompt!.line, { value: "flow.comment @focus ''", cursor: 21 });
  ctrl.dispose();
});

test("; then a comment with an apostrophe runs flow.comment with the text as typed, no quoting error", async () => {
  const { ctrl, engine } = make();
  const flows = makeFlows(1);
  engine.add(flows);
  ctrl.key(keyPressFromChar(";"));
  type(ctrl, `it's "fine"`);
  assert.equal(ctrl.state.prompt!.line.value, String.raw`flow.comment @focus 'it\'s "fine"'`);
  ctrl.key(keyPressFromChar("\r"));
  await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(ctrl.state.message?.level, "error", ctrl.state.message?.text);
  const sent = engine.commandLines();
  assert.equal(sent.length, 1);
  assert.deepEqual(splitCommandLine(sent[0]!), ["flow.comment", flows[0]!.id, `it's "fine"`]);
  ctrl.dispose();
});

test("console.command.set quotes the current value and the cursor sits before the closing quote", async () => {
  const engine = new FakeEngine();
  engine.options = engine.options.map((o) => (o.name === "intercept" ? { ...o, value: "~u it's" } : o));
  const { ctrl } = make(engine);
  await ctrl.run("console.command.set intercept");
  const p = ctrl.state.prompt!;
  assert.equal(p.line.value, `set intercept "~u it's"`);
  assert.equal(p.line.cursor, p.line.value.length - 1);
  ctrl.dispose();
});

test("view options the engine does not define are kept by the console", async () => {
  const engine = new FakeEngine();
  engine.options = engine.options.filter((o) => !["view_order", "view_order_reversed", "console_focus_follow"].includes(o.name));
  const { ctrl } = make(engine);
  engine.add(makeFlows(3, (i) => ({ seq: 1 + i, url: `https://${"cba"[i]}.test/` })));
  await ctrl.run("set view_order url");
  assert.deepEqual([0, 1, 2].map((i) => ctrl.store.at(i)!.seq), [3, 2, 1]);
  await ctrl.run("view.order");
  assert.equal(ctrl.state.message?.text, "url", "mitmproxy's view.order names the order");
  await ctrl.run("set view_order_reversed toggle");
  assert.deepEqual([0, 1, 2].map((i) => ctrl.store.at(i)!.seq), [1, 2, 3]);
  await ctrl.run("set view_order bogus");
  assert.match(ctrl.state.message!.text, /view_order expects one of method, size, time, url/);
  assert.equal(engine.commandLines().length, 0);
  assert.ok(ctrl.optionList().some((o) => o.name === "console_focus_follow"));
  ctrl.dispose();
});

test("console.choose.cmd takes its choices from a command's result", async () => {
  const engine = new FakeEngine();
  engine.onCommand = (line) => (line === "export.formats" ? "curl\nhar\nraw" : undefined);
  const { ctrl } = make(engine);
  engine.add(makeFlows(1));
  await ctrl.run(`console.choose.cmd "Export as..." export.formats console.command export.file {choice} @focus`);
  const o = ctrl.state.overlay;
  assert.ok(o && o.kind === "chooser");
  assert.deepEqual(o.choices, ["curl", "har", "raw"]);
  ctrl.key(keyPressFromChar("2"));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(ctrl.state.prompt!.line.value, "export.file har @focus ");
  ctrl.dispose();
});

test("x offers each export format of the real engine, as its own choice", async () => {
  const engine = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  const handle: EngineHandle = { request: (req) => engine.handle(req), on: () => () => undefined, shutdown: () => Promise.resolve() };
  const ctrl = new Controller({ engine: handle, ready: { listen: [], modes: [], confdir: "", caCreated: false, caCert: "", options: engine.options.all(), commands: [] }, keymap: defaultKeymap(), theme: TEST_THEME, onExit: () => undefined });
  try {
    await ctrl.run(`console.choose.cmd "Export as..." export.formats console.command export.file {choice} @focus`);
    const o = ctrl.state.overlay;
    assert.ok(o && o.kind === "chooser", ctrl.state.message?.text);
    assert.deepEqual(o.choices, ["curl", "httpie", "raw", "raw_request", "raw_response"]);
  } finally {
    ctrl.dispose();
  }
});

/** The engine answers view.flows.duplicate at once; its batch with the copy comes on its flush, after the reply. */
function copyArrivesAfterReply(engine: FakeEngine): FlowSummary {
  const copy = makeFlows(1, () => ({ seq: 100, url: "https://copy.test/" }))[0]!;
  engine.onCommand = (line) => {
    if (!line.startsWith("view.flows.duplicate")) return undefined;
    setTimeout(() => engine.add([copy]), 5);
    return { said: "duplicated 1 flow", ids: [copy.id] };
  };
  return copy;
}

test("D focuses the copy (as mitmproxy), even when the copy arrives after the command's reply", async () => {
  const { ctrl, engine } = make();
  const flows = makeFlows(3);
  engine.add(flows);
  ctrl.store.focusTo(0);
  const copy = copyArrivesAfterReply(engine);
  ctrl.key(keyPressFromChar("D"));
  assert.deepEqual(engine.commandLines(), [`view.flows.duplicate ${flows[0]!.id}`]);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(ctrl.store.focused()?.id, copy.id);
  assert.equal(ctrl.state.message?.text, "duplicated 1 flow");
  // Nothing copied (a TCP flow): a flow arriving later does not steal the focus.
  engine.onCommand = (line) => (line.startsWith("view.flows.duplicate") ? { said: "duplicated 0 flows", ids: [] } : undefined);
  ctrl.store.focusTo(0);
  await ctrl.run("view.flows.duplicate @focus", false);
  engine.add(makeFlows(1, () => ({ seq: 200 })));
  assert.equal(ctrl.store.focused()?.id, flows[0]!.id);
  ctrl.dispose();
});

test("D in the flow view shows the copy (as mitmproxy's, which shows the focused flow): e then edits the copy, not the original", async () => {
  const { ctrl, engine } = make();
  const flows = makeFlows(2);
  engine.add(flows);
  ctrl.store.focusTo(0);
  ctrl.key(keyPressFromChar("\r"));
  assert.equal(ctrl.state.stack.at(-1)!.kind, "flowview");
  const copy = copyArrivesAfterReply(engine);
  ctrl.key(keyPressFromChar("D"));
  await new Promise((r) => setTimeout(r, 30));
  const top = ctrl.state.stack.at(-1)!;
  assert.ok(top.kind === "flowview" && top.id === copy.id, "the flow view shows the copy");
  assert.equal(ctrl.focusedId(), copy.id);
  assert.equal(ctrl.state.stack.filter((s) => s.kind === "flowview").length, 1, "q goes back to the list, not to the original");
  ctrl.dispose();
});

test("keys typed right after : reach the prompt, before any render", () => {
  const { ctrl } = make();
  type(ctrl, ":set listen_port 1");
  assert.equal(ctrl.state.prompt!.line.value, "set listen_port 1");
  ctrl.key({ name: "esc", text: "" });
  assert.equal(ctrl.state.prompt, undefined);
  ctrl.dispose();
});

test("a fatal engine event ends the console with the error; stopped ends it quietly", () => {
  const a = make();
  a.engine.emit({ t: "fatal", error: "boom" });
  assert.match(a.exits[0]!.message, /boom/);
  const b = make();
  b.engine.emit({ t: "stopped" });
  assert.deepEqual(b.exits, [undefined]);
});

test("completion asks the engine for words it cannot complete itself", async () => {
  const engine = new FakeEngine();
  const { ctrl } = make(engine);
  const r = await ctrl.completions("set intercept_a", 15);
  assert.deepEqual(r.candidates, ["intercept_active"]);
  const flows = await ctrl.completions("flow.resume @ma", 15);
  assert.deepEqual(flows.candidates, ["@marked"]);
  await ctrl.completions("replay.client x", 15);
  assert.ok(engine.requests.some((q) => q.op === "completions" && q.partial === "replay.client x"));
  ctrl.dispose();
});

test("Tab completes cut specs (the one after the last comma), export formats and bools, by the argument's name in the signature", async () => {
  const { ctrl } = make(new FakeEngine());
  const at = (line: string) => ctrl.completions(line, line.length).then((r) => r.candidates);
  assert.deepEqual(await at("cut.clip @focus request.ur"), ["request.url"]);
  assert.ok((await at("cut.clip @focus request.url,response.s")).includes("request.url,response.status_code"));
  assert.deepEqual(await at("export.clip c"), ["curl"]);
  assert.ok((await at("export.clip ")).includes("raw_request"));
  ctrl.dispose();
});

test("Tab completes mitmproxy's choice arguments (flow.set's attribute, an encoding, a content view, an order, a marker, an option name), and the prompt hints the arguments still to give", async () => {
  const engine = new FakeEngine();
  engine.commands = [...engine.commands, { name: "flow.set", signature: "flow.set flows attr value", help: "" }, { name: "flow.encode", signature: "flow.encode flows part encoding", help: "" }, { name: "options.reset.one", signature: "options.reset.one option", help: "" }, { name: "cut.save", signature: "cut.save flows cuts path", help: "" }];
  const { ctrl } = make(engine);
  const at = (line: string) => ctrl.completions(line, line.length).then((r) => r.candidates);
  assert.deepEqual(await at("flow.set @focus st"), ["status_code"]);
  assert.deepEqual(await at("flow.encode @focus res"), ["response"]);
  assert.deepEqual(await at("flow.encode @focus response b"), ["br"]);
  assert.deepEqual(await at("console.flowview.mode.set js"), ["json"]);
  assert.deepEqual(await at("view.order.set s"), ["size"]);
  assert.deepEqual(await at("flow.mark @all :d"), [":default:"]);
  // Once the console has the emoji names (it loads them as it starts), every one of them.
  await loadMarkerNames();
  assert.deepEqual(await at("flow.mark @all :grap"), [":grapes:"]);
  assert.deepEqual(await at("options.reset.one intercept_a"), ["intercept_active"]);
  assert.deepEqual(await at("set intercept_a"), ["intercept_active"]);
  // Flow specs at an empty flows argument, as mitmproxy's Tab cycles them.
  assert.deepEqual(await at("flow.encode "), ["@all", "@focus", "@hidden", "@marked", "@shown", "@unmarked"]);
  assert.ok((await at("console.key.bind ")).includes("flowlist"));
  assert.deepEqual(await at("console.key.bind flowlist x console.view.opt"), ["console.view.options"]);
  assert.equal(ctrl.argumentHint("cut.save"), "flows cuts path");
  assert.equal(ctrl.argumentHint("cut.save "), "flows cuts path");
  assert.equal(ctrl.argumentHint("cut.save @focus "), "cuts path");
  assert.equal(ctrl.argumentHint("cut.save @focus request.url "), "path");
  assert.equal(ctrl.argumentHint("cut.save @fo"), "cuts path", "typing an argument: the ones after it");
  assert.equal(ctrl.argumentHint("cut.save @focus request.url out.csv"), "");
  assert.equal(ctrl.argumentHint("no.such.command "), "");
  ctrl.dispose();
});

test("Tab completes file paths for the real engine's path arguments (L, w, b, export.file)", async (t) => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "pryx-tab-paths-")));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of ["capture-1.pryx", "capture-2.pryx", "notes.txt"]) fs.writeFileSync(path.join(dir, f), "");
  fs.mkdirSync(path.join(dir, "caps"));
  fs.writeFileSync(path.join(dir, "caps", "inner.har"), "");
  const engine = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  const handle: EngineHandle = { request: (req) => engine.handle(req), on: () => () => undefined, shutdown: () => Promise.resolve() };
  const commands = engine.commands.list().map((c) => ({ name: c.name, signature: c.signature, help: c.help }));
  const ctrl = new Controller({ engine: handle, ready: { listen: [], modes: [], confdir: "", caCreated: false, caCert: "", options: engine.options.all(), commands }, keymap: defaultKeymap(), theme: TEST_THEME, onExit: () => undefined });
  // The engine answers completions asynchronously: wait for the line the Tab should give (or,
  // without one, for any change), not a fixed time: a loaded machine is slower.
  const tab = async (expected?: string) => {
    const before = ctrl.state.prompt;
    ctrl.key({ name: "tab", text: "" });
    const done = (): boolean => (expected === undefined ? ctrl.state.prompt !== before : ctrl.state.prompt?.line.value === expected);
    for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    return ctrl.state.prompt!;
  };

  try {
    ctrl.key(keyPressFromChar("L"));
    type(ctrl, `${dir}/ca`);
    // Several matches: as far as they agree, listed by name; the next Tabs cycle through them.
    let p = await tab(`view.flows.load ${dir}/cap`);
    assert.equal(p.line.value, `view.flows.load ${dir}/cap`);
    assert.equal(p.hint, "caps/  capture-1.pryx  capture-2.pryx");
    assert.equal((await tab(`view.flows.load ${dir}/caps/`)).line.value, `view.flows.load ${dir}/caps/`);
    assert.equal((await tab(`view.flows.load ${dir}/capture-1.pryx`)).line.value, `view.flows.load ${dir}/capture-1.pryx`);
    ctrl.key({ name: "esc", text: "" });

    // One directory: its "/" and no space, so the next Tab goes inside.
    ctrl.key(keyPressFromChar("w"));
    type(ctrl, `${dir}/cap`);
    type(ctrl, "s");
    p = await tab(`save.file @shown ${dir}/caps/`);
    assert.equal(p.line.value, `save.file @shown ${dir}/caps/`);
    p = await tab(`save.file @shown ${dir}/caps/inner.har `);
    assert.equal(p.line.value, `save.file @shown ${dir}/caps/inner.har `);
    ctrl.key({ name: "esc", text: "" });

    // b asks decoded or raw first (content, the default, then raw_content).
    ctrl.key(keyPressFromChar("b"));
    ctrl.key({ name: "enter", text: "" });
    type(ctrl, `${dir}/n`);
    assert.equal((await tab(`cut.save @focus response.content ${dir}/notes.txt `)).line.value, `cut.save @focus response.content ${dir}/notes.txt `);
    ctrl.key({ name: "esc", text: "" });

    // console.command leaves the cursor after a space, as mitmproxy's does: the path is typed there.
    await ctrl.run("console.command export.file curl @focus");
    type(ctrl, `${dir}/caps/i`);
    assert.equal((await tab(`export.file curl @focus ${dir}/caps/inner.har `)).line.value, `export.file curl @focus ${dir}/caps/inner.har `);
    ctrl.key({ name: "esc", text: "" });

    // ~ is the home directory.
    const home = process.env["HOME"];
    process.env["HOME"] = dir;
    try {
      await ctrl.run("console.command view.flows.load");
      type(ctrl, "~/caps/");
      assert.equal((await tab(`view.flows.load ${dir}/caps/inner.har `)).line.value, `view.flows.load ${dir}/caps/inner.har `);
    } finally {
      if (home === undefined) delete process.env["HOME"];
      else process.env["HOME"] = home;
    }
    // Not a path argument: no files offered.
    ctrl.key({ name: "esc", text: "" });
    await ctrl.run("console.command flow.comment @focus");
    type(ctrl, `${dir}/ca`);
    assert.equal((await tab()).hint, "no completions");
  } finally {
    ctrl.dispose();
  }
});

test("events buffered before the console started are applied first", () => {
  const engine = new FakeEngine();
  const flows = makeFlows(2);
  const ctrl = new Controller({
    engine,
    ready: engine.ready(),
    keymap: defaultKeymap(),
    onExit: () => undefined,
    initialEvents: [
      { t: "batch", add: encodeSummaries(flows), update: EMPTY_BATCH, remove: [], logs: [{ ts: 1, level: "info", msg: "regular proxy listening at 127.0.0.1:8080" }], reset: false },
      { t: "ready", info: engine.ready() },
    ],
  });
  assert.equal(ctrl.store.total, 2);
  assert.equal(ctrl.logs.size, 1);
  ctrl.dispose();
});

test("ctrl l then Enter copies cuts to the terminal's clipboard with OSC 52; export.clip the same; too big is refused with advice", async () => {
  const { renderConsole, press, waitForText, KEY } = await import("./helpers/tui.tsx");
  const escapes: string[] = [];
  // Outside tmux, even when the tests run inside it: there the copy goes through tmux (clipboard-tmux.test.tsx).
  const h = await renderConsole({ env: { ...process.env, TMUX: undefined }, writeEscape: (e) => escapes.push(e) });
  try {
    const [flow] = makeFlows(1);
    h.engine.add([flow!]);
    await waitForText(h, "/1]");
    h.engine.onCommand = (line) => (line.startsWith("cut ") ? "https://api.example.com/v1/items/1" : line.startsWith("export ") ? "curl -X GET 'https://x.test/'" : undefined);
    let prompt = await press(h, "\x0c");
    // The cuts alone, without the flows: the message names cut.clip, not the engine's cut.
    await press(h, "request.url");
    await press(h, KEY.enter);
    await waitForText(h, "cut.clip needs flows and cuts, e.g. cut.clip @focus request.url");
    assert.equal(h.engine.commandLines().length, 0, "nothing went to the engine");
    prompt = await press(h, "\x0c");
    // As mitmproxy's: the prompt asks for the flows too, and @focus is typed from habit.
    assert.match(prompt, /^: cut\.clip +flows cuts$/m);
    await press(h, "@focus request.url");
    await press(h, KEY.enter);
    await waitForText(h, "copied 34 bytes to the clipboard");
    assert.ok(h.engine.commandLines().includes(`cut ${flow!.id} request.url`), "@focus is the focused flow");
    assert.deepEqual(escapes, [`\x1b]52;c;${Buffer.from("https://api.example.com/v1/items/1").toString("base64")}\x07`]);
    await h.ctrl.run("export.clip curl @focus", false);
    assert.equal(escapes.at(-1), `\x1b]52;c;${Buffer.from("curl -X GET 'https://x.test/'").toString("base64")}\x07`);
    h.engine.onCommand = () => "x".repeat(200_000);
    await h.ctrl.run("cut.clip @focus response.content", false);
    await waitForText(h, "more than a terminal clipboard takes");
    assert.equal(escapes.length, 2, "nothing written for the refused copy");
  } finally {
    h.unmount();
  }
});

test("mitmproxy's commands.history.* and view.settings.* work from the prompt; fullcontents is the flow view's f", async () => {
  const { ctrl, engine } = make();
  engine.add(makeFlows(2));
  await ctrl.run("commands.history.clear");
  for (const line of ["set a=1", "export curl @focus", "set b=2"]) await ctrl.run(`commands.history.add ${line}`);
  await ctrl.run("commands.history.filter set");
  await ctrl.run("commands.history.prev");
  assert.equal(ctrl.state.message?.text, "set b=2");
  await ctrl.run("commands.history.prev");
  assert.equal(ctrl.state.message?.text, "set a=1", "the filter skips lines without its prefix");
  await ctrl.run("commands.history.next");
  assert.equal(ctrl.state.message?.text, "set b=2");

  const id = ctrl.store.focused()!.id;
  await ctrl.run("view.settings.setval @focus color blue");
  await ctrl.run("view.settings.getval @focus color none");
  assert.equal(ctrl.state.message?.text, "blue");
  await ctrl.run(`view.settings.getval ${id} size none`);
  assert.equal(ctrl.state.message?.text, "none");
  await ctrl.run("console.view.flow @focus");
  const full = () => (ctrl.state.stack.at(-1) as { full?: boolean }).full;
  assert.equal(full(), false);
  await ctrl.run("view.settings.setval.toggle @focus fullcontents");
  assert.equal(full(), true);
  await ctrl.run("view.settings.getval @focus fullcontents false");
  assert.equal(ctrl.state.message?.text, "true");
  await ctrl.run("view.settings.setval.toggle @focus fullcontents");
  assert.equal(full(), false);
  // f is remembered per flow, as mitmproxy's fullcontents setting is: the flow opens whole next time.
  await ctrl.run("console.flowview.fullcontents");
  assert.equal(full(), true);
  await ctrl.run("console.view.pop");
  await ctrl.run("console.view.flow @focus");
  assert.equal(full(), true, "reopened whole");
  await ctrl.run("console.view.pop");
  await ctrl.run("console.nav.down");
  await ctrl.run("console.view.flow @focus");
  assert.equal(full(), false, "another flow opens as usual");
  ctrl.dispose();
});
