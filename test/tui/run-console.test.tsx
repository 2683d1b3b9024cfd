// First, before anything loads ink (CI runs this with CI=true).
import "../../src/tui/interactive-env.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { runConsole, KeymapError } from "../../src/tui/index.tsx";
import { FakeEngine, makeFlows } from "./helpers/fake-engine.ts";
import { until } from "./helpers/tui.tsx";
import { tempDir } from "../helpers/temp-dir.ts";
import { tty } from "./helpers/fake-tty.ts";

const confdir = () => tempDir("pryx-console-");

test("runConsole enters the alternate screen, draws flows, and restores the terminal when Q quits", async () => {
  const engine = new FakeEngine();
  const t = tty();
  const done = runConsole(engine, engine.ready(), { confdir: confdir(), ...t.streams });
  assert.ok(t.stdout.out.startsWith("\x1b[?1049h\x1b[?25l"));
  engine.add(makeFlows(2, (i) => ({ seq: 1 + i, path: `/run/${i}` })));
  assert.ok(await until(() => t.stdout.out.includes("/run/1")), t.stdout.out);
  await new Promise((r) => setTimeout(r, 20));
  t.stdin.write("Q");
  await done;
  assert.ok(t.stdout.out.endsWith("\x1b[?25h\x1b[?1049l"), JSON.stringify(t.stdout.out.slice(-40)));
});

test("q then y quits too; the engine's fatal error rejects after restoring the terminal", async () => {
  const engine = new FakeEngine();
  const t = tty();
  const done = runConsole(engine, engine.ready(), { confdir: confdir(), ...t.streams });
  await new Promise((r) => setTimeout(r, 20));
  t.stdin.write("q");
  assert.ok(await until(() => t.stdout.out.includes("Quit pryx?")));
  t.stdin.write("y");
  await done;

  const e2 = new FakeEngine();
  const t2 = tty();
  const done2 = runConsole(e2, e2.ready(), { confdir: confdir(), ...t2.streams });
  await new Promise((r) => setTimeout(r, 20));
  e2.emit({ t: "fatal", error: "worker crashed: out of memory" });
  await assert.rejects(done2, /worker crashed: out of memory/);
  assert.ok(t2.stdout.out.endsWith("\x1b[?25h\x1b[?1049l"));
});

test("a bad user keybinding stops the start-up before the terminal is touched, naming the entry", async () => {
  const dir = confdir();
  writeFileSync(path.join(dir, "keybindings.json"), JSON.stringify([{ key: "x", context: "flowlist", command: "console.nope" }]));
  const engine = new FakeEngine();
  const t = tty();
  await assert.rejects(
    runConsole(engine, engine.ready(), { confdir: dir, ...t.streams }),
    (err: unknown) => err instanceof KeymapError && /keybindings\.json: entry 0 \(key "x"\): unknown console command "console\.nope"/.test(err.message),
  );
  assert.equal(t.stdout.out, "");
});

test("a user keybinding whose command the engine does not have stops the start-up, naming the entry", async () => {
  const dir = confdir();
  writeFileSync(path.join(dir, "keybindings.json"), JSON.stringify([{ key: "x", context: "flowlist", command: "nosuch.cmd", help: "?" }]));
  const engine = new FakeEngine();
  const t = tty();
  await assert.rejects(
    runConsole(engine, engine.ready(), { confdir: dir, ...t.streams }),
    (err: unknown) => err instanceof KeymapError && /keybindings\.json: entry 0 \(key "x"\): unknown command "nosuch\.cmd" \(context "flowlist"\)/.test(err.message),
  );
  assert.equal(t.stdout.out, "");
});

test("stdin that is not a terminal is refused with a pointer to pryx dump", async () => {
  const engine = new FakeEngine();
  const t = tty();
  t.stdin.isTTY = false;
  await assert.rejects(runConsole(engine, engine.ready(), { confdir: confdir(), ...t.streams }), /pryx dump/);
  assert.equal(t.stdout.out, "");
});
