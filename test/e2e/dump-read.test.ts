import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { BIN, REPO, runPryx } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";

test("dump -r prints a flow and its client replay, which keeps the original's id, as mitmdump does (it printed the first alone)", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-dump-read-");
  const original = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["app.test", 80]), Request.make("GET", "http://app.test/notfound"));
  original.response = Response.make(404, "no");
  original.live = false;
  const replay = original.copy();
  replay.id = original.id;
  replay.is_replay = "request";
  const file = path.join(dir, "both.pryx");
  fs.writeFileSync(file, `${encodeFlow(original)}\n${encodeFlow(replay)}\n`);
  const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", file, "~u notfound"]);
  assert.equal(await d.exited, 0, d.stderr());
  const lines = d.stdout().trim().split("\n");
  assert.equal(lines.length, 2, d.stdout());
  assert.match(lines[0]!, /^127\.0\.0\.1:5000 GET http:\/\/app\.test\/notfound << 404/);
  assert.match(lines[1]!, /^\[replay\] GET http:\/\/app\.test\/notfound << 404/);
});

test("ctx.master.shutdown() stops pryx as Ctrl-C does (mitmproxy's shutdown example): done hooks run, exit 0", { timeout: 30_000 }, async (t) => {
  const dir = tempDir("pryx-shutdown-");
  const script = path.join(dir, "shutdown.ts");
  fs.writeFileSync(script, `import { ctx } from "${path.join(process.cwd(), "src/api.ts")}";\nexport default { running() { ctx.log.info("shutting down"); ctx.master.shutdown(); }, done() { console.error("done ran"); } };\n`);
  const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-s", script]);
  // Without a shutdown, dump -n with nothing to read would run until a signal.
  const timer = setTimeout(() => void d.stop("SIGKILL"), 20_000);
  t.after(() => clearTimeout(timer));
  assert.equal(await d.exited, 0, d.stderr());
  assert.match(d.stderr(), /done ran/);
});

test("dump -r - reads flows from standard input, as mitmdump -r - does; the console refuses it, its keys come from there", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-dump-stdin-");
  const flow = new HTTPFlow(new Client(["127.0.0.1", 5001], ["127.0.0.1", 8080]), new Server(["app.test", 80]), Request.make("GET", "http://app.test/piped"));
  flow.response = Response.make(200, "ok");
  flow.live = false;
  const run = (args: string[], input: string) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    proc.stdin.end(input);
    return new Promise<{ code: number | null; out: string; err: string }>((resolve) => proc.once("exit", (code) => resolve({ code, out, err })));
  };
  const d = await run(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", "-"], `${encodeFlow(flow)}\n`);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^127\.0\.0\.1:5001 GET http:\/\/app\.test\/piped << 200 OK 2b/m);
  assert.match(d.err, /read 1 flow from standard input/);
  const c = await run(["-n", "--confdir", path.join(dir, "conf"), "-r", "-"], "");
  assert.equal(c.code, 2);
  assert.match(c.err, /-r - reads flows from standard input, which the console reads its keys from: pipe them to `pryx dump -r -`/);
});
