import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runPryx, startDump } from "../helpers/cli.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";

/** A flow file of `n` finished flows. */
function flowFile(dir: string, n: number): string {
  const file = path.join(dir, "flows.pryx");
  const lines = Array.from({ length: n }, (_, i) => {
    const f = new HTTPFlow(new Client(["127.0.0.1", 5000 + i], ["127.0.0.1", 8080]), new Server(["app.test", 80]), Request.make("GET", `http://app.test/${i}`));
    f.response = Response.make(i === 1 ? 500 : 200, "x");
    f.live = false;
    return encodeFlow(f);
  });
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

test("an addon sets dump's exit status, as a script's sys.exit(N) sets mitmdump's: process.exitCode, or process.exit(N) in done or in a hook", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-exit-");
  const file = flowFile(dir, 3);
  const script = (name: string, body: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, body);
    return p;
  };
  const cases: [string, string, number][] = [
    ["exitcode.ts", "let failed = 0;\nexport function response(f: any) { if (f.response.status_code >= 500) failed++; }\nexport function done() { process.exitCode = failed ? 5 : 0; }\n", 5],
    ["exit-done.ts", "export function done() { process.exit(3); }\n", 3],
    ["exit-hook.ts", "export function response(f: any) { if (f.response.status_code >= 500) process.exit(4); }\n", 4],
    ["passes.ts", "export function done() { process.exitCode = 0; }\n", 0],
  ];
  for (const [name, body, code] of cases) {
    const d = runPryx(["dump", "-n", "-q", "--confdir", path.join(dir, "conf"), "-r", file, "-s", script(name, body)]);
    assert.equal(await d.exited, code, `${name}: ${d.stderr()}`);
  }
});

test("ctx.master.shutdown() called again and again (a hook under load) stops dump once: done runs, exit 0, not a second Ctrl-C's forced exit", { timeout: 60_000 }, async (t) => {
  const dir = tempDir("pryx-shutdown-twice-");
  const file = flowFile(dir, 3);
  const report = path.join(dir, "report.txt");
  const script = path.join(dir, "twice.ts");
  fs.writeFileSync(
    script,
    `import { ctx } from "${path.join(process.cwd(), "src/api.ts")}";\nimport fs from "node:fs";\n` +
      `export function response() { ctx.master.shutdown(); setTimeout(() => ctx.master.shutdown(), 100); }\n` +
      `export async function done() { await new Promise((r) => setTimeout(r, 500)); fs.writeFileSync(${JSON.stringify(report)}, "done ran"); }\n`,
  );
  // -n -s with no file to read: it runs until shutdown is called; here from each flow the client replay sends.
  const d = runPryx(["dump", "-n", "-q", "--confdir", path.join(dir, "conf"), "-r", file, "-s", script, "--set", "keepserving=true"]);
  const timer = setTimeout(() => void d.stop("SIGKILL"), 40_000);
  t.after(() => clearTimeout(timer));
  assert.equal(await d.exited, 0, d.stderr());
  assert.equal(fs.readFileSync(report, "utf8"), "done ran");
});

test("-w naming the file -r reads is refused before anything is written: appending read its own flows back without end, writing emptied it", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-same-file-");
  const file = flowFile(dir, 2);
  const before = fs.readFileSync(file, "utf8");
  for (const w of [`+${file}`, file]) {
    const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", file, "-w", w]);
    assert.equal(await d.exited, 2, d.stderr());
    assert.match(d.stderr(), /cannot save flows to .*flows\.pryx: it is the file -r reads/);
    assert.doesNotMatch(d.stderr(), /save-stream\.ts|\\x0a/, "no pryx source location, no escaped line break");
    assert.equal(fs.readFileSync(file, "utf8"), before);
  }
});

test("-C or -S of a file with no flow in it is an error at start (exit 2, naming the file), as -r's is and mitmdump's: a CI run replaying a broken capture replayed nothing and passed", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-replay-garbage-");
  const garbage = path.join(dir, "garbage.mitm");
  fs.writeFileSync(garbage, "garbage\n");
  for (const flag of ["-C", "-S"]) {
    const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), flag, garbage]);
    assert.equal(await d.exited, 2, `${flag}: ${d.stderr()}`);
    assert.match(d.stderr(), /no flow could be read from .*garbage\.mitm/);
    assert.doesNotMatch(d.stderr(), /<anonymous>/, "no frame of pryx's own or the runtime's as the addon's place");
  }
});

test("the same script named twice is refused at start, as mitmdump refuses it: loaded twice, its hooks ran twice", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-dup-script-");
  const script = path.join(dir, "count.ts");
  fs.writeFileSync(script, "export function done() { console.error('done'); }\n");
  const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-s", script, "-s", path.relative(process.cwd(), script)]);
  assert.equal(await d.exited, 2, d.stderr());
  assert.match(d.stderr(), /duplicate script .*count\.ts: a script is loaded once/);
});

test("dump follows flow_detail and termlog_verbosity as an addon changes them, as mitmdump does (they were read once at start)", { timeout: 60_000 }, async (t) => {
  const dir = tempDir("pryx-live-detail-");
  const script = path.join(dir, "detail.ts");
  fs.writeFileSync(script, `import { ctx } from "${path.join(process.cwd(), "src/api.ts")}";\nexport function running() { ctx.options.flow_detail = 2; ctx.options.termlog_verbosity = "warn"; }\nexport function request() { ctx.log.info("an info line"); ctx.log.warn("a warning"); }\n`);
  const origin = await startHttpOrigin((_req, res) => res.end("hi"));
  t.after(() => origin.close());
  const d = await startDump(["-s", script], { confdir: path.join(dir, "conf") });
  t.after(async () => void (await d.stop("SIGKILL")));
  await d.waitStderr(/loaded script/);
  await viaProxy(d.port, `http://127.0.0.1:${origin.port}/detail`, { headers: { "x-marker": "seen" } });
  await d.waitStdout(/^ {4}x-marker: seen$/im);
  await d.waitStderr(/\[warn\] a warning/);
  assert.doesNotMatch(d.stderr(), /an info line/);
});

test("an addon that throws in running stops dump (exit 2) after saying so, as mitmdump's errorcheck after running stops it; the console would serve on", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-running-throws-");
  const script = path.join(dir, "half.ts");
  fs.writeFileSync(script, "export function running() { throw new Error('boom in running'); }\n");
  const d = runPryx(["dump", "--listen-host", "127.0.0.1", "-p", "0", "--confdir", path.join(dir, "conf"), "-s", script]);
  assert.equal(await d.exited, 2, d.stderr());
  assert.match(d.stderr(), /half\.ts.*running.*boom in running/);
  assert.match(d.stderr(), /stopped: an addon failed in its running hook/);
});
