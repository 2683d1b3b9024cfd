import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { REPO, runPryx, startDump, type Pryx } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { startHttpOrigin, viaProxy, type Origin } from "../helpers/origin.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import { httpsViaProxy, startTlsOrigin } from "../helpers/tls-origin.ts";
import http from "node:http";
import net from "node:net";
import { WebSocketServer, WebSocket } from "ws";

import { confdir, dump, get, origin, scratch } from "../helpers/dump-e2e.ts";

test("-n and --no-server both mean do not listen, for dump and the console", { timeout: 30_000 }, async () => {
  for (const flag of ["-n", "--no-server"]) {
    // With nothing to read or replay it runs (for its scripts) until a signal, as mitmdump -n does.
    const d = runPryx(["dump", flag, "--confdir", confdir]);
    await d.waitStderr(/CA certificate|created a new CA/);
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

test("an engine that dies (out of memory) ends pryx dump with exit code 2 and says why; an addon ending its thread with process.exit(N), with N; neither exits 0 as if done", { timeout: 60_000 }, async () => {
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
  assert.equal(await gone.exited, 3);
  assert.match(gone.stderr(), /pryx: the engine stopped unexpectedly \(exit code 3: an addon's process\.exit\?\)/);
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
