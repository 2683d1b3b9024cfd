import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CONTEXTS, DEFAULT_KEYBINDINGS_PATH, Keymap, KeymapError, parseBindings } from "../../src/tui/keymap.ts";
import { loadConsoleKeymap } from "../../src/tui/index.tsx";
import { Controller } from "../../src/tui/controller.ts";
import { tokenize } from "../../src/tui/command-line.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const known = Controller.consoleCommandNames();
const isKnown = (n: string) => known.has(n);

test("the repo's keybindings.json loads, with mitmproxy's default keys", () => {
  const km = loadConsoleKeymap("/nonexistent-pryx-confdir");
  const cmd = (ctx: (typeof CONTEXTS)[number], key: string) => km.resolve([ctx, "global"], key)?.command;
  assert.equal(cmd("flowlist", "j"), "console.nav.down");
  assert.equal(cmd("flowlist", "down"), "console.nav.down");
  assert.equal(cmd("flowlist", "G"), "console.nav.end");
  assert.equal(cmd("flowlist", "enter"), "console.nav.select");
  assert.equal(cmd("flowlist", "a"), "flow.resume @focus");
  assert.equal(cmd("flowlist", "A"), "flow.resume @all");
  assert.equal(cmd("flowlist", "m"), "flow.mark.toggle @focus");
  assert.equal(cmd("flowview", "m")?.startsWith("console.choose.cmd"), true);
  assert.equal(cmd("flowlist", "f"), "console.command.set view_filter");
  assert.equal(cmd("flowlist", "i"), "console.command.set intercept");
  assert.equal(cmd("flowlist", "Q"), "console.exit");
  assert.equal(cmd("flowlist", "ctrl f"), "console.nav.pagedown");
  assert.equal(cmd("help", "?"), "console.view.pop");
  assert.equal(cmd("flowlist", "?"), "console.view.help");
});

test("every console command the defaults use exists, and every entry has help", () => {
  const raw = JSON.parse(readFileSync(DEFAULT_KEYBINDINGS_PATH, "utf8")) as { command: string; help: string }[];
  for (const e of raw) {
    const name = tokenize(e.command)[0]!.value;
    if (name.startsWith("console.")) assert.ok(known.has(name), `${name} is not a console command`);
    assert.ok(e.help.length > 0, `no help for ${e.command}`);
  }
});

test("a user entry for the same key and context replaces the default; others add", () => {
  const defaults = parseBindings(
    [
      { key: "j", context: "global", command: "console.nav.down", help: "Down" },
      { key: "x", context: ["flowlist", "flowview"], command: "flow.kill @focus", help: "Kill" },
    ],
    "defaults.json",
    isKnown,
  );
  const user = parseBindings(
    [
      { key: "j", context: "global", command: "console.nav.up" },
      { key: "ctrl+k", context: "flowlist", command: "flow.kill @focus", help: "Kill it" },
    ],
    "user.json",
    isKnown,
  );
  const km = new Keymap([...defaults, ...user]);
  assert.equal(km.lookup("global", "j")?.command, "console.nav.up");
  assert.equal(km.lookup("global", "j")?.source, "user.json#0");
  assert.equal(km.lookup("flowview", "x")?.command, "flow.kill @focus");
  assert.equal(km.lookup("flowlist", "ctrl k")?.help, "Kill it");
  assert.equal(km.resolve(["flowlist", "global"], "j")?.command, "console.nav.up");
});

test("bad entries are errors that name the file, the index and the problem", () => {
  const bad = (entries: unknown, re: RegExp) =>
    assert.throws(
      () => parseBindings(entries, "/home/u/.pryx/keybindings.json", isKnown),
      (err: unknown) => err instanceof KeymapError && re.test(err.message),
    );
  bad({ key: "j" }, /keybindings\.json: expected a JSON array/);
  bad([{ key: "j", context: "nowhere", command: "console.nav.down" }], /keybindings\.json: entry 0 \(key "j"\): unknown context "nowhere"/);
  bad([{ key: "j", context: "global", command: "console.nav.down" }, { key: "ctrl bogus", context: "global", command: "x" }], /entry 1 \(key "ctrl bogus"\): unknown key name "bogus"/);
  bad([{ key: "j", context: "global" }], /entry 0 \(key "j"\): missing field "command"/);
  bad([{ key: "j", context: "global", command: "console.no.such" }], /unknown console command "console\.no\.such"/);
  bad([{ key: "j", context: "global", command: "set x 'abc" }], /unterminated ' quote/);
  bad([{ key: "j", context: "global", command: "x", colour: "red" }], /unknown field "colour"/);
  bad(["j"], /entry 0: expected an object/);
  // Every problem is reported at once.
  assert.throws(
    () => parseBindings([{ key: "", context: "global", command: "x" }, { key: "j", context: "bad", command: "x" }], "k.json", isKnown),
    (err: unknown) => err instanceof KeymapError && err.problems.length === 2,
  );
});

test("a bad user keybindings file in the confdir fails the start-up, naming the entry", () => {
  const dir = tempDir("pryx-keys-");
  const file = path.join(dir, "keybindings.json");
  writeFileSync(file, JSON.stringify([{ key: "J", context: "flowlist", command: "console.nav.down", help: "ok" }, { key: "K", context: "flowlst", command: "console.nav.up" }]));
  assert.throws(() => loadConsoleKeymap(dir), new RegExp(`${file.replace(/[.\\]/g, "\\$&")}: entry 1 \\(key "K"\\): unknown context "flowlst"`));
  writeFileSync(file, "[{ not json");
  assert.throws(() => loadConsoleKeymap(dir), /keybindings\.json: not valid JSON/);
  writeFileSync(file, JSON.stringify([{ key: "J", context: "flowlist", command: "console.nav.down", help: "Down by J" }]));
  assert.equal(loadConsoleKeymap(dir).lookup("flowlist", "J")?.help, "Down by J");
  // Contexts comma-separated in one string, as console.key.bind takes them.
  writeFileSync(file, JSON.stringify([{ key: "y", context: "flowlist, flowview", command: "console.view.options" }]));
  const both = loadConsoleKeymap(dir);
  assert.equal(both.lookup("flowlist", "y")?.command, "console.view.options");
  assert.equal(both.lookup("flowview", "y")?.command, "console.view.options");
});

test("mitmproxy's key bindings come over as they are: keys.yaml in the confdir, and its cmd and ctx fields in either file", () => {
  const dir = tempDir("pryx-keys-yaml-");
  writeFileSync(path.join(dir, "keybindings.json"), JSON.stringify([{ key: "J", ctx: ["flowlist"], cmd: "console.nav.down", help: "Down by J" }]));
  writeFileSync(path.join(dir, "keys.yaml"), "# as in ~/.mitmproxy/keys.yaml\n- key: W\n  ctx: [flowlist]\n  cmd: console.view.eventlog\n  help: Events\n");
  const keymap = loadConsoleKeymap(dir);
  assert.equal(keymap.lookup("flowlist", "J")?.command, "console.nav.down");
  assert.deepEqual([keymap.lookup("flowlist", "W")?.command, keymap.lookup("flowlist", "W")?.help], ["console.view.eventlog", "Events"]);
  writeFileSync(path.join(dir, "keys.yaml"), "- key: W\n  ctx: [flowlist]\n  cmd: console.view.eventlog\n  command: console.nav.up\n");
  assert.throws(() => loadConsoleKeymap(dir), /keys\.yaml: entry 0 \(key "W"\): both "cmd" and "command": give one/);
  writeFileSync(path.join(dir, "keys.yaml"), "- key: W\n  ctx: [flowlist\n");
  assert.throws(() => loadConsoleKeymap(dir), /keys\.yaml: not valid YAML: /);
  // mitmproxy's defaults: no ctx is global; its commonkey and dataviewer contexts are pryx's global and help (where its data viewer is).
  writeFileSync(path.join(dir, "keys.yaml"), "- key: ctrl w\n  cmd: console.view.eventlog\n- key: ctrl y\n  ctx: [commonkey, dataviewer]\n  cmd: console.view.options\n");
  const aliased = loadConsoleKeymap(dir);
  assert.equal(aliased.lookup("global", "ctrl w")?.command, "console.view.eventlog");
  assert.equal(aliased.lookup("global", "ctrl y")?.command, "console.view.options");
  assert.equal(aliased.lookup("help", "ctrl y")?.command, "console.view.options");
  // A YAML block over several lines is one command, its line ends spaces, as mitmproxy reads it.
  writeFileSync(path.join(dir, "keys.yaml"), "- key: Y\n  ctx: [flowlist]\n  cmd: |\n    console.command\n    set view_filter\n");
  assert.equal(loadConsoleKeymap(dir).lookup("flowlist", "Y")?.command, "console.command set view_filter ");
});

test("with the engine's commands known, a user entry naming a command nobody has fails the start-up, naming the entry", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pryx-keys-cmd-"));
  try {
    const file = path.join(dir, "keybindings.json");
    const engineCommands = ["flow.kill", "counter.show"];
    writeFileSync(file, JSON.stringify([
      { key: "X", context: "flowlist", command: "flow.kill @focus", help: "ok" },
      { key: "x", context: "flowlist", command: "nosuch.cmd", help: "?" },
      { key: "y", context: ["flowlist", "flowview"], command: "also.missing 'a b'" },
    ]));
    assert.throws(
      () => loadConsoleKeymap(dir, undefined, engineCommands),
      (err: unknown) =>
        err instanceof KeymapError &&
        err.problems.length === 2 &&
        err.problems[0] === `${file}: entry 1 (key "x"): unknown command "nosuch.cmd" (context "flowlist")` &&
        err.problems[1] === `${file}: entry 2 (key "y"): unknown command "also.missing" (context "flowlist", "flowview")`,
    );
    // Commands the console runs itself (not only console.*), and addons' commands, are known.
    writeFileSync(file, JSON.stringify([
      { key: "X", context: "flowlist", command: "counter.show" },
      { key: "Y", context: "flowlist", command: "view.focus.next" },
      { key: "Z", context: "flowlist", command: "console.command nosuch.later" },
    ]));
    assert.equal(loadConsoleKeymap(dir, undefined, engineCommands).lookup("flowlist", "X")?.command, "counter.show");
    // Before the engine is ready (no command list) only console.* names can be checked.
    writeFileSync(file, JSON.stringify([{ key: "x", context: "flowlist", command: "nosuch.cmd" }]));
    assert.equal(loadConsoleKeymap(dir).lookup("flowlist", "x")?.command, "nosuch.cmd");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("first run creates an empty <confdir>/keybindings.json for the user's keys, and never overwrites one", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pryx-keys-first-"));
  try {
    loadConsoleKeymap(dir);
    assert.equal(readFileSync(path.join(dir, "keybindings.json"), "utf8"), "[]\n");
    writeFileSync(path.join(dir, "keybindings.json"), '[{"key":"K","context":"flowlist","command":"console.nav.down","help":"mine"}]');
    loadConsoleKeymap(dir);
    assert.match(readFileSync(path.join(dir, "keybindings.json"), "utf8"), /"help":"mine"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a command a chooser or a confirmation would run is checked at start-up too", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pryx-keys-nested-"));
  const file = path.join(dir, "keybindings.json");
  try {
    writeFileSync(file, JSON.stringify([
      { key: "x", context: "flowview", command: 'console.choose "Pick..." request,response flow.nosuch @focus {choice}' },
      { key: "y", context: "flowlist", command: 'console.command.confirm "Sure?" view.flows.gone @all' },
    ]));
    assert.throws(
      () => loadConsoleKeymap(dir, undefined, ["flow.resume", "view.flows.remove"]),
      (err: unknown) =>
        err instanceof KeymapError &&
        err.problems[0] === `${file}: entry 0 (key "x"): unknown command "flow.nosuch" (context "flowview")` &&
        err.problems[1] === `${file}: entry 1 (key "y"): unknown command "view.flows.gone" (context "flowlist")`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
