import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { REPO, runPryx, startDump, type Pryx } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { startHttpOrigin, viaProxy, type Origin } from "../helpers/origin.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import { httpsViaProxy, startTlsOrigin } from "../helpers/tls-origin.ts";
import { MODES } from "../../src/engine/modes.ts";
import http from "node:http";
import net from "node:net";
import { WebSocketServer, WebSocket } from "ws";

const CURL = "/usr/bin/curl";
// PRYX_TEST_NO_CURL=1 exercises the node:http fallback on a machine that has curl.
const hasCurl = fs.existsSync(CURL) && !process.env["PRYX_TEST_NO_CURL"];

// One confdir for the file: the first run creates the CA, the rest reuse it.
const confdir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-conf-"));
process.on("exit", () => fs.rmSync(confdir, { recursive: true, force: true }));

/** A scratch directory for addon scripts, outside the project and any package.json. */
function scratch(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-scripts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** GET through the proxy with curl when installed (what users do), else node:http. */
async function get(proxyPort: number, url: string): Promise<{ status: number; body: string; headers: string }> {
  if (!hasCurl) {
    const r = await viaProxy(proxyPort, url);
    const lines: string[] = [];
    for (let i = 0; i < r.rawHeaders.length; i += 2) lines.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`);
    return { status: r.status, body: r.body.toString(), headers: lines.join("\r\n") };
  }
  const { stdout } = await promisify(execFile)(CURL, ["-sS", "--noproxy", "", "-x", `http://127.0.0.1:${proxyPort}`, "-D", "-", url], { encoding: "utf8" });
  const split = stdout.indexOf("\r\n\r\n");
  const headers = stdout.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body: stdout.slice(split + 4) };
}

async function origin(t: { after(fn: () => Promise<void>): void }): Promise<Origin> {
  const o = await startHttpOrigin((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (req.method === "POST") res.writeHead(201, { "Content-Type": "text/plain" }).end("x".repeat(1536));
      else res.end("hello");
    });
  });
  t.after(() => o.close());
  return o;
}

async function dump(t: { after(fn: () => Promise<void>): void }, args: string[], env?: NodeJS.ProcessEnv): Promise<Pryx> {
  const p = await startDump(args, { confdir, env });
  t.after(async () => void (await p.stop("SIGKILL")));
  return p;
}

const DURATION = String.raw`(\d+ms|\d+\.\d\ds)`;

test("pryx dump prints one line per flow: client, method, full URL, status, size, duration", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const p = await dump(t, []);
  const base = `http://127.0.0.1:${o.port}`;
  const r = await get(p.port, `${base}/path?x=1`);
  assert.equal(r.status, 200);
  assert.equal(r.body, "hello");
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET ${base}/path\\?x=1 << 200 OK 5b ${DURATION}$`, "m"));
  const posted = await viaProxy(p.port, `${base}/submit`, { method: "POST", body: "data" });
  assert.equal(posted.status, 201);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ POST ${base}/submit << 201 Created 1\\.5k ${DURATION}$`, "m"));
  const dead = await deadPort();
  assert.equal((await viaProxy(p.port, `http://127.0.0.1:${dead}/gone`)).status, 502);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET http://127\\.0\\.0\\.1:${dead}/gone << error: .*connection refused`, "m"));
  assert.equal(p.stdoutLines().length, 3);
});

test("--flow-detail 2 adds the headers under the line, 3 the bodies too (mitmdump's levels); --set flow_detail works alike", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const base = `http://127.0.0.1:${o.port}`;
  const p3 = await dump(t, ["--flow-detail", "3"]);
  await viaProxy(p3.port, `${base}/submit`, { method: "POST", body: "ping-body", headers: { "X-Asked": "yes" } });
  await p3.waitStdout(/^ << 201 Created$/m);
  await waitUntil(() => p3.stdout().endsWith("\n\n") || undefined, "the end of the flow's block");
  const out = p3.stdout();
  assert.match(out, new RegExp(`^127\\.0\\.0\\.1:\\d+ POST ${base}/submit << 201 Created 1\\.5k ${DURATION}\n`));
  assert.match(out, /^ {4}X-Asked: yes$/m);
  assert.match(out, /^ {4}ping-body$/m);
  assert.match(out, /^ {4}Content-Type: text\/plain$/m);
  assert.match(out, /^ {4}x{1536}$/m);
  const p2 = await dump(t, ["--set", "flow_detail=2"]);
  await viaProxy(p2.port, `${base}/submit`, { method: "POST", body: "ping-body", headers: { "X-Asked": "yes" } });
  await p2.waitStdout(/^ {4}Content-Type: text\/plain$/m);
  assert.match(p2.stdout(), /^ {4}X-Asked: yes$/m);
  assert.doesNotMatch(p2.stdout(), /ping-body|xxxx/);
});

test("from flow_detail 3 bodies go through dumper_default_contentview: JSON pretty-printed, bytes as hex, long ones cut", { timeout: 30_000 }, async (t) => {
  const o = await startHttpOrigin((req, res) => {
    if (req.url === "/json") res.writeHead(200, { "Content-Type": "application/json" }).end('{"user":{"id":7,"tags":["a","b"]}}');
    else if (req.url === "/bin") res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(Buffer.from([0, 1, 2, 0xfe, 0xff, 0x41]));
    else res.writeHead(200, { "Content-Type": "text/plain" }).end(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n"));
  });
  t.after(() => o.close());
  const base = `http://127.0.0.1:${o.port}`;
  const p = await dump(t, ["--flow-detail", "3", "--set", "content_view_lines_cutoff=12"]);
  await viaProxy(p.port, `${base}/json`);
  await p.waitStdout(/^ {8}"tags": \[$/m);
  assert.match(p.stdout(), /^ {4}\{\n {6}"user": \{\n {8}"id": 7,$/m, "JSON indented under the flow, as mitmdump prints it");
  await viaProxy(p.port, `${base}/bin`);
  await p.waitStdout(/^ {4}00000000 {2}00 01 02 fe ff 41 +\.{5}A$/m);
  await viaProxy(p.port, `${base}/long`);
  await p.waitStdout(/^ {4}\[cut: \d+b in all; --flow-detail 4 shows everything\]$/m);
  assert.match(p.stdout(), /^ {4}line 12\n {4}\[cut:/m, "twelve lines, then the notice");
  assert.doesNotMatch(p.stdout(), /line 13/);

  const raw = await dump(t, ["--flow-detail", "4", "--set", "dumper_default_contentview=raw"]);
  await viaProxy(raw.port, `${base}/json`);
  await raw.waitStdout(/^ {4}\{"user":\{"id":7,"tags":\["a","b"\]\}\}$/m);
  await viaProxy(raw.port, `${base}/long`);
  await raw.waitStdout(/^ {4}line 20$/m);
});

test("pryx dump --jsonl prints one JSON object per finished flow, and only those: what addons print goes to stderr", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const dir = scratch(t);
  const chatty = path.join(dir, "chatty.ts");
  fs.writeFileSync(chatty, `export default { load() { console.log("loaded"); }, response(f: { request: { path: string } }) { console.log("resp", f.request.path); process.stdout.write("raw write\\n"); } };\n`);
  const p = await dump(t, ["--jsonl", "-s", chatty]);
  const base = `http://127.0.0.1:${o.port}`;
  await get(p.port, `${base}/a`);
  await viaProxy(p.port, `${base}/b`, { method: "POST", body: "four" });
  await waitUntil(() => p.stdoutLines().length >= 2 || undefined, "two JSON lines");
  // Flows finishing within one batch may print in either order.
  const flows = p.stdoutLines().map((l) => JSON.parse(l) as Record<string, unknown>).sort((a, b) => String(a["url"]).localeCompare(String(b["url"])));
  assert.deepEqual(flows.map((f) => [f["method"], f["url"], f["status"], f["respSize"], f["reqSize"]]), [
    ["GET", `${base}/a`, 200, 5, 0],
    ["POST", `${base}/b`, 201, 1536, 4],
  ]);
  assert.match(String(flows[0]?.["client"]), /^127\.0\.0\.1:\d+$/);
  assert.equal(typeof flows[0]?.["duration"], "number");
  await p.waitStderr(/^resp \/b$/m);
  assert.match(p.stderr(), /^loaded$/m);
  assert.match(p.stderr(), /^raw write$/m);
  assert.equal(p.stdoutLines().length, 2, p.stdout());
});

test("pryx dump '~m POST' prints only the POSTs", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const p = await dump(t, ["~m POST"]);
  const base = `http://127.0.0.1:${o.port}`;
  await get(p.port, `${base}/get-1`);
  await viaProxy(p.port, `${base}/post-1`, { method: "POST", body: "1" });
  await get(p.port, `${base}/get-2`);
  await viaProxy(p.port, `${base}/post-2`, { method: "POST", body: "2" });
  await p.waitStdout(/post-2/);
  // One more flow after it: by the time that prints, any line for get-2 would have too.
  await viaProxy(p.port, `${base}/post-3`, { method: "POST", body: "3" });
  await p.waitStdout(/post-3/);
  const lines = p.stdoutLines();
  assert.equal(lines.length, 3, lines.join("\n"));
  const printed = lines.map((l) => / (\w+) \S+\/(\S+) << (\d+)/.exec(l)?.slice(1).join(" ")).sort();
  assert.deepEqual(printed, ["POST post-1 201", "POST post-2 201", "POST post-3 201"]);
});

test("a filter after a repeatable flag (--set, -s, -H…) is the filter, not the flag's second value, as with mitmdump", { timeout: 30_000 }, async () => {
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const p = runPryx(["dump", "-n", "--confdir", tempDir("pryx-greedy-"), "-r", fixture, "--set", "flow_detail=1", "-H", "/~q/X-A/1", "~m POST"]);
  assert.equal(await p.exited, 0, p.stderr());
  const lines = p.stdoutLines();
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0] ?? "", /POST http:\/\/127\.0\.0\.1:9000\/form\?x=1&flag/);
});

test("-r runs each read flow through the hooks, as mitmdump -nr does: a script edits a capture and -w saves the result", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-replay-hooks-");
  const script = path.join(dir, "tag.ts");
  fs.writeFileSync(script, `export default { name: "tag", request(f) { console.error("saw " + f.request.path); }, response(f) { f.response.headers.set("x-tagged", "yes"); } };\n`);
  const out = path.join(dir, "out.pryx");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const p = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", fixture, "-s", script, "-w", out]);
  assert.equal(await p.exited, 0, p.stderr());
  assert.match(p.stderr(), /saw \/1k[\s\S]*saw \/form\?x=1&flag[\s\S]*saw \/dead/, "request ran for every flow, in order");
  const saved = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { response: { headers: [string, string][] } | null; error: { msg: string } | null });
  assert.equal(saved.length, 3, "both answered flows and the failed one were saved");
  assert.ok(saved[0]?.response?.headers.some(([k, v]) => k === "x-tagged" && v === "yes"), "the script's edit is in the saved file");
  assert.match(saved[2]?.error?.msg ?? "", /Connect call failed/);
});

test("-r passes read flows through the built-in addons too, with no script or -w: anticomp shows in the printed request", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-replay-builtins-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const p = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", fixture, "--set", "anticomp=true", "--flow-detail", "2"]);
  assert.equal(await p.exited, 0, p.stderr());
  const requests = p.stdout().split(/\n(?=\S)/).filter((block) => / (GET|POST) http/.test(block));
  assert.equal(requests.length, 3, p.stdout());
  for (const block of requests) assert.match(block, /accept-encoding: identity/i, `anticomp's request hook ran for ${block.split("\n")[0]}`);
});

test("dump -n -C FILE sends a capture's requests again, prints them, and exits when they are done (mitmdump -nC)", { timeout: 30_000 }, async (t) => {
  const seen: string[] = [];
  const o = await startHttpOrigin((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end(`again ${req.url}`);
  });
  t.after(() => o.close());
  const dir = tempDir("pryx-client-replay-");
  const capture = path.join(dir, "c.pryx");
  const flows = [
    { method: "GET", url: "/one" },
    { method: "POST", url: "/two" },
  ];
  // A capture written by pryx itself: record two requests with -w.
  const rec = await startDump(["-w", capture], { confdir: path.join(dir, "conf") });
  for (const f of flows) await viaProxy(rec.port, `http://127.0.0.1:${o.port}${f.url}`, { method: f.method, body: f.method === "POST" ? "x" : undefined });
  await rec.stop();
  seen.length = 0;
  const p = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-C", capture]);
  assert.equal(await p.exited, 0, p.stderr());
  assert.deepEqual(seen, ["GET /one", "POST /two"], "replayed in order, one at a time");
  const lines = p.stdoutLines();
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[1] ?? "", /POST http:\/\/127\.0\.0\.1:\d+\/two << 200/);
});

test("--version prints pryx's version and the Node and OpenSSL it runs on", { timeout: 15_000 }, async () => {
  const p = runPryx(["--version"]);
  assert.equal(await p.exited, 0, p.stderr());
  const version = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
  assert.equal(p.stdout(), `pryx ${version}\nNode: ${process.version}\nOpenSSL: ${process.versions.openssl}\n`);
});

test("pryx options and pryx commands list every option and command without starting a proxy (mitmproxy's --options, --commands)", { timeout: 20_000 }, async () => {
  const home = tempDir("pryx-listing-");
  const options = runPryx(["options"], { HOME: home });
  assert.equal(await options.exited, 0, options.stderr());
  assert.match(options.stdout(), /^modify_headers: str\[\] = ""\n {4}Header modify pattern/m, "the built-in addons' options too");
  assert.match(options.stdout(), /^server_replay_extra: choice = "forward" \(forward, kill, 204, 400, 404, 500\)$/m);
  const commands = runPryx(["commands"], { HOME: home });
  assert.equal(await commands.exited, 0, commands.stderr());
  assert.match(commands.stdout(), /^replay\.client flows$/m);
  assert.deepEqual(fs.readdirSync(home), [], "no CA or confdir made");
});

test("-s addons/block.ts answers the blocked host itself; --set block_host changes it", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const p = await dump(t, ["-s", "addons/block.ts", "--set", "block_host=ads.example"]);
  const blocked = await get(p.port, "http://ads.example/banner.js");
  assert.equal(blocked.status, 403);
  assert.match(blocked.body, /Blocked by pryx: ads\.example/);
  await p.waitStdout(/GET http:\/\/ads\.example\/banner\.js << 403 Forbidden/);
  assert.equal((await get(p.port, `http://127.0.0.1:${o.port}/`)).status, 200);
  assert.equal(o.connections, 1);
});

test("editing a -s script reloads it: the next request shows the new behaviour", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const script = path.join(scratch(t), "add-header.ts");
  const original = fs.readFileSync(path.join(REPO, "addons/add-header.ts"), "utf8");
  assert.match(original, /"seen"/);
  fs.writeFileSync(script, original);
  const p = await dump(t, ["-s", script]);
  const url = `http://127.0.0.1:${o.port}/`;
  assert.match((await get(p.port, url)).headers, /X-Pryx: seen/i);
  fs.writeFileSync(script, original.replace('"seen"', '"edited"'));
  // The watcher debounces, then re-imports: poll with requests until the new version answers.
  let headers = "";
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    headers = (await get(p.port, url)).headers;
    if (/X-Pryx: edited/i.test(headers)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(headers, /X-Pryx: edited/i);
  await p.waitStderr(/reloaded script .*add-header\.ts/);
});

test("an error at start-up (a script with a syntax error, one that throws in load, a -w file that cannot be opened) is reported and stops dump with exit 2 before it listens, as mitmdump's errorcheck does; a script broken while running leaves the proxy serving", { timeout: 40_000 }, async (t) => {
  const o = await origin(t);
  const dir = scratch(t);
  const script = path.join(dir, "broken.ts");
  const broken = `import type { Addon } from "pryx";\n\nexport default { request(flow) { flow.request.headers.set("a", ) ) } } satisfies Addon;\n`;
  fs.writeFileSync(script, broken);
  const throwing = path.join(dir, "throws.ts");
  fs.writeFileSync(throwing, `export default { load() { throw new Error("nope at load"); } };\n`);
  const why = [/\[error\].*broken\.ts:3\b/, /\[error\] Addon error in throws\.ts \(load\): nope at load/, /\[error\].*cannot open \/proc\/pryx-nope\.pryx to save flows/];
  for (const [i, args] of [["-s", script], ["-s", throwing], ["-w", "/proc/pryx-nope.pryx"]].entries()) {
    const p = runPryx(["dump", "-p", "0", "--confdir", confdir, ...args]);
    assert.equal(await p.exited, 2, p.stderr());
    assert.match(p.stderr(), why[i]!, "what failed, named");
    assert.match(p.stderr(), /^pryx: stopped: an error at start-up \(above\); pryx dump does not run without what failed/m);
    assert.doesNotMatch(p.stderr(), /listening at/, "a script waiting for the listening line sees none");
  }

  // Broken by an edit while running: the error is logged, the proxy goes on without the script.
  fs.writeFileSync(script, `export default { request(flow: { request: { headers: { set(n: string, v: string): void } } }) { flow.request.headers.set("x-ok", "1"); } };\n`);
  const p = await dump(t, ["-s", script]);
  fs.writeFileSync(script, broken);
  await p.waitStderr(/\[error\].*broken\.ts:3\b/);
  const r = await get(p.port, `http://127.0.0.1:${o.port}/`);
  assert.equal(r.status, 200);
  assert.equal(r.body, "hello");
});

test("a .js script with export default outside an ES module package (CommonJS to Node) runs its hooks", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const script = path.join(dir, "plain.js");
  const marker = path.join(dir, "ran.txt");
  fs.writeFileSync(script, `import fs from "node:fs";\nexport default { running() { fs.writeFileSync(${JSON.stringify(marker)}, "running ran"); } };\n`);
  const p = runPryx(["dump", "-n", "--confdir", confdir, "-r", path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow"), "-s", script]);
  assert.equal(await p.exited, 0, p.stderr());
  assert.equal(fs.existsSync(marker) && fs.readFileSync(marker, "utf8"), "running ran", p.stderr());
});

test("-r of a file with no flow in it at all is an error (exit 2) naming the file and why; an empty file is no flows, and no error", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const garbage = path.join(dir, "garbage.flow");
  fs.writeFileSync(garbage, "hello world garbage\n");
  const bad = runPryx(["dump", "-n", "--confdir", confdir, "-r", garbage]);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr(), new RegExp(`^pryx: no flow could be read from ${garbage.replaceAll("/", "\\/")}: .*garbage\.flow:1: not a pryx flow line`, "m"));
  const empty = path.join(dir, "empty.pryx");
  fs.writeFileSync(empty, "");
  const none = runPryx(["dump", "-n", "--confdir", confdir, "-r", empty]);
  assert.equal(await none.exited, 0, none.stderr());
});

test("--set with an unknown option exits non-zero naming the option", { timeout: 30_000 }, async () => {
  const p = runPryx(["dump", "-p", "0", "--confdir", confdir, "--set", "nosuch=1"]);
  const code = await p.exited;
  assert.notEqual(code, 0);
  assert.match(p.stderr(), /unknown option "nosuch"/);
  const bad = runPryx(["dump", "-p", "0", "--confdir", confdir, "--set", "listen_port=high"]);
  assert.notEqual(await bad.exited, 0);
  assert.match(bad.stderr(), /option listen_port expects an integer/);
});

test("--set of a broken script's option: the start fails saying why, for dump and the console", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const script = path.join(dir, "mine.ts");
  fs.writeFileSync(script, `import type { Addon, Loader } from "pryx";\nexport default { load(l: Loader) { l.add_option("mine_tag", "str", "", "tag") } ) } satisfies Addon;\n`);
  for (const args of [["dump"], []]) {
    const p = runPryx([...args, "-p", "0", "-n", "--confdir", confdir, "-s", script, "--set", "mine_tag=x"]);
    t.after(async () => void (await p.stop("SIGKILL")));
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /\[error\] failed to load script .*mine\.ts: syntax error: .*mine\.ts:2:/, "the script's own error is shown");
    assert.match(p.stderr(), /unknown option "mine_tag"; it may belong to a script that failed to load: mine\.ts/);
  }
});

test("--set NAME without a value turns a bool on, as mitmproxy's does; --set =x is a one-line error", { timeout: 30_000 }, async (t) => {
  const p = await dump(t, ["--set", "ssl_insecure", "--jsonl"]);
  assert.doesNotMatch(p.stderr(), /Error/);
  const bad = runPryx(["dump", "-p", "0", "--confdir", confdir, "--set", "=x"]);
  assert.equal(await bad.exited, 2);
  assert.equal(bad.stderr(), 'pryx: --set expects name[=value], got "=x"\n');
});

test("--ignore-hosts takes each regex whole, commas included, and may be repeated", { timeout: 30_000 }, async (t) => {
  const o = await startTlsOrigin((_req, res) => res.end("passed through"));
  t.after(() => o.close());
  const p = await dump(t, ["--jsonl", "--ignore-hosts", String.raw`^127\.0\.0\.\d{1,3}:${o.port}$`, "--ignore-hosts", String.raw`^nothing\.test:`]);
  // Trusting only the origin's own certificate: this works only if pryx did not intercept.
  const res = await httpsViaProxy(p.port, { target: `127.0.0.1:${o.port}`, servername: "localhost", ca: [o.cert.certPem] });
  assert.equal(res.body.toString(), "passed through");
  const line = await p.waitStdout(/\{.*"type":"tcp".*\}/);
  assert.match(line[0], new RegExp(`"url":"tcp://127\\.0\\.0\\.1:${o.port}"`));
});

test("SIGTERM, and SIGHUP (a dropped SSH session), run the addons' done and exit 0", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const marker = path.join(dir, "done.txt");
  const script = path.join(dir, "on-done.ts");
  fs.writeFileSync(script, `import fs from "node:fs";
import type { Addon } from "pryx";

export default {
  done() {
    fs.writeFileSync(process.env["PRYX_TEST_DONE_FILE"] as string, "done ran");
  },
} satisfies Addon;
`);
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    fs.rmSync(marker, { force: true });
    const p = await dump(t, ["-s", script], { PRYX_TEST_DONE_FILE: marker });
    assert.equal(fs.existsSync(marker), false);
    assert.equal(await p.stop(signal), 0, `${signal}: ${p.stderr()}`);
    assert.equal(fs.existsSync(marker) && fs.readFileSync(marker, "utf8"), "done ran", `${signal}: ${p.stderr()}`);
  }
});

test("--set hardump=- prints the HAR after the lines of the last flows, a SIGINT right after them included", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const p = await dump(t, ["--set", "hardump=-"]);
  for (const n of [1, 2, 3]) assert.equal((await get(p.port, `http://127.0.0.1:${o.port}/last${n}`)).status, 200);
  assert.equal(await p.stop("SIGINT"), 0, p.stderr());
  const out = p.stdout();
  const har = out.indexOf('{\n  "log"');
  assert.ok(har > 0, out);
  for (const n of [1, 2, 3]) {
    const line = out.indexOf(`/last${n} << 200`);
    assert.ok(line >= 0 && line < har, `the line of /last${n} comes before the HAR:\n${out.slice(0, 400)}`);
  }
  const entries = (JSON.parse(out.slice(har)) as { log: { entries: unknown[] } }).log.entries;
  assert.equal(entries.length, 3);
});

test("a reader that goes away (pryx dump | head -1) stops dump as a signal does: addons' done runs, exit 0, no EPIPE crash", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const marker = path.join(dir, "done.txt");
  const script = path.join(dir, "on-done.mjs");
  fs.writeFileSync(script, `import fs from "node:fs";\nexport default { done() { fs.writeFileSync(process.env.PRYX_TEST_DONE_FILE, "done ran"); } };\n`);
  const o = await origin(t);
  const p = await dump(t, ["-s", script], { PRYX_TEST_DONE_FILE: marker });
  await get(p.port, `http://127.0.0.1:${o.port}/first`);
  await p.waitStdout(/GET http:\/\/127\.0\.0\.1:\d+\/first << 200/);
  // As head does once it has its line: the pipe's reading end closes.
  p.proc.stdout?.destroy();
  // The next flow's line meets the closed pipe.
  await get(p.port, `http://127.0.0.1:${o.port}/second`).catch(() => undefined);
  assert.equal(await p.exited, 0, p.stderr());
  assert.equal(fs.readFileSync(marker, "utf8"), "done ran");
  assert.doesNotMatch(p.stderr(), /EPIPE|Unhandled/);
});

test("a TypeScript addon in any directory, outside any package, loads and imports \"pryx\"", { timeout: 30_000 }, async (t) => {
  const script = path.join(scratch(t), "teapot.ts");
  fs.writeFileSync(script, `import { http, type Addon } from "pryx";\n\nexport default {\n  request(flow: http.HTTPFlow) {\n    flow.response = http.Response.make(418, "tea");\n  },\n} satisfies Addon;\n`);
  const p = await dump(t, ["-s", script]);
  await p.waitStderr(/loaded script .*teapot\.ts|\[error\]/);
  assert.doesNotMatch(p.stderr(), /\[error\]/);
  assert.equal((await get(p.port, "http://anything.test/")).status, 418);
});

test("a bad dump filter is reported as the filter typed, not as an option the user never set", { timeout: 30_000 }, async () => {
  const p = runPryx(["dump", "-p", "0", "--confdir", confdir, "~x", "foo"]);
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /^pryx: invalid filter "~x foo": .*unknown operator ~x/);
  assert.doesNotMatch(p.stderr(), /dumper_filter|view_filter/);
});

test("-m's help lists every supported mode", { timeout: 30_000 }, async () => {
  for (const args of [["--help"], ["dump", "--help"]]) {
    const p = runPryx(args);
    assert.equal(await p.exited, 0);
    // The description wraps: from -m up to the next flag.
    const help = /-m, --mode([\s\S]*?)\n\s+-/.exec(p.stdout())?.[1]?.replace(/\s+/g, " ") ?? "";
    for (const m of MODES) assert.ok(help.includes(m), `${args.join(" ")}: ${m} missing from -m's help: ${help}`);
  }
});

test("-n and --no-server both mean do not listen, for dump and the console", { timeout: 30_000 }, async () => {
  for (const flag of ["-n", "--no-server"]) {
    // With nothing to read or replay it runs (for its scripts) until a signal, as mitmdump -n does.
    const d = runPryx(["dump", flag, "--confdir", confdir]);
    await d.waitStderr(/CA certificate/);
    d.proc.kill("SIGINT");
    assert.equal(await d.exited, 0, d.stderr());
    assert.doesNotMatch(d.stderr(), /listening|Unknown argument/);
    // No terminal here: the console gets as far as asking for one, so the flag was accepted.
    const c = runPryx([flag, "--confdir", confdir]);
    assert.equal(await c.exited, 2);
    assert.match(c.stderr(), /^pryx: the console needs a terminal/);
  }
});

test("a single-valued flag given twice: the last one wins, no crash; -m twice on one port is a clear error", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const ca = runPryx(["ca", "--confdir", path.join(dir, "first"), "--confdir", confdir]);
  assert.equal(await ca.exited, 0, ca.stderr());
  assert.ok(ca.stdout().includes(path.join(confdir, "pryx-ca-cert.pem")));
  const d = runPryx(["dump", "-n", "--confdir", path.join(dir, "first"), "--confdir", confdir, "-r", path.join(dir, "a.pryx"), "-r", path.join(dir, "b.pryx")]);
  assert.equal(await d.exited, 2);
  assert.match(d.stderr(), /^pryx: cannot read flow file .*b\.pryx/);
  assert.ok(!fs.existsSync(path.join(dir, "first")), "the first --confdir is not used");
  const port = await deadPort();
  const m = runPryx(["dump", "-p", String(port), "--confdir", confdir, "-m", "regular", "-m", "regular"]);
  assert.equal(await m.exited, 2);
  assert.match(m.stderr(), new RegExp(`^pryx: modes regular and regular both listen on port ${port}: give one of them its own port`));
});

test("--set given twice: a list option gets both entries, as mitmdump's does; any other option the last value", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const p = await dump(t, ["--set", "block_list=/~u one/403", "--set", "block_list=/~u two/404", "--set", "flow_detail=0", "--set", "flow_detail=1"]);
  assert.equal((await get(p.port, `http://127.0.0.1:${o.port}/one`)).status, 403);
  assert.equal((await get(p.port, `http://127.0.0.1:${o.port}/two`)).status, 404);
  assert.equal((await get(p.port, `http://127.0.0.1:${o.port}/three`)).status, 200);
  await p.waitStdout(/\/three << 200/);
});

test("dump -n -r to a slow reader: every flow line arrives whole before pryx exits", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  // Well past what a pipe or socket buffers (64 KiB and up), so pryx must wait for the reader.
  const entries = Array.from({ length: 6000 }, (_, i) => ({
    startedDateTime: "2024-01-01T00:00:00.000Z",
    time: 12,
    request: { method: "GET", url: `http://slow.test/${i}?${"x".repeat(100)}`, httpVersion: "HTTP/1.1", headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
    response: { status: 200, statusText: "OK", httpVersion: "HTTP/1.1", headers: [], cookies: [], content: { size: 2, mimeType: "text/plain", text: "hi" }, redirectURL: "", headersSize: -1, bodySize: 2 },
    cache: {},
    timings: { send: 0, wait: 1, receive: 1 },
  }));
  const har = path.join(dir, "many.har");
  fs.writeFileSync(har, JSON.stringify({ log: { version: "1.2", creator: { name: "test", version: "1" }, entries } }));
  const d = runPryx(["dump", "-n", "--confdir", confdir, "-r", har], {}, { slowStdoutMs: 2000 });
  const closed = new Promise((resolve) => d.proc.once("close", resolve));
  assert.equal(await d.exited, 0, d.stderr());
  await closed;
  const lines = d.stdout().split("\n");
  assert.equal(lines.pop(), "", "stdout ends with a whole line");
  assert.equal(lines.length, entries.length);
  lines.forEach((l, i) => assert.match(l, new RegExp(`^\\S* ?GET http://slow\\.test/${i}\\?x+ << 200 OK 2b 12ms$`)));
  assert.match(d.stderr(), /^\[info\] read 6000 flows from .*many\.har\n/);
});

test("readfile_filter reads only the matching flows of -r, save_stream_filter saves only the matching ones with -w (mitmdump's options)", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-file-filters-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const out = path.join(dir, "posts.pryx");
  const p = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", fixture, "--set", "readfile_filter=!~u /dead", "--set", "save_stream_filter=~m POST", "-w", out]);
  assert.equal(await p.exited, 0, p.stderr());
  assert.doesNotMatch(p.stdout(), /\/dead/, "the filtered-out flow is not read");
  assert.match(p.stdout(), /GET http:\/\/127\.0\.0\.1:9000\/1k/);
  assert.match(p.stderr() + p.stdout(), /read 2 flows/);
  const saved = fs.readFileSync(out, "utf8").trim().split("\n");
  assert.equal(saved.length, 1, "only the POST is saved");
  assert.match(saved[0] ?? "", /"POST"/);
});

test("termlog_verbosity sets the least severe log line dump prints (mitmdump's option): error hides a warning; a bad level is refused", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-termlog-");
  const file = path.join(dir, "broken.pryx");
  // Good flows, then a line that is none: read with a warning (a file with no flow at all is an error).
  const save = runPryx(["dump", "-n", "-q", "--confdir", path.join(dir, "conf"), "-r", path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow"), "-w", file]);
  assert.equal(await save.exited, 0, save.stderr());
  const good = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length;
  fs.appendFileSync(file, "not a flow\n");
  const args = ["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", file];
  const loud = runPryx(args);
  assert.equal(await loud.exited, 0, loud.stderr());
  assert.match(loud.stderr(), new RegExp(`\\[warn\\] .*broken\\.pryx:${good + 1}`));
  const quiet = runPryx([...args, "--set", "termlog_verbosity=error"]);
  assert.equal(await quiet.exited, 0, quiet.stderr());
  assert.doesNotMatch(quiet.stderr(), /\[warn\]|\[info\]/);
  const bad = runPryx([...args, "--set", "termlog_verbosity=loud"]);
  assert.notEqual(await bad.exited, 0);
  assert.match(bad.stderr(), /option termlog_verbosity expects one of the choices \(error, warn, info, alert, debug\), got "loud"/);
});

test("mitmproxy's switches are flags too: --anticomp, -f, --no-http2, -v, --server-replay-reuse, --console-layout, --showhost", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-switches-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const p = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", fixture, "--anticomp", "-f", "~m POST", "--no-http2", "-v", "--server-replay-reuse", "--console-layout", "vertical", "--showhost", "--flow-detail", "2"]);
  assert.equal(await p.exited, 0, p.stderr());
  const flows = p.stdout().split("\n").filter((l) => / (GET|POST) http/.test(l));
  assert.equal(flows.length, 1, p.stdout());
  assert.match(flows[0] ?? "", /POST http:\/\/127\.0\.0\.1:9000\/form/);
  assert.match(p.stdout(), /accept-encoding: identity/i, "--anticomp reached the read flow");
  const bad = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "--console-layout", "diagonal"]);
  assert.notEqual(await bad.exited, 0);
  assert.match(bad.stderr(), /option console_layout expects one of the choices/);
});

/** Two flows through a recording dump, saved with -w: GET /one and GET /two to `o`. */
async function recordTwo(o: Origin, dir: string): Promise<string> {
  const capture = path.join(dir, "rec.pryx");
  const rec = await startDump(["-w", capture], { confdir: path.join(dir, "conf") });
  for (const p of ["/one", "/two"]) await viaProxy(rec.port, `http://127.0.0.1:${o.port}${p}`);
  await rec.stop();
  return capture;
}

test("a serving dump stops once its one-shot work is done, as mitmdump does without keepserving: -C after the replays, -S once every response was used", { timeout: 40_000 }, async (t) => {
  const seen: string[] = [];
  const o = await startHttpOrigin((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end(`live ${req.url}`);
  });
  t.after(() => o.close());
  const dir = tempDir("pryx-keepserving-");
  const capture = await recordTwo(o, dir);
  seen.length = 0;

  const client = await startDump(["-C", capture], { confdir: path.join(dir, "conf") });
  t.after(() => client.stop("SIGKILL"));
  assert.equal(await client.exited, 0, client.stderr());
  assert.deepEqual(seen, ["GET /one", "GET /two"]);
  assert.match(client.stderr(), /client replay done: stopping \(--set keepserving=true keeps serving\)/);
  // Marked as mitmdump marks them: a request sent again has "[replay]" for its client.
  assert.match(client.stdout(), new RegExp(`^\\[replay\\] GET http://127\\.0\\.0\\.1:${o.port}/one << 200 OK`, "m"));

  const server = await startDump(["-S", capture], { confdir: path.join(dir, "conf") });
  t.after(() => server.stop("SIGKILL"));
  const first = await viaProxy(server.port, `http://127.0.0.1:${o.port}/one`);
  assert.equal(first.body.toString(), "live /one", "answered from the capture");
  assert.equal(server.proc.exitCode, null, "still serving: one recorded response is left");
  await viaProxy(server.port, `http://127.0.0.1:${o.port}/two`);
  assert.equal(await server.exited, 0, server.stderr());
  assert.deepEqual(seen, ["GET /one", "GET /two"], "the origin saw none of the replayed requests");
  // A response from the capture has "[replay]" before it.
  await server.waitStdout(/^127\.0\.0\.1:\d+ GET http:\/\/127\.0\.0\.1:\d+\/two \[replay\] << 200/m);
});

test("dump -r FILE with a server prints the file and stops; --set keepserving=true keeps it serving", { timeout: 30_000 }, async (t) => {
  const o = await startHttpOrigin((req, res) => res.end(`live ${req.url}`));
  t.after(() => o.close());
  const dir = tempDir("pryx-keepserving-r-");
  const capture = await recordTwo(o, dir);

  const once = await startDump(["-r", capture], { confdir: path.join(dir, "conf") });
  t.after(() => once.stop("SIGKILL"));
  assert.equal(await once.exited, 0, once.stderr());
  assert.equal(once.stdoutLines().length, 2, once.stdout());
  assert.match(once.stderr(), /file read done: stopping/);

  const kept = await startDump(["-r", capture, "--set", "keepserving=true"], { confdir: path.join(dir, "conf") });
  t.after(() => kept.stop("SIGKILL"));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(kept.proc.exitCode, null, "still running past the checks that would have stopped it");
  const r = await viaProxy(kept.port, `http://127.0.0.1:${o.port}/three`);
  assert.equal(r.body.toString(), "live /three");
  await kept.waitStdout(/GET http:\/\/127\.0\.0\.1:\d+\/three << 200/);
  assert.equal(await kept.stop(), 0);
});

test("--set dumper_filter prints only matching flows, and --set hardump writes every flow as one HAR file on exit (mitmdump's options)", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-dumper-har-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const har = path.join(dir, "all.har");
  const p = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", fixture, "--set", "dumper_filter=~m POST", "--set", `hardump=${har}`]);
  assert.equal(await p.exited, 0, p.stderr());
  const lines = p.stdoutLines();
  assert.ok(lines.length >= 1 && lines.every((l) => / POST http/.test(l)), p.stdout());
  const entries = (JSON.parse(fs.readFileSync(har, "utf8")) as { log: { entries: { request: { method: string } }[] } }).log.entries;
  assert.equal(entries.length, 3, "every flow, not only those printed");
  assert.match(p.stderr(), /saved 3 flows as HAR to/);
});

test("the filter after dump's flags also picks what -r reads and -w saves, as mitmdump's does; --set readfile_filter and save_stream_filter still name their own", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-dump-filter-w-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const saved = path.join(dir, "posts.pryx");
  const p = runPryx(["dump", "-n", "-q", "--confdir", path.join(dir, "conf"), "-r", fixture, "-w", saved, "~m POST"]);
  assert.equal(await p.exited, 0, p.stderr());
  const back = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", saved]);
  assert.equal(await back.exited, 0, back.stderr());
  const lines = back.stdoutLines();
  assert.ok(lines.length >= 1 && lines.every((l) => / POST http/.test(l)), back.stdout());

  const all = path.join(dir, "all.pryx");
  const q = runPryx(["dump", "-n", "-q", "--confdir", path.join(dir, "conf"), "-r", fixture, "-w", all, "--set", "readfile_filter=~all", "--set", "save_stream_filter=~all", "~m POST"]);
  assert.equal(await q.exited, 0, q.stderr());
  const again = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", all]);
  assert.equal(await again.exited, 0, again.stderr());
  assert.equal(again.stdoutLines().length, 3, again.stdout());
});

test("--set server=false is -n: the file is printed and nothing listens", { timeout: 30_000 }, async () => {
  const dir = tempDir("pryx-server-false-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  const p = runPryx(["dump", "--set", "server=false", "--confdir", path.join(dir, "conf"), "-r", fixture]);
  assert.equal(await p.exited, 0, p.stderr());
  assert.equal(p.stdoutLines().length, 3, p.stdout());
  assert.doesNotMatch(p.stderr(), /listening/);
});

test("dump reads <confdir>/config.yaml as mitmdump does: its flow_detail and filter options apply, the command line wins, a broken file stops it", { timeout: 30_000 }, async () => {
  const confdir = tempDir("pryx-config-yaml-");
  const fixture = path.join(REPO, "test/fixtures/mitmproxy-8.1.1.flow");
  fs.writeFileSync(path.join(confdir, "config.yaml"), "# as in ~/.mitmproxy\nflow_detail: 0\nanticomp: true\nupstream_cert: false\n# the console's, saved from it: dump prints by dumper_filter\nview_filter: ~m POST\n");
  const quiet = runPryx(["dump", "-n", "--confdir", confdir, "-r", fixture]);
  assert.equal(await quiet.exited, 0, quiet.stderr());
  assert.equal(quiet.stdout(), "", "flow_detail 0 from the file: no flow lines");
  const loud = runPryx(["dump", "-n", "--confdir", confdir, "-r", fixture, "--flow-detail", "2"]);
  assert.equal(await loud.exited, 0, loud.stderr());
  const requests = loud.stdout().split(/\n(?=\S)/).filter((block) => / (GET|POST) http/.test(block));
  assert.equal(requests.length, 3, loud.stdout());
  for (const block of requests) assert.match(block, /accept-encoding: identity/i, "anticomp from the file ran");
  const filtered = runPryx(["dump", "-n", "--confdir", confdir, "-r", fixture, "--flow-detail", "1", "~m POST"]);
  assert.equal(await filtered.exited, 0, filtered.stderr());
  assert.equal(filtered.stdoutLines().length, 1, filtered.stdout());
  assert.match(loud.stderr(), /config\.yaml: upstream_cert is a mitmproxy option pryx does not have: skipped/);
  fs.writeFileSync(path.join(confdir, "config.yaml"), "flow_detail: [2\n");
  const broken = runPryx(["dump", "-n", "--confdir", confdir, "-r", fixture]);
  assert.equal(await broken.exited, 2);
  assert.match(broken.stderr(), new RegExp(`^pryx: ${path.join(confdir, "config.yaml").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:2:1: not valid YAML: `));
});

test("a live WebSocket and TCP tunnel print as they go, as mitmdump's do: the handshake's flow at once, a line per message (content escaped from --flow-detail 3), the close; nothing again at the end", { timeout: 30_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  wss.on("connection", (s) => s.on("message", (d, isBinary) => (String(d) === "close" ? s.close(4001, "bye now") : s.send(isBinary ? d : `echo:${d.toString()}`, { binary: isBinary }))));
  const echo = net.createServer((c) => c.on("data", (d: Buffer) => c.write(Buffer.concat([Buffer.from("ECHO "), d]))));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => wss.close(() => echo.close(() => r()))));
  const wsPort = (wss.address() as net.AddressInfo).port;
  const tcpPort = (echo.address() as net.AddressInfo).port;
  const p = await dump(t, ["--flow-detail", "3"]);
  const tunnelTo = (port: number): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: p.port, method: "CONNECT", path: `127.0.0.1:${port}` });
      req.on("connect", (_res, socket) => resolve(socket));
      req.on("error", reject);
      req.end();
    });
  const socket = await tunnelTo(wsPort);
  const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/chat`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
  const flowLine = new RegExp(`^127\\.0\\.0\\.1:\\d+ GET http://127\\.0\\.0\\.1:${wsPort}/chat << 101 Switching Protocols`, "m");
  // Open, and already printed: the handshake, then each message as it passes.
  await p.waitStdout(flowLine);
  ws.send("hi \x1b[2J\x1b]0;pwned\x07there");
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ <- WebSocket text message <- 127\\.0\\.0\\.1:${wsPort}/chat\n {4}echo:hi \\\\x1b\\[2J\\\\x1b\\]0;pwned\\\\x07there$`, "m"));
  assert.match(p.stdout(), new RegExp(`-> WebSocket text message -> 127\\.0\\.0\\.1:${wsPort}/chat\n {4}hi \\\\x1b`), "the client's message before the answer");
  assert.doesNotMatch(p.stdout(), /\x1b/, "no escape sequence reaches the terminal");
  ws.send(Buffer.from([9, 8, 7, 0]));
  await p.waitStdout(/^ {4}00000000 {2}09 08 07 00 {2}/m);
  ws.send("close");
  await p.waitStdout(new RegExp(`^Error in WebSocket connection to 127\\.0\\.0\\.1:${wsPort}: WebSocket Error: close code 4001 \\(reason: bye now\\)$`, "m"));

  const tcp = await tunnelTo(tcpPort);
  tcp.write("PING\r\n");
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ <- tcp <- 127\\.0\\.0\\.1:${tcpPort}\n {4}ECHO PING$`, "m"));
  tcp.end();
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ TCP tcp://127\\.0\\.0\\.1:${tcpPort} << `, "m"));
  assert.equal(p.stdout().match(new RegExp(flowLine.source, "gm"))?.length, 1, "the WebSocket's flow is printed once, at its handshake");
});

test("an engine that dies (out of memory, or an addon ending its thread) ends pryx dump with exit code 2 and says why; it does not exit 0 as if done", { timeout: 60_000 }, async () => {
  const dir = tempDir("pryx-dies-");
  const hog = path.join(dir, "hog.mjs");
  // Holds on to more and more memory once the proxy runs, as a session keeping flows for days does.
  // Growing slowly, it used to end the whole process with V8's abort (exit code null) about one run
  // in two: three runs at once make that show.
  fs.writeFileSync(hog, "const held = [];\nexport default { name: 'hog', running() { const grow = () => { for (let i = 0; i < 200; i++) held.push(new Array(1000).fill(i)); setImmediate(grow); }; grow(); } };\n");
  const runs = [1, 2, 3].map(() => runPryx(["dump", "-p", "0", "-s", hog], { HOME: dir, NODE_OPTIONS: "--max-old-space-size=48" }));
  for (const oom of runs) {
    assert.equal(await oom.exited, 2, oom.stderr());
    assert.match(oom.stderr(), /pryx: the engine ran out of memory \(its heap limit is about [\d,]+ MiB\) and stopped; flows not saved are lost\. --set max_flows=N/);
  }

  const quitter = path.join(dir, "quitter.mjs");
  fs.writeFileSync(quitter, "export default { name: 'quitter', running() { setTimeout(() => process.exit(3), 100); } };\n");
  const gone = runPryx(["dump", "-p", "0", "-s", quitter], { HOME: dir });
  assert.equal(await gone.exited, 2);
  assert.match(gone.stderr(), /pryx: the engine stopped unexpectedly \(exit code 3\)/);
});

test("--set protobuf_definitions=FILE: a gRPC call's bodies print by field name, the types from its path; a missing file is an error naming it", { timeout: 30_000 }, async (t) => {
  const proto = path.join(REPO, "test/fixtures/shop.proto");
  const { default: protobuf } = await import("protobufjs");
  const root = protobuf.loadSync(proto);
  const frame = (type: string, value: Record<string, unknown>): Buffer => {
    const T = root.lookupType(type);
    const message = T.encode(T.fromObject(value)).finish();
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    return Buffer.concat([head, message]);
  };
  // A gRPC server's answer (over HTTP/1.1 here: the view goes by content type and path).
  const o = await startHttpOrigin((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/grpc" }).end(frame("shop.v1.Order", { id: "42", name: "widget", status: "SHIPPED" })));
  });
  t.after(() => o.close());
  const p = await dump(t, ["--flow-detail", "3", "--set", `protobuf_definitions=${proto}`]);
  const r = await viaProxy(p.port, `http://127.0.0.1:${o.port}/shop.v1.Orders/Get`, { method: "POST", headers: { "content-type": "application/grpc" }, body: frame("shop.v1.GetOrder", { id: "42" }) });
  assert.equal(r.status, 200);
  const out = (await p.waitStdout(/<< 200 OK[\s\S]*"status": "SHIPPED"/))[0];
  assert.match(out, /shop\.v1\.GetOrder\n\s+\{\n\s+"id": "42"/, "the request by its method's input type");
  assert.match(out, /shop\.v1\.Order\n\s+\{\n\s+"id": "42",\n\s+"name": "widget",/);

  const missing = runPryx(["dump", "-n", "--confdir", tempDir("pryx-proto-"), "--set", "protobuf_definitions=/nonexistent/shop.proto"]);
  assert.equal(await missing.exited, 2);
  assert.match(missing.stderr(), /option protobuf_definitions.*\/nonexistent\/shop\.proto: no such file/);
});

test("SSLKEYLOGFILE (or MITMPROXY_SSLKEYLOGFILE) gets the TLS secrets of both legs, the client's and the server's, as mitmproxy writes them for Wireshark", { timeout: 30_000 }, async (t) => {
  const dir = tempDir("pryx-keylog-");
  const origin = await startTlsOrigin((_req, res) => res.end("secret"));
  t.after(() => origin.close());
  for (const variable of ["SSLKEYLOGFILE", "MITMPROXY_SSLKEYLOGFILE"]) {
    const file = path.join(dir, `${variable}.txt`);
    const p = await dump(t, ["-k"], { [variable]: file });
    const res = await httpsViaProxy(p.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", headers: { connection: "close" }, ca: [fs.readFileSync(path.join(confdir, "pryx-ca-cert.pem"), "utf8")] });
    assert.equal(res.body.toString(), "secret");
    await waitUntil(() => fs.existsSync(file) && (fs.readFileSync(file, "utf8").match(/^CLIENT_TRAFFIC_SECRET_0 /gm)?.length ?? 0) >= 2 || undefined, `two legs' secrets in ${variable}`);
    // One client random a connection: pryx's with the client, and pryx's with the server.
    const randoms = new Set(fs.readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("CLIENT_TRAFFIC_SECRET_0 ")).map((l) => l.split(" ")[1]));
    assert.equal(randoms.size, 2);
    await p.stop("SIGTERM");
  }
});

test("a request still in progress when dump is stopped is printed with its error and saved by -w, as mitmdump does, not lost", { timeout: 30_000 }, async (t) => {
  let arrived = 0;
  const o = await startHttpOrigin((req, res) => {
    arrived++;
    // Answers far later than the test runs: the request is in progress when dump stops.
    const timer = setTimeout(() => res.end("late"), 60_000);
    req.on("close", () => clearTimeout(timer));
  });
  t.after(() => o.close());
  const dir = tempDir("pryx-inflight-");
  const saved = path.join(dir, "inflight.pryx");
  const p = await dump(t, ["-w", saved]);
  const hung = viaProxy(p.port, `http://127.0.0.1:${o.port}/hangs`).catch((err: Error) => err);
  await waitUntil(() => arrived > 0 || undefined, "the request at the origin");
  assert.equal(await p.stop("SIGTERM"), 0);
  assert.ok((await hung) instanceof Error, "the client's connection was closed");
  assert.match(p.stdout(), new RegExp(`^127\\.0\\.0\\.1:\\d+ GET http://127\\.0\\.0\\.1:${o.port}/hangs << error: proxy shut down`, "m"));
  const back = runPryx(["dump", "-n", "--confdir", path.join(dir, "conf"), "-r", saved]);
  assert.equal(await back.exited, 0, back.stderr());
  assert.match(back.stdout(), /GET http:\/\/127\.0\.0\.1:\d+\/hangs << error: proxy shut down/);
});

test("-q is mitmdump's: no flow lines and only errors; --flow-detail 0 alone still says where it listens", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const dir = scratch(t);
  const warner = path.join(dir, "warner.ts");
  fs.writeFileSync(warner, `import { ctx } from "pryx";\nexport default { response() { ctx.log.warn("a warning"); ctx.log.error("an error"); } };\n`);
  const quiet = await startDumpQuietly(["-q", "-s", warner]);
  t.after(async () => void (await quiet.stop("SIGKILL")));
  await get(quiet.port, `http://127.0.0.1:${o.port}/`);
  await quiet.waitStderr(/^\[error\] an error$/m);
  assert.equal(quiet.stdout(), "", "no flow lines");
  assert.doesNotMatch(quiet.stderr(), /\[warn\]|\[info\]|CA certificate/, quiet.stderr());

  const zero = await dump(t, ["--flow-detail", "0"]);
  await get(zero.port, `http://127.0.0.1:${o.port}/`);
  assert.match(zero.stderr(), /\[info\] proxy listening at http:\/\/127\.0\.0\.1:\d+\//);
  assert.equal(zero.stdout(), "", "no flow lines");

  /** A dump that prints no listening line (-q): ready when its port answers. */
  async function startDumpQuietly(args: string[]): Promise<Pryx & { port: number }> {
    const port = await deadPort();
    const p = runPryx(["dump", "-p", String(port), "--confdir", confdir, ...args]);
    const opens = (): Promise<boolean> =>
      new Promise((r) => {
        const s = net.connect(port, "127.0.0.1");
        s.once("connect", () => (s.destroy(), r(true))).once("error", () => r(false));
      });
    for (const deadline = Date.now() + 20_000; !(await opens()); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) assert.fail(`pryx dump -q did not open port ${port}: ${p.stderr()}`);
    }
    return { ...p, port };
  }
});

test("a signal while dump is still starting (an addon's running hook not done) stops it quietly with exit 0, not as a failed engine", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const slow = path.join(dir, "slow-start.ts");
  fs.writeFileSync(slow, `export default { async running() { console.error("running started"); await new Promise((r) => setTimeout(r, 5000)); } };\n`);
  const p = runPryx(["dump", "-p", "0", "--confdir", confdir, "-s", slow]);
  await p.waitStderr(/running started/);
  p.proc.kill("SIGINT");
  assert.equal(await p.exited, 0, p.stderr());
  assert.doesNotMatch(p.stderr(), /stopped before it was ready|^pryx: /m);
});

test("a usage error is one line naming what was wrong, as mitmdump's: an unknown flag once (not its camelCase twin, not the whole help), a port or level quoted as typed", { timeout: 30_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [["dump", "--bogus-flag"], /^pryx: Unknown argument: bogus-flag \(pryx --help and pryx dump --help list the flags\)\n$/],
    [["dump", "-p", "abc"], /^pryx: option listen_port expects an integer, got "abc"\n$/],
    [["dump", "--flow-detail", "lots"], /^pryx: option flow_detail expects an integer, got "lots"\n$/],
  ];
  for (const [args, want] of cases) {
    const p = runPryx([...args, "--confdir", confdir]);
    assert.equal(await p.exited, 2, args.join(" "));
    assert.match(p.stderr(), want);
  }
});

test("dump -n without a file to read runs until a signal, as mitmdump -n does: an addon's timer after running is not cut off", { timeout: 30_000 }, async (t) => {
  const dir = scratch(t);
  const timed = path.join(dir, "timed.ts");
  fs.writeFileSync(timed, `export default { running() { setTimeout(() => console.log("timer fired"), 700); }, done() { console.log("done"); } };\n`);
  const p = runPryx(["dump", "-n", "--confdir", confdir, "-s", timed]);
  t.after(() => void p.proc.kill("SIGKILL"));
  await p.waitStdout(/^timer fired$/m);
  assert.equal(p.proc.exitCode, null, "still running");
  p.proc.kill("SIGINT");
  assert.equal(await p.exited, 0, p.stderr());
  assert.match(p.stdout(), /^done$/m);
});
