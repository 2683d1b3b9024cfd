import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runPryx } from "../helpers/cli.ts";

test("pryx refuses to start with a user keybinding whose command does not exist, naming it; addons' commands are known", { timeout: 30_000 }, async (t) => {
  const confdir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-keys-"));
  t.after(() => fs.rmSync(confdir, { recursive: true, force: true }));
  const file = path.join(confdir, "keybindings.json");
  fs.writeFileSync(
    file,
    JSON.stringify([
      { key: "C", context: "flowlist", command: "counter.show", help: "from the addon" },
      { key: "x", context: "flowlist", command: "nosuch.cmd", help: "?" },
    ]),
  );
  // The keymap is checked before the console needs a terminal, so no tty is needed to see the error.
  const p = runPryx(["-n", "--confdir", confdir, "-s", "addons/counter.ts"]);
  const code = await p.exited;
  assert.equal(code, 2, p.stderr());
  assert.ok(p.stderr().includes(`${file}: entry 1 (key "x"): unknown command "nosuch.cmd" (context "flowlist")`), p.stderr());
  assert.doesNotMatch(p.stderr(), /counter\.show/);
});
