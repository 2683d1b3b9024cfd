import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { REPO, runPryx, startDump } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { httpsViaProxy, startTlsOrigin } from "../helpers/tls-origin.ts";
import { MODES } from "../../src/engine/modes.ts";

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CURL, DURATION, confdir, dump, get, hasCurl, origin, scratch } from "../helpers/dump-e2e.ts";

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
  // A request whose body is malformed is a flow too, as in mitmdump.
  const raw = await RawClient.connect(p.port);
  t.after(() => raw.close());
  raw.send(`POST ${base}/chunks HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`);
  assert.equal((await raw.response()).status, 400);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ POST ${base}/chunks << error: malformed request body: Invalid character in chunk size$`, "m"));
  assert.equal(p.stdoutLines().length, 4);
});

test("a request head pryx refuses (both Content-Length and Transfer-Encoding) is printed as a flow with its error, as mitmdump prints it; the server never hears of it", { timeout: 30_000 }, async (t) => {
  const o = await origin(t);
  const p = await dump(t, []);
  const base = `http://127.0.0.1:${o.port}`;
  const raw = await RawClient.connect(p.port);
  t.after(() => raw.close());
  raw.send(`POST ${base}/smuggle HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
  const res = await raw.response();
  assert.equal(res.status, 400);
  assert.match(res.body.toString(), /both Content-Length and Transfer-Encoding/);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ POST ${base}/smuggle << error: malformed HTTP message: both Content-Length and Transfer-Encoding \\(refused: a request smuggling risk, RFC 9112 6\\.3\\)$`, "m"));
  assert.equal((await get(p.port, `${base}/after`)).status, 200);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET ${base}/after << 200 OK 5b ${DURATION}$`, "m"));
  assert.equal(o.connections, 1, "only the request after it reached the server");
  assert.equal(p.stdoutLines().length, 2);
});

test("a flow that failed after its response came (a body cut short by the server) keeps the status on its line before the error, as mitmdump prints both", { timeout: 30_000 }, async (t) => {
  const o = await startHttpOrigin((req, res) => {
    if (req.url === "/cut") {
      res.writeHead(200, { "Content-Length": "100" }).write("only ten b");
      setTimeout(() => req.socket.destroy(), 50);
    } else res.end("hello");
  });
  t.after(() => o.close());
  const p = await dump(t, []);
  const base = `http://127.0.0.1:${o.port}`;
  await viaProxy(p.port, `${base}/cut`).catch(() => undefined);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET ${base}/cut << 200 OK << error: server 127\\.0\\.0\\.1:${o.port} closed the connection before the response was complete \\(after 10 of 100 body bytes\\)$`, "m"));
  // A server that never answered still has only its error.
  const dead = await deadPort();
  await viaProxy(p.port, `http://127.0.0.1:${dead}/gone`);
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET http://127\\.0\\.0\\.1:${dead}/gone << error: cannot connect`, "m"));
});

test("the line names both HTTP versions where client and server spoke different ones, as mitmdump: curl -0 to an HTTP/1.1 server, curl --http2 to an HTTP/1.1-only one", { timeout: 30_000, skip: hasCurl ? false : "no curl" }, async (t) => {
  const o = await origin(t);
  const tlsOrigin = await startTlsOrigin((_req, res) => res.end("h1 only"), "h1");
  t.after(() => tlsOrigin.close());
  const p = await dump(t, ["-k"]);
  const curl = (args: string[]) => promisify(execFile)(CURL, ["-sS", "--noproxy", "", "-x", `http://127.0.0.1:${p.port}`, ...args], { encoding: "utf8" });
  const base = `http://127.0.0.1:${o.port}`;
  assert.equal((await curl(["-0", `${base}/old`])).stdout, "hello");
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET ${base}/old HTTP/1\\.0 << HTTP/1\\.1 200 OK 5b ${DURATION}$`, "m"));
  const pem = path.join(confdir, "pryx-ca-cert.pem");
  assert.equal((await curl(["--http2", "--cacert", pem, `https://localhost:${tlsOrigin.port}/h2`])).stdout, "h1 only");
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET https://localhost:${tlsOrigin.port}/h2 HTTP/2\\.0 << HTTP/1\\.1 200 OK 7b ${DURATION}$`, "m"));
  // The same version on both sides of HTTP/1.1 is left out.
  assert.equal((await curl([`${base}/new`])).stdout, "hello");
  await p.waitStdout(new RegExp(`^127\\.0\\.0\\.1:\\d+ GET ${base}/new << 200 OK 5b ${DURATION}$`, "m"));
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
    else if (req.url === "/plain-json") res.writeHead(200, { "Content-Type": "text/plain" }).end('{"as":"sent"}');
    else res.writeHead(200, { "Content-Type": "text/plain" }).end(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n"));
  });
  t.after(() => o.close());
  const base = `http://127.0.0.1:${o.port}`;
  const p = await dump(t, ["--flow-detail", "3", "--set", "content_view_lines_cutoff=12"]);
  await viaProxy(p.port, `${base}/json`);
  await p.waitStdout(/^ {8}"tags": \[$/m);
  assert.match(p.stdout(), /^ {4}\{\n {6}"user": \{\n {8}"id": 7,$/m, "JSON indented under the flow, as mitmdump prints it");
  // mitmproxy's auto view takes JSON only from a JSON type: text/plain is printed as the server sent it.
  await viaProxy(p.port, `${base}/plain-json`);
  await p.waitStdout(/^ {4}\{"as":"sent"\}$/m);
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
  assert.match(options.stdout(), /^modify_headers: str\[\] = \[\]\n {4}Header modify pattern/m, "the built-in addons' options too");
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
  // Escape sequences in the file reach the terminal escaped, not as commands to it.
  const escapes = path.join(dir, "escapes.flow");
  fs.writeFileSync(escapes, "\x1b[31mRED\x1b]0;PWNED\x07\x1b[2J\n");
  const quoted = runPryx(["dump", "-n", "--confdir", confdir, "-r", escapes]);
  assert.equal(await quoted.exited, 2);
  assert.doesNotMatch(quoted.stderr(), /[\x1b\x07]/);
  assert.match(quoted.stderr(), /\\x1b\[31mRED/);
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

test("--help says what --proxyauth and --upstream-auth take, and pryx options --help what its flags do", { timeout: 30_000 }, async () => {
  const main = runPryx(["--help"]);
  assert.equal(await main.exited, 0);
  const flat = main.stdout().replace(/\s+/g, " ");
  assert.match(flat, /--proxyauth Require proxy authentication: user:pass, any \(any credentials\), or @FILE \(an Apache htpasswd file\)/);
  assert.match(flat, /--upstream-auth user:pass for the proxy of an upstream:URL mode \(Proxy-Authorization\), or for the target of a reverse:URL mode \(Authorization\)/);
  const listing = runPryx(["options", "--help"]);
  assert.equal(await listing.exited, 0);
  assert.match(listing.stdout().replace(/\s+/g, " "), /-s, --scripts Load this addon script first/);
});

test("a copy an addon adds with view.flows.add and replays prints once, with its response, as mitmdump prints at response and error only", { timeout: 30_000 }, async (t) => {
  const o = await startHttpOrigin((req, res) => res.end(`got ${req.url}`));
  t.after(() => o.close());
  const dir = tempDir("pryx-flows-add-");
  const script = path.join(dir, "dup.ts");
  fs.writeFileSync(
    script,
    `import { ctx } from "pryx";
export default { name: "dup", request(f) {
  if (f.is_replay || f.request.path !== "/dup") return;
  const c = f.copy(); c.request.path = "/changed";
  ctx.master.commands.call("view.flows.add", [c]);
  ctx.master.commands.call("replay.client", [c]);
} };
`,
  );
  const p = await startDump(["-s", script], { confdir: path.join(dir, "conf") });
  t.after(() => p.stop());
  await viaProxy(p.port, `http://127.0.0.1:${o.port}/dup`);
  await p.waitStdout(/\/changed << 200/);
  await p.waitStdout(/\/dup << 200/);
  const changed = p.stdoutLines().filter((l) => l.includes("/changed"));
  assert.equal(changed.length, 1, p.stdout());
  assert.match(changed[0]!, /\/changed << 200 OK/);
});
