import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runPryx } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";

test("mitmdump's flags a copied CI script uses: --no-X for every switch, --quiet, -h, the server replay flags, --options and --commands on dump (with -s, the script's too)", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-flags-");
  const script = path.join(dir, "show.ts");
  fs.writeFileSync(
    script,
    `export function load(l: any) { l.add_option("ci_expect", "int", 1, "Flows the CI run expects."); }\n` +
      `import { ctx } from "${path.join(process.cwd(), "src/api.ts")}";\nexport function running() { console.error(["showhost", "anticache", "rawtcp", "server_replay_nopop", "server_replay_refresh", "show_ignored_hosts", "store_streamed_bodies", "console_layout_headers"].map((n) => n + "=" + ctx.options[n]).join(" ")); ctx.master.shutdown(); }\n`,
  );
  const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "--quiet", "--no-showhost", "--anticache", "--no-rawtcp", "--server-replay-nopop", "--no-server-replay-refresh", "--no-show-ignored-hosts", "--store-streamed-bodies", "--no-console-layout-headers", "-s", script]);
  assert.equal(await d.exited, 0, d.stderr());
  assert.match(d.stderr(), /showhost=false anticache=true rawtcp=false server_replay_nopop=true server_replay_refresh=false show_ignored_hosts=false store_streamed_bodies=true console_layout_headers=false/);
  const listed = runPryx(["dump", "--options", "-s", script]);
  assert.equal(await listed.exited, 0, listed.stderr());
  assert.match(listed.stdout(), /^anticache: bool = false$/m, "defaults as config.yaml holds them, not quoted text");
  assert.match(listed.stdout(), /^ignore_hosts: str\[\] = \[\]$/m);
  assert.match(listed.stdout(), /^ci_expect: int = 1\n {4}Flows the CI run expects\.$/m, "the script's own option");
  const commands = runPryx(["dump", "--commands"]);
  assert.equal(await commands.exited, 0);
  assert.match(commands.stdout(), /^flow\.mark flows \[marker\]$/m);
  const help = runPryx(["dump", "-h"]);
  assert.equal(await help.exited, 0);
  assert.match(help.stdout(), /--no-showhost/);
});
