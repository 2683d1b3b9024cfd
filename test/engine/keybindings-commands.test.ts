import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Engine } from "../../src/engine/engine.ts";
import { splitCommandLine } from "../../src/engine/commands.ts";

interface Binding {
  key: string;
  context: string;
  command: string;
}

/** Commands the console itself handles (see src/tui/controller.ts). */
const CONSOLE_PREFIXES = ["console.", "view.focus.", "view.order.", "view.properties."];
/** The clipboard is the user's terminal (OSC 52), which only the console writes to. */
const CONSOLE_COMMANDS = new Set(["cut.clip", "export.clip"]);

test("every default key binding names a command the console or the engine has (as mitmproxy's test_defaultkeys)", async () => {
  const engine = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  // The built-in addons' commands too (replay.client, replay.server…), as in a running pryx.
  await engine.addBuiltins();
  const bindings = JSON.parse(fs.readFileSync(new URL("../../keybindings.json", import.meta.url), "utf8")) as Binding[];
  const missing = new Set<string>();
  const check = (line: string): void => {
    const [name, ...args] = splitCommandLine(line);
    if (!name) return;
    if (CONSOLE_COMMANDS.has(name)) return;
    if (CONSOLE_PREFIXES.some((p) => name.startsWith(p))) {
      // console.command X / console.choose.cmd ... run X (or a choice command) through the engine too.
      if (name === "console.command" && args[0]) check(args.join(" "));
      if (name === "console.choose.cmd" && args[1]) check(args[1]);
      if (name === "console.command.confirm" && args[1]) check(args.slice(1).join(" "));
      return;
    }
    if (!engine.commands.has(name)) missing.add(`${name} (from "${line}")`);
  };
  for (const b of bindings) check(b.command);
  assert.deepEqual([...missing], []);
});
