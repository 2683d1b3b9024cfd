import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { renderConsole } from "./helpers/tui.tsx";
import { ROOT } from "./helpers/tmux.ts";
import { FakeEngine } from "./helpers/fake-engine.ts";
import { startProxy } from "../helpers/proxy.ts";

/** Words of a command line, quotes taken off. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

/** Every command a binding runs, the ones it hands to a prompt, a confirmation or a chooser included. */
function commandsIn(w: string[]): string[] {
  const [first, ...rest] = w;
  if (!first) return [];
  switch (first) {
    case "console.command":
      return [first, ...commandsIn(rest)];
    case "console.command.confirm":
      return [first, ...commandsIn(rest.slice(1))];
    case "console.choose":
      return [first, ...commandsIn(rest.slice(2))];
    case "console.choose.cmd":
      return [first, rest[1] ?? "", ...commandsIn(rest.slice(2))];
    default:
      return [first];
  }
}

test("every command a default key runs exists, down to those a chooser or a confirmation runs", { timeout: 15_000 }, async () => {
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
  const missing = bindings.flatMap((b) => commandsIn(words(b.command)).filter((c) => !known.has(c)).map((c) => `${b.key}: ${c} (in ${b.command})`));
  assert.deepEqual(missing, []);
  // The parser reaches into choosers: z's encoding command is among those checked.
  assert.ok(bindings.some((b) => commandsIn(words(b.command)).includes("flow.encode.toggle")));
});
