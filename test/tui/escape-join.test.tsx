// First, before anything loads ink (CI runs this with CI=true).
import "../../src/tui/interactive-env.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { EscapeJoiningInput, unfinishedEscapeAt } from "../../src/tui/escape-join.ts";
import { runConsole } from "../../src/tui/index.tsx";
import { FakeEngine, makeFlows } from "./helpers/fake-engine.ts";
import { until } from "./helpers/tui.tsx";
import { tempDir } from "../helpers/temp-dir.ts";
import { FakeTtyIn, tty } from "./helpers/fake-tty.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything the wrapper hands Ink, one entry per read. */
function reader(input: EscapeJoiningInput): string[] {
  const reads: string[] = [];
  input.on("readable", () => {
    let s: string | null;
    while ((s = input.read()) !== null) reads.push(s);
  });
  return reads;
}

test("unfinishedEscapeAt finds a sequence cut short at the end of a read, and nothing in complete ones", () => {
  assert.equal(unfinishedEscapeAt("j\x1b"), 1);
  assert.equal(unfinishedEscapeAt("\x1b["), 0);
  assert.equal(unfinishedEscapeAt("\x1b[1;5"), 0);
  assert.equal(unfinishedEscapeAt("\x1bO"), 0);
  assert.equal(unfinishedEscapeAt("\x1b\x1b"), 0);
  assert.equal(unfinishedEscapeAt("\x1b\x1b["), 0);
  assert.equal(unfinishedEscapeAt("\x1b[<0;12"), 0, "a mouse report cut short");
  assert.equal(unfinishedEscapeAt("\x1b[A"), -1);
  assert.equal(unfinishedEscapeAt("\x1bOP"), -1);
  assert.equal(unfinishedEscapeAt("\x1bj"), -1, "Alt-j is complete");
  assert.equal(unfinishedEscapeAt("jk"), -1);
  assert.equal(unfinishedEscapeAt("\x1b[A\x1b[B"), -1);
});

test("an arrow key split across two reads reaches Ink as one sequence; Esc alone comes after the wait", async (t) => {
  const tty = new FakeTtyIn();
  const input = new EscapeJoiningInput(tty, { waitMs: 40 });
  t.after(() => input.dispose());
  const reads = reader(input);
  assert.equal(tty.listening, 1, "reads the terminal once Ink listens");

  tty.write("j\x1b");
  assert.deepEqual(reads, ["j"]);
  await sleep(10);
  tty.write("[B");
  assert.deepEqual(reads, ["j", "\x1b[B"]);

  tty.write("\x1b[1;");
  await sleep(10);
  tty.write("5A");
  assert.deepEqual(reads.slice(2), ["\x1b[1;5A"], "a modified arrow split inside its parameters");

  tty.write("\x1b");
  await sleep(15);
  assert.deepEqual(reads.slice(3), [], "held while the rest may still come");
  assert.ok(await until(() => reads.length === 4, 500));
  assert.equal(reads[3], "\x1b", "the Esc key, once nothing followed");
});

test("Esc then a letter a moment later stay two reads, the letter a turn after, so Ink does not make them Alt with the letter", async (t) => {
  const tty = new FakeTtyIn();
  const input = new EscapeJoiningInput(tty, { waitMs: 200 });
  t.after(() => input.dispose());
  const reads = reader(input);
  tty.write("\x1b");
  await sleep(10);
  tty.write("q");
  assert.deepEqual(reads, ["\x1b"], "the Esc at once, alone");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(reads, ["\x1b", "q"]);
});

test("the terminal is let go when Ink stops listening (an editor pryx hands the terminal to reads it)", () => {
  const tty = new FakeTtyIn();
  const input = new EscapeJoiningInput(tty);
  const fn = () => undefined;
  input.on("readable", fn);
  assert.equal(tty.listening, 1);
  input.off("readable", fn);
  assert.equal(tty.listening, 0);
});

function startConsole() {
  const engine = new FakeEngine();
  const t = tty();
  const done = runConsole(engine, engine.ready(), { confdir: tempDir("pryx-escape-"), ...t.streams });
  return { engine, stdin: t.stdin, stdout: t.stdout, done };
}

test("in the console, Esc then y a moment later is Esc's quit question answered, not Alt-y", async () => {
  const { engine, stdin, stdout, done } = startConsole();
  engine.add(makeFlows(1, () => ({ path: "/esc-y" })));
  assert.ok(await until(() => stdout.out.includes("/esc-y")), stdout.out);
  await sleep(20);
  stdin.write("\x1b");
  await sleep(15);
  assert.ok(!stdout.out.includes("Quit pryx?"), "Esc waits for what may follow it");
  stdin.write("y");
  assert.ok(await until(() => stdout.out.includes("Quit pryx?")), "Esc asked to quit");
  await done;
});

test("in the console, Down arriving as ESC then [B moves the focus instead of Esc, [ and B (browser.start)", async () => {
  const { engine, stdin, stdout, done } = startConsole();
  const flows = makeFlows(2, (i) => ({ seq: 1 + i, path: `/split/${i}` }));
  engine.add(flows);
  assert.ok(await until(() => stdout.out.includes("/split/1")), stdout.out);
  await sleep(20);
  stdin.write("\x1b");
  await sleep(30);
  stdin.write("[B");
  await sleep(20);
  stdin.write("\r");
  assert.ok(await until(() => engine.requests.some((r) => r.op === "detail")), "Enter opened a flow");
  const opened = engine.requests.find((r) => r.op === "detail");
  assert.equal(opened?.op === "detail" ? opened.id : undefined, flows[1]!.id, "the second flow: the focus moved down");
  assert.deepEqual(engine.commandLines().filter((l) => l.startsWith("browser")), [], "no B key ran");
  stdin.write("Q");
  await done;
});

test("a bracketed paste goes to onPaste whole, however many reads it takes, and the keys around it to Ink", () => {
  const tty = new FakeTtyIn();
  const pastes: string[] = [];
  const input = new EscapeJoiningInput(tty, { onPaste: (t) => pastes.push(t) });
  const reads = reader(input);
  tty.write("j\x1b[20");
  tty.write("0~dz");
  tty.write("z\nq\x1b[20");
  assert.deepEqual(pastes, [], "not before its end");
  tty.write("1~k");
  assert.deepEqual(pastes, ["dzz\nq"]);
  assert.deepEqual(reads, ["j", "k"], "none of the pasted text reached Ink as keys");
  input.dispose();
});

test("in the console, a paste over the flow list runs none of its letters; in the prompt it is typed, its line break not run", async () => {
  const { engine, stdin, stdout, done } = startConsole();
  engine.add(makeFlows(3, (i) => ({ seq: 1 + i, path: `/paste/${i}` })));
  assert.ok(await until(() => stdout.out.includes("/paste/2")), stdout.out);
  await sleep(20);
  stdin.write("\x1b[200~dzz\x1b[201~");
  assert.ok(await until(() => stdout.out.includes("paste ignored")), "the status bar says the paste went nowhere");
  assert.deepEqual(engine.requests.filter((r) => r.op === "command"), [], "d and z ran nothing");
  stdin.write(":");
  await sleep(30);
  stdin.write("\x1b[200~set console_focus_follow true\n\x1b[201~");
  assert.ok(await until(() => stdout.out.includes(": set console_focus_follow true")), "typed into the prompt");
  await sleep(30);
  assert.deepEqual(engine.commandLines(), [], "the pasted line break did not run it");
  stdin.write("\x03");
  await sleep(30);
  stdin.write("Q");
  await done;
});

test("a paste whose end marker never comes is taken as ended once the input goes quiet, and keys are keys again", async () => {
  const tty = new FakeTtyIn();
  const pastes: string[] = [];
  const input = new EscapeJoiningInput(tty, { onPaste: (t) => pastes.push(t), pasteIdleMs: 30 });
  const reads = reader(input);
  tty.write("\x1b[200~lost end");
  await sleep(10);
  tty.write(" more");
  assert.deepEqual(pastes, []);
  assert.ok(await until(() => pastes.length === 1, 500));
  assert.deepEqual(pastes, ["lost end more"]);
  tty.write("j");
  assert.deepEqual(reads, ["j"]);
  input.dispose();
});
