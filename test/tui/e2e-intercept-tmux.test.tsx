/**
 * The whole intercept story as a user plays it, in the real console under tmux: set the intercept
 * filter with `i`, send a request with curl in the background, see it paused, `e` to edit the
 * request headers in the grid, add a header, leave the grid, `a` to resume; curl gets the origin's
 * answer to the edited request. Skipped when tmux or curl is missing. Polls with deadlines.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile, type ChildProcess } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, have, tmuxSession } from "./helpers/tmux.ts";
import { deadPort } from "../helpers/wait.ts";

const SOCKET = `pryx-e2e-intercept-${process.pid}`;
const SESSION = "icpt";
const { tmux, keys, type, waitScreen, stop } = tmuxSession(SOCKET, SESSION);

/** The origin answers with the headers (and body) it received, so curl's output shows what arrived. */
async function echoOrigin(): Promise<{ origin: http.Server; originPort: number }> {
  const origin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  return { origin, originPort: (origin.address() as net.AddressInfo).port };
}

/**
 * An echo origin and a temp HOME; when the test ends the tmux server, curl, the origin and HOME go.
 * `curl` runs `curl -s` through the proxy in the background: its exit code (1 when killed) and output.
 */
async function setUp(t: TestContext, homePrefix: string) {
  const { origin, originPort } = await echoOrigin();
  const home = mkdtempSync(path.join(tmpdir(), homePrefix));
  let child: ChildProcess | undefined;
  t.after(() => {
    stop();
    child?.kill();
    origin.closeAllConnections();
    origin.close();
    rmSync(home, { recursive: true, force: true });
  });
  const curl = (proxyPort: number, args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      child = execFile("curl", ["-s", "-x", `http://127.0.0.1:${proxyPort}`, ...args], { encoding: "utf8", timeout: 60_000 }, (err, stdout) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === "number" ? code : 1, out: stdout });
      });
    });
  return { originPort, home, curl };
}

/**
 * pryx on a free port in a new tmux session (HOME=`home`, then the `-e` settings in `env`) with
 * `args` after its own; waits for the console. The shell prints pryx-exit=<status> when it ends.
 */
async function startPryx(home: string, { env = [], args = "" }: { env?: string[]; args?: string } = {}): Promise<number> {
  const proxyPort = await deadPort();
  tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", "-c", ROOT, "-e", `HOME=${home}`, ...env.flatMap((e) => ["-e", e]), "sh");
  keys(`node bin/pryx.mjs -p ${proxyPort} --confdir ${path.join(home, "conf")}${args ? ` ${args}` : ""} 2>${path.join(home, "stderr")}; echo pryx-exit=$?`, "Enter");
  await waitScreen((s) => s.includes(`127.0.0.1:${proxyPort}`) && s.includes("[0/0]"), "the console", 40_000);
  return proxyPort;
}

test(
  "tmux: i sets the intercept filter, curl's request pauses, e edits a header in the grid, a resumes, the origin sees the edit",
  { skip: !have("tmux") || !have("curl") ? "needs tmux and curl" : false, timeout: 120_000 },
  async (t) => {
    const { originPort, home, curl } = await setUp(t, "pryx-e2e-icpt-");
    const proxyPort = await startPryx(home);

    // i opens the prompt on `set intercept ''` with the cursor inside the quotes.
    keys("i");
    await waitScreen((s) => s.includes(": set intercept ''"), "the intercept prompt");
    type("~q & ~u /login");
    await waitScreen((s) => s.includes(": set intercept '~q & ~u /login'"), "the typed filter");
    keys("Enter");
    await waitScreen((s) => s.includes("[i:~q & ~u /login]"), "the intercept filter in the status bar");

    const curlDone = curl(proxyPort, [`http://127.0.0.1:${originPort}/login`]);

    const paused = await waitScreen((s) => /^>>.*\/login.*intercepted/m.test(s) && s.includes("[intercepted:1]"), "the paused flow");
    assert.match(paused, /GET +127\.0\.0\.1:\d+\/login/);

    keys("e");
    await waitScreen((s) => s.includes("Edit...") && s.includes("8 request-headers"), "the edit chooser");
    keys("8");
    await waitScreen((s) => s.includes("Edit Request Headers") && /^>> Host +127\.0\.0\.1/m.test(s), "the header grid");
    keys("a");
    type("X-Edited");
    keys("Tab");
    type("yes");
    keys("Enter");
    await waitScreen((s) => /^>> X-Edited +yes/m.test(s), "the new header row");
    keys("q");
    const back = await waitScreen((s) => s.includes("edited request-headers") && !s.includes("Edit Request Headers"), "the list after the grid");
    assert.match(back, /^>>.*\/login.*intercepted/m, "still paused until resumed");

    keys("a");
    const { code, out: curlOut } = await curlDone;
    assert.equal(code, 0, `curl failed: ${curlOut}`);
    const answer = JSON.parse(curlOut) as { path: string; headers: Record<string, string> };
    assert.equal(answer.path, "/login");
    assert.equal(answer.headers["x-edited"], "yes", curlOut);
    await waitScreen((s) => /^>>.*\/login +200/m.test(s) && !s.includes("[intercepted:"), "the finished flow");

    keys("Q");
    // The typed command line holds the word too: look for the line the shell printed.
    const exitLine = (s: string) => s.split("\n").find((l) => l.includes("pryx-exit=") && !l.includes("echo"));
    const after = await waitScreen((s) => exitLine(s) !== undefined, "pryx to exit", 30_000);
    assert.match(exitLine(after)!, /pryx-exit=0/);
  },
);

test(
  "tmux: the body goes to $EDITOR on the normal screen, which gets every key typed; the console comes back drawn and the edit is sent",
  { skip: !have("tmux") || !have("curl") ? "needs tmux and curl" : false, timeout: 120_000 },
  async (t) => {
    const { originPort, home, curl } = await setUp(t, "pryx-e2e-editor-");
    // An "editor" that asks for the new body on the terminal: it only works if pryx let go of it.
    const editor = path.join(home, "ask-editor.sh");
    writeFileSync(editor, `#!/bin/sh\nprintf 'was: %s\\nnew body: ' "$(cat "$1")"\nIFS= read -r line\nprintf '%s' "$line" > "$1"\n`);
    chmodSync(editor, 0o755);

    const proxyPort = await startPryx(home, { env: [`EDITOR=${editor}`], args: "-i '~q & ~m POST'" });
    await waitScreen((s) => s.includes("[i:~q & ~m POST]"), "the intercept filter from -i in the status bar");

    const curlDone = curl(proxyPort, ["--data-raw", "user=alice", `http://127.0.0.1:${originPort}/submit`]);
    await waitScreen((s) => /^>>.*POST.*\/submit.*intercepted/m.test(s), "the paused POST");

    keys("e");
    await waitScreen((s) => s.includes("a request-body"), "the edit chooser");
    keys("a");
    const inEditor = await waitScreen((s) => s.includes("new body:"), "the editor on the normal screen");
    assert.match(inEditor, /was: user=alice/);
    assert.doesNotMatch(inEditor, /\[intercepted:1\]/, "the console's screen is put away");
    type("user=mallory&admin=1");
    keys("Enter");
    const back = await waitScreen((s) => s.includes("edited request-body") && s.includes("[intercepted:1]"), "the console drawn again");
    assert.match(back, /^>>.*POST.*\/submit.*intercepted/m);
    assert.doesNotMatch(back, /new body:/);

    // The keyboard is the console's again.
    keys("a");
    const { out: curlOut } = await curlDone;
    const answer = JSON.parse(curlOut) as { body: string; headers: Record<string, string> };
    assert.equal(answer.body, "user=mallory&admin=1");
    assert.equal(answer.headers["content-length"], String("user=mallory&admin=1".length));
  },
);
