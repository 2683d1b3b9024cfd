/**
 * The real `pryx` console under tmux: a real proxy, a real client (curl), a real terminal.
 * Skipped when tmux or curl is missing. Polls the screen with deadlines; no fixed sleeps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import http from "node:http";
import path from "node:path";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ROOT, have, tmuxSession } from "./helpers/tmux.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const SOCKET = `pryx-e2e-${process.pid}`;
const { tmux, waitScreen, stop } = tmuxSession(SOCKET, "e2e");

test("the real console: flows appear, Enter shows the request headers, q returns, ? helps, Q exits and restores the terminal", { skip: !have("tmux") || !have("curl") ? "needs tmux and curl" : false, timeout: 90_000 }, async () => {
  const origin = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ path: req.url, ok: true }));
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const originPort = (origin.address() as { port: number }).port;
  const home = tempDir("pryx-e2e-");
  try {
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", ROOT, "-e", `HOME=${home}`, "sh");
    const cmd = `echo before-pryx-marker; node bin/pryx.mjs -p 0 --confdir ${path.join(home, "conf")} 2>${path.join(home, "stderr")}; echo pryx-exit=$?`;
    tmux("send-keys", "-t", "e2e", cmd, "Enter");
    const up = await waitScreen((s) => /127\.0\.0\.1:\d+/.test(s) && s.includes("[0/0]"), "the console", 40_000);
    const proxyPort = /127\.0\.0\.1:(\d+)/.exec(up)![1]!;
    assert.ok(!up.includes("before-pryx-marker"), "the console draws on the alternate screen");

    for (const p of ["/e2e/one", "/e2e/two?x=1"]) {
      // Asynchronously: the origin server runs in this process and must keep answering.
      const r = await promisify(execFile)("curl", ["-s", "-x", `http://127.0.0.1:${proxyPort}`, "-H", "X-Pryx-E2E: hello-from-curl", `http://127.0.0.1:${originPort}${p}`], { encoding: "utf8", timeout: 15_000 });
      assert.match(r.stdout, /"ok":true/);
    }
    const list = await waitScreen((s) => s.includes("/e2e/two?x=1") && s.includes("/2]"), "both flows");
    assert.match(list, /^>>.*GET +127\.0\.0\.1:\d+\/e2e\/one +200/m);

    tmux("send-keys", "-t", "e2e", "Enter");
    const detail = await waitScreen((s) => s.includes("X-Pryx-E2E: hello-from-curl"), "the request headers");
    assert.match(detail, /\[Request\]/);
    assert.match(detail, /GET http:\/\/127\.0\.0\.1:\d+\/e2e\/one HTTP\/1\.1/);

    tmux("send-keys", "-t", "e2e", "Tab");
    await waitScreen((s) => s.includes("[Response]") && s.includes('"ok": true'), "the response");

    tmux("send-keys", "-t", "e2e", "q");
    await waitScreen((s) => s.includes("/e2e/two?x=1") && !s.includes("[Response]"), "the flow list again");

    tmux("send-keys", "-t", "e2e", "?");
    await waitScreen((s) => s.includes("Keys for this view (flowlist)") && s.includes("Toggle mark on this flow"), "help");
    tmux("send-keys", "-t", "e2e", "q");
    await waitScreen((s) => s.includes("/e2e/two?x=1"), "the flow list after help");

    tmux("send-keys", "-t", "e2e", "Q");
    // The typed command line holds these words too: look for the lines the shell printed.
    const printed = (s: string, word: string) => s.split("\n").some((l) => l.includes(word) && !l.includes("echo"));
    const after = await waitScreen((s) => printed(s, "pryx-exit="), "pryx to exit", 30_000);
    assert.match(after, /pryx-exit=0/);
    assert.ok(printed(after, "before-pryx-marker"), "the normal screen is back");
    assert.doesNotMatch(after, /\/2\]/);
  } finally {
    stop();
    origin.close();
  }
});

test("the real console: what happens before it starts is shown: flows read with -r, and the event log's start-up lines (the new CA's among them)", { skip: !have("tmux") ? "needs tmux" : false, timeout: 60_000 }, async () => {
  const home = tempDir("pryx-e2e-");
  const confdir = path.join(home, "conf");
  try {
    tmux("new-session", "-d", "-s", "e2e", "-x", "200", "-y", "30", "-c", ROOT, "-e", `HOME=${home}`, "sh");
    tmux("send-keys", "-t", "e2e", `node bin/pryx.mjs -n --confdir ${confdir} -r test/fixtures/mitmproxy-8.1.1.flow`, "Enter");
    await waitScreen((s) => s.includes("/3]") && s.includes("/form?x=1&flag"), "the flows read with -r", 40_000);
    tmux("send-keys", "-t", "e2e", "E");
    // The status bar shows the new CA too: the event log is up once it has the read line as well.
    await waitScreen((s) => s.includes(`read 3 flows from ${path.join(ROOT, "test/fixtures/mitmproxy-8.1.1.flow")}`) && s.includes(`created a new CA in ${confdir} — trust ${path.join(confdir, "pryx-ca-cert.pem")}`), "the start-up entries in the event log");
    tmux("send-keys", "-t", "e2e", "q", "Q");
  } finally {
    stop();
  }
});

test("the real console: a terminal that goes away (as when an SSH connection drops) shuts the proxy down as a quit does", { skip: !have("tmux") ? "needs tmux" : false, timeout: 90_000 }, async () => {
  const home = tempDir("pryx-e2e-");
  const addon = path.join(home, "done.mjs");
  writeFileSync(addon, `import fs from "node:fs";\nexport default { done() { fs.writeFileSync(process.env.PRYX_DONE, "done"); } };\n`);
  // The hang-up as a signal (pryx leads the session, as under sshd or tmux), and as the end of the
  // terminal's input alone (a shell that outlives the hang-up and reports pryx's exit status).
  const runs = [
    { how: "SIGHUP", command: (run: string) => run },
    { how: "end of input", command: (run: string) => `sh -c 'trap : HUP; ${run}; echo $? > ${path.join(home, "rc")}'` },
  ];
  for (const { how, command } of runs) {
    const done = path.join(home, `done-${runs.findIndex((r) => r.how === how)}`);
    const stderr = `${done}.stderr`;
    try {
      const run = `node bin/pryx.mjs -n --confdir ${path.join(home, "conf")} -s ${addon} 2>${stderr}`;
      tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", ROOT, "-e", `HOME=${home}`, "-e", `PRYX_DONE=${done}`, command(run));
      await waitScreen((s) => s.includes("[0/0]"), "the console", 40_000);
    } finally {
      stop();
    }
    const deadline = Date.now() + 20_000;
    while (!existsSync(done) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(done), `${how}: the addons' done hook ran (the engine shut down cleanly); stderr: ${readFileSync(stderr, "utf8")}`);
    // Before, the first write to the dead terminal was an unhandled EIO, then Node aborted resetting it.
    assert.doesNotMatch(readFileSync(stderr, "utf8"), /Error|Assertion|EIO/, how);
  }
  const rc = path.join(home, "rc");
  const deadline = Date.now() + 10_000;
  // The shell creates the file, then writes the status: wait for the status, not the file.
  while (!(existsSync(rc) && readFileSync(rc, "utf8").trim()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(readFileSync(rc, "utf8").trim(), "0");
});

test("the real console: a Ctrl-C that arrives as a signal (from the pager pryx ran, or kill -INT) asks before quitting, as mitmproxy's does", { skip: !have("tmux") || !have("pgrep") ? "needs tmux and pgrep" : false, timeout: 90_000 }, async () => {
  const home = tempDir("pryx-e2e-");
  const confdir = path.join(home, "conf");
  const exited = path.join(home, "exited");
  try {
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", ROOT, "-e", `HOME=${home}`, `node bin/pryx.mjs -n --confdir ${confdir}; echo $? > ${exited}; sleep 60`);
    await waitScreen((s) => s.includes("[0/0]"), "the console", 40_000);
    const pid = Number((await promisify(execFile)("pgrep", ["-f", `^node bin/pryx.mjs -n --confdir ${confdir}`], { encoding: "utf8" })).stdout.trim().split("\n")[0]);
    assert.ok(pid > 0, "pryx's pid");
    process.kill(pid, "SIGINT");
    await waitScreen((s) => s.includes("Quit pryx? (y/n)"), "the quit question");
    tmux("send-keys", "-t", "e2e", "n");
    await waitScreen((s) => !s.includes("Quit pryx?") && s.includes("[0/0]"), "the console again");
    assert.equal(existsSync(exited), false, "still running after n");
    process.kill(pid, "SIGINT");
    await waitScreen((s) => s.includes("Quit pryx? (y/n)"), "the quit question again");
    tmux("send-keys", "-t", "e2e", "y");
    const deadline = Date.now() + 20_000;
    while (!(existsSync(exited) && readFileSync(exited, "utf8").trim()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(exited, "utf8").trim(), "0");
  } finally {
    stop();
  }
});

test("the real console: Ctrl-Z suspends it to the shell and fg brings it back; stopped from outside (kill -TSTP) and continued, its keys still work", { skip: !have("tmux") || !have("pgrep") || !have("bash") ? "needs tmux, pgrep and bash" : false, timeout: 90_000 }, async () => {
  const home = tempDir("pryx-e2e-");
  const confdir = path.join(home, "conf");
  const command = `node bin/pryx.mjs -n --confdir ${confdir}`;
  try {
    const rc = path.join(home, "bashrc");
    writeFileSync(rc, "PS1='SHELL$ '\n");
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", ROOT, "-e", `HOME=${home}`, `bash --noprofile --rcfile ${rc} -i`);
    await waitScreen((s) => s.includes("SHELL$"), "the shell");
    tmux("send-keys", "-t", "e2e", "-l", command);
    tmux("send-keys", "-t", "e2e", "Enter");
    const consoleUp = (s: string) => s.includes("[0/0]") && !s.includes("Stopped");
    await waitScreen(consoleUp, "the console", 40_000);

    const jobStopped = (s: string) => /Stopped\s+node bin\/pryx\.mjs/.test(s) && /^SHELL\$\s*$/m.test(s);
    /** `fg`, then a key without Enter, which only a raw terminal passes on at once. */
    const continueAndPressE = async (after: string) => {
      tmux("send-keys", "-t", "e2e", "-l", "fg");
      tmux("send-keys", "-t", "e2e", "Enter");
      await waitScreen(consoleUp, `the console again after ${after}`);
      tmux("send-keys", "-t", "e2e", "E");
      await waitScreen((s) => s.includes("q back"), `the event log, opened by E alone after ${after}`);
    };

    tmux("send-keys", "-t", "e2e", "C-z");
    await waitScreen((s) => jobStopped(s) && !s.includes("[0/0]"), "the shell's prompt with the job stopped, on the normal screen");
    await continueAndPressE("Ctrl-Z");
    tmux("send-keys", "-t", "e2e", "q");
    const list = await waitScreen((s) => s.includes("q quit"), "the flow list");
    assert.match(list.split("\n")[29] ?? "", /q quit/, "the key bar on the terminal's last row: every row is used");

    // The shell sets the terminal to its own cooked mode while the job is stopped.
    const pid = Number((await promisify(execFile)("pgrep", ["-f", `^${command}`], { encoding: "utf8" })).stdout.trim().split("\n")[0]);
    process.kill(pid, "SIGTSTP");
    await waitScreen(jobStopped, "the job stopped from outside");
    await continueAndPressE("kill -TSTP");
    tmux("send-keys", "-t", "e2e", "Q");
    await waitScreen((s) => /^SHELL\$\s*$/m.test(s) && !s.includes("q back"), "the shell after Q");
  } finally {
    stop();
  }
});
