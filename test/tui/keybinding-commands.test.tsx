import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { renderConsole } from "./helpers/tui.tsx";
import { ROOT } from "./helpers/tmux.ts";
import { FakeEngine } from "./helpers/fake-engine.ts";
import { startProxy } from "../helpers/proxy.ts";
import { commandNames } from "../../src/tui/keymap.ts";
import { tokenize } from "../../src/tui/command-line.ts";

const commandsIn = (line: string): string[] => commandNames(tokenize(line).map((t) => t.value));

test("every command a default key runs exists, down to those a chooser or a confirmation runs (the start-up check, with the engine's commands)", { timeout: 15_000 }, async () => {
  // The engine's commands from a real engine; the console adds its own.
  const proxy = await startProxy();
  let known: Set<string>;
  try {
    const engine = new FakeEngine();
    engine.commands = await proxy.engine.handle({ op: "commands" });
    const h = await renderConsole({ engine });
    known = new Set(h.ctrl.commandList().map((c) => c.name));
    h.unmount();
  } finally {
    await proxy.stop();
  }
  const bindings = JSON.parse(fs.readFileSync(path.join(ROOT, "keybindings.json"), "utf8")) as { key: string; command: string }[];
  const missing = bindings.flatMap((b) => commandsIn(b.command).filter((c) => !known.has(c)).map((c) => `${b.key}: ${c} (in ${b.command})`));
  assert.deepEqual(missing, []);
  // The parser reaches into choosers: z's encoding command is among those checked.
  assert.ok(bindings.some((b) => commandsIn(b.command).includes("flow.encode.toggle")));
});
