import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { KEY, press, renderConsole, runAtPrompt, waitForText } from "./helpers/tui.tsx";
import { FakeEngine } from "./helpers/fake-engine.ts";
import { Engine } from "../../src/engine/engine.ts";
import { Response, type HTTPFlow } from "../../src/engine/flow/http.ts";

const statusLine = (frame: string): string => frame.split("\n").at(-1)!;

test("S and replay.server.file say what happened: no flow matched, no such file, no flows in it, or N flows and none has a response", { timeout: 20_000 }, async (t) => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "pryx-sreplay-")));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const real = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  await real.addBuiltins();
  const run = (line: string) => real.handle({ op: "command", line });
  // Two requests made in the console (no response yet), saved to a file; an empty file beside it.
  await run("view.flows.create get http://api.test/a");
  await run("view.flows.create get http://api.test/b");
  const unanswered = path.join(dir, "unanswered.pryx");
  await run(`save.file @all ${unanswered}`);
  const empty = path.join(dir, "empty.pryx");
  fs.writeFileSync(empty, "");
  const engine = new FakeEngine();
  engine.onCommand = async (line) => (await run(line)) ?? undefined;
  const h = await renderConsole({ engine, width: 80 });
  try {
    // S, then a capture's name where flows go: a filter that matches no flow.
    await press(h, "S");
    await press(h, `${dir}/capture.pryx`);
    await press(h, KEY.enter);
    assert.equal(statusLine(await waitForText(h, "no flow matches")), "no flow matches (to replay a flow file: replay.server.file PATH)");
    assert.equal(statusLine(await runAtPrompt(h, "replay.server @all")), "none of the 2 flows has a response to replay");
    assert.equal(statusLine(await runAtPrompt(h, `replay.server.file ${dir}/nosuch.pryx`)), `no such file: ${dir}/nosuch.pryx`);
    assert.equal(statusLine(await runAtPrompt(h, `replay.server.file ${empty}`)), `no flows in ${empty}`);
    // What happened comes first; the long path is what 80 columns cut.
    assert.match(statusLine(await runAtPrompt(h, `replay.server.file ${unanswered}`)), /^none of the 2 flows has a response to replay \(\//);
    // A replay that loads nothing leaves loaded what was.
    const [answered] = (await real.commands.call("view.flows.resolve", "~u /a")) as HTTPFlow[];
    answered!.response = Response.make(200, "recorded");
    assert.equal(statusLine(await runAtPrompt(h, "replay.server ~s")), "server replay: 1 response loaded, 1 in all");
    assert.equal(statusLine(await runAtPrompt(h, "replay.server '~u /b'")), "the flow has no response to replay");
    assert.equal(await run("replay.server.count"), "1");
  } finally {
    h.unmount();
    await real.stop();
  }
});
