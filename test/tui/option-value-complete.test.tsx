import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { KEY, focusedLine, press, renderConsole, until, type Harness } from "./helpers/tui.tsx";
import { FakeEngine } from "./helpers/fake-engine.ts";
import type { OptionInfo } from "../../src/protocol.ts";
import { Engine } from "../../src/engine/engine.ts";

/** A directory to complete in: two files starting "ca", one more, and a directory. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-oc-"));
for (const f of ["capture.flows", "cab.txt", "notes.txt"]) fs.writeFileSync(path.join(dir, f), "");
fs.mkdirSync(path.join(dir, "certs"));
fs.writeFileSync(path.join(dir, "certs", "site.pem"), "");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The engine's path options as it describes them: a list of paths, and `[domain=]path` entries. */
function engineWithPathLists(): FakeEngine {
  const engine = new FakeEngine();
  const list = (name: string, paths: OptionInfo["paths"]): OptionInfo => ({ name, type: "str[]", value: "", default: "", help: `${name} files.`, choices: undefined, paths });
  engine.options = [...engine.options, list("scripts", true), list("certs", "after=")];
  return engine;
}

/** `O`, down to option `name`, and Enter: its value being edited in place. */
async function editOption(h: Harness, name: string): Promise<void> {
  await press(h, "O");
  const names = h.ctrl.optionList().map((o) => o.name);
  for (let i = 0; i < names.indexOf(name); i++) await press(h, "j");
  assert.match(focusedLine(h.lastFrame())!, new RegExp(`^>>${name} `));
  await press(h, KEY.enter);
}

const sent = (h: Harness, name: string, value: string) => until(() => h.engine.requests.some((r) => r.op === "setOption" && r.name === name && r.value === value));

test("Tab in a path option's value on the options screen completes the file, with no space after it, as the value is set", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await editOption(h, "save_stream_file");
    await press(h, `${dir}/capt`);
    const f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, new RegExp(`save_stream_file +${dir}/capture\\.flows$`));
    await press(h, KEY.enter);
    assert.ok(await sent(h, "save_stream_file", `${dir}/capture.flows`), JSON.stringify(h.engine.requests.filter((r) => r.op === "setOption")));
  } finally {
    h.unmount();
  }
});

test("Tab in a path option's value lists the files that fit by name and cycles them; a directory is filled in with its / and Tab goes on inside it", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await editOption(h, "save_stream_file");
    await press(h, `${dir}/ca`);
    let f = await press(h, KEY.tab);
    // Several fit: the status line lists them by their names, and the first is taken.
    assert.match(f, /^cab\.txt {2}capture\.flows$/m);
    assert.match(focusedLine(f)!, new RegExp(`save_stream_file +${dir}/cab\\.txt$`));
    f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, new RegExp(`save_stream_file +${dir}/capture\\.flows$`));
    for (let i = 0; i < "capture.flows".length; i++) await press(h, KEY.backspace);
    await press(h, "ce");
    f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, new RegExp(`save_stream_file +${dir}/certs/$`));
    f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, new RegExp(`save_stream_file +${dir}/certs/site\\.pem$`));
  } finally {
    h.unmount();
  }
});

test("Tab in a list of paths completes the entry at the cursor, and in a [domain=]path entry the path after the =", async () => {
  const h = await renderConsole({ height: 30, engine: engineWithPathLists() });
  try {
    await editOption(h, "scripts");
    await press(h, `a.ts,${dir}/capt,b.ts`);
    for (let i = 0; i < ",b.ts".length; i++) await press(h, KEY.left);
    let f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, new RegExp(`scripts +a\\.ts,${dir}/capture\\.flows,b\\.ts$`));
    await press(h, KEY.enter);
    assert.ok(await sent(h, "scripts", `a.ts,${dir}/capture.flows,b.ts`));

    await press(h, "q");
    await editOption(h, "certs");
    await press(h, `a.com=${dir}/certs/si`);
    f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, new RegExp(`certs +a\\.com=${dir}/certs/site\\.pem$`));
    await press(h, KEY.enter);
    assert.ok(await sent(h, "certs", `a.com=${dir}/certs/site.pem`));
  } finally {
    h.unmount();
  }
});

test(":set completes a path option's value as the options screen does, quoting it as one argument", async () => {
  const h = await renderConsole({ engine: engineWithPathLists() });
  try {
    await press(h, ":");
    await press(h, `set save_stream_file ${dir}/capt`);
    let f = await press(h, KEY.tab);
    assert.match(f, new RegExp(`^: set save_stream_file ${dir}/capture\\.flows$`, "m"));
    await press(h, KEY.esc);
    await press(h, ":");
    await press(h, `set scripts a.ts,${dir}/ce`);
    f = await press(h, KEY.tab);
    assert.match(f, new RegExp(`^: set scripts a\\.ts,${dir}/certs/$`, "m"));
    await press(h, KEY.esc);
    // A choice and a bool complete as before, through the same code.
    await press(h, ":");
    await press(h, "set view_order s");
    f = await press(h, KEY.tab);
    assert.match(f, /^: set view_order size$/m);
    await press(h, KEY.esc);
  } finally {
    h.unmount();
  }
});

test("Tab completes save_stream_file's path after its leading + (append) and keeps the +, at :set and on the options screen", async () => {
  // The engine's own description of the option, so the console completes what the engine parses.
  const real = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  const engine = new FakeEngine();
  engine.options = engine.options.map((o) => (o.name === "save_stream_file" ? real.options.info("save_stream_file") : o));
  const h = await renderConsole({ height: 30, engine });
  try {
    await press(h, ":");
    await press(h, `set save_stream_file +${dir}/capt`);
    let f = await press(h, KEY.tab);
    assert.match(f, new RegExp(`^: set save_stream_file \\+${dir}/capture\\.flows$`, "m"));
    await press(h, KEY.esc);

    await editOption(h, "save_stream_file");
    await press(h, `+${dir}/ca`);
    f = await press(h, KEY.tab);
    assert.match(f, /^cab\.txt {2}capture\.flows$/m, "the files after the +, by name");
    assert.match(focusedLine(f)!, new RegExp(`save_stream_file +\\+${dir}/cab\\.txt$`));
    await press(h, KEY.enter);
    assert.ok(await sent(h, "save_stream_file", `+${dir}/cab.txt`), JSON.stringify(h.engine.requests.filter((r) => r.op === "setOption")));
  } finally {
    h.unmount();
  }
});
