import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Engine } from "../../src/engine/engine.ts";
import { Response, type HTTPFlow } from "../../src/engine/flow/http.ts";
import net from "node:net";
import zlib from "node:zlib";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { ctx } from "../../src/api.ts";

function engine(): Engine {
  return new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
}
const run = (e: Engine, line: string) => e.handle({ op: "command", line });

test("view.flows.create makes a flow; cut.save writes its parts byte-exact; bad cuts are named", async (t) => {
  const e = engine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-cut-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const id = (await run(e, "view.flows.create post http://api.test/x?y=1")) as string;
  const flow = e.store.get(id) as HTTPFlow;
  assert.equal(flow.request.method, "POST");
  assert.equal(flow.request.pretty_url, "http://api.test/x?y=1");
  flow.request.content = Buffer.from([0, 255, 1]);
  await run(e, `cut.save ${id} request.content ${path.join(dir, "body.bin")}`);
  assert.deepEqual([...fs.readFileSync(path.join(dir, "body.bin"))], [0, 255, 1]);
  await run(e, `cut.save ${id} request.method,request.header[host] ${path.join(dir, "two.txt")}`);
  assert.equal(fs.readFileSync(path.join(dir, "two.txt"), "utf8"), "POST,api.test\r\n");
  await assert.rejects(run(e, "view.flows.create get example.org/x"), /^Error: cannot create a flow for get example\.org\/x: Invalid URL: a URL starts with its scheme, such as https:\/\/example\.org\/x$/);
  await assert.rejects(run(e, `cut.save ${id} request.nope ${path.join(dir, "x")}`), /unknown cut "request.nope"/);
  await assert.rejects(run(e, `cut.save ${id} response.content ${path.join(dir, "x")}`), /has no response/);
});

test("cut.save over several flows writes CSV, a row per flow; a flow without a response gets empty cells", async (t) => {
  const e = engine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-cut-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = (await run(e, "view.flows.create get http://api.test/a")) as string;
  const b = (await run(e, "view.flows.create get http://api.test/b,c")) as string;
  (e.store.get(a) as HTTPFlow).response = Response.make(200, "ok");
  const file = path.join(dir, "cut.csv");
  await run(e, `cut.save @all request.url,response.status_code ${file}`);
  assert.equal(fs.readFileSync(file, "utf8"), `http://api.test/a,200\r\n"http://api.test/b,c",\r\n`);
  assert.ok(b);
});

test("options.reset sets every option back to its default, options.reset.one only the one named", async () => {
  const e = engine();
  await run(e, "set ssl_insecure true");
  await run(e, "set view_order size");
  assert.equal(await run(e, "options.reset.one view_order"), "view_order = time");
  assert.equal(e.options.get("ssl_insecure"), true);
  await run(e, "set view_order size");
  await run(e, "options.reset");
  assert.equal(e.options.get("ssl_insecure"), false);
  assert.equal(e.options.get("view_order"), "time");
  await assert.rejects(run(e, "options.reset.one view_ordre"), /unknown option "view_ordre"/);
});

test("options.reset keeps what pryx started with: the listener stays on -p's port, --set values stay, the rest go to defaults", async (t) => {
  const proxy = await startProxy({ options: { anticache: "true" } });
  t.after(() => proxy.stop());
  const e = proxy.engine;
  await run(e, "set ssl_insecure true");
  await run(e, "set anticache false");
  const listened = proxy.events.filter((ev) => ev.t === "listening").length;
  const said = (await run(e, "options.reset")) as string;
  assert.equal(e.options.get("ssl_insecure"), false);
  assert.equal(e.options.get("anticache"), true, "the command line's value, not the default");
  assert.equal(e.options.get("listen_port"), 0, "-p's port, not 8080");
  assert.match(said, /^reset 2 option\(s\); kept as pryx started: anticache, confdir, listen_port$/);
  // The listener did not move: nothing listened anew, and the port still answers.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(proxy.events.filter((ev) => ev.t === "listening").length, listened);
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(proxy.port, "127.0.0.1", () => {
      s.destroy();
      resolve();
    });
    s.on("error", reject);
  });
  // One option named: its default, as mitmproxy's options.reset.one.
  assert.equal(await run(e, "options.reset.one anticache"), "anticache = false");
});

test("script.run runs a script's hooks on existing flows", async (t) => {
  const e = engine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-script-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, "tag.ts");
  fs.writeFileSync(script, `export default { request(flow: { request: { headers: { set(n: string, v: string): void } } }) { flow.request.headers.set("x-tagged", "yes"); } };\n`);
  const id = (await run(e, "view.flows.create get http://a.test/")) as string;
  assert.equal(await run(e, `script.run @all ${script}`), `ran ${script} on 1 flow`);
  assert.equal((e.store.get(id) as HTTPFlow).request.headers.get("x-tagged"), "yes");
  // A missing script is named, not reported as a module pryx's own code failed to import.
  await assert.rejects(run(e, `script.run @all ${path.join(dir, "nope.ts")}`), (err: Error) => err.message === `script.run: script not found: ${path.join(dir, "nope.ts")}`);
});

test("a command's path argument and a path option expand ~ to the home directory, as mitmproxy's do", async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-home-"));
  const saved = process.env.HOME;
  process.env.HOME = home;
  t.after(() => {
    process.env.HOME = saved;
    fs.rmSync(home, { recursive: true, force: true });
  });
  const e = engine();
  await run(e, "view.flows.create get http://api.test/tilde");
  await run(e, "save.file @all ~/saved.pryx");
  assert.ok(fs.existsSync(path.join(home, "saved.pryx")), "saved under the home directory, not in a directory named ~");
  e.options.setText("save_stream_file", "~/stream.pryx");
  assert.equal(e.options.get("save_stream_file"), path.join(home, "stream.pryx"));
  // After save_stream_file's append marker too.
  e.options.setText("save_stream_file", "+~/appended.pryx");
  assert.equal(e.options.get("save_stream_file"), `+${path.join(home, "appended.pryx")}`);
  fs.writeFileSync(path.join(home, "a.ts"), "export default {};\n");
  e.options.setText("scripts", "~/a.ts");
  assert.deepEqual(e.options.get("scripts"), [path.join(home, "a.ts")]);
  e.options.setText("intercept", "~q");
  assert.equal(e.options.get("intercept"), "~q", "a filter is no path");
});

test("set takes `name value` and, as --set does, `name=value`", async () => {
  const e = engine();
  assert.equal(await run(e, "set view_filter ~m POST"), "view_filter = ~m POST");
  assert.equal(await run(e, "set intercept=~u /login"), "intercept = ~u /login");
  assert.equal(e.options.get("intercept"), "~u /login");
  // Cleared: the empty value as the prompt wrote it, not "intercept =", which reads as cut off.
  assert.equal(await run(e, "set intercept ''"), "intercept = ''");
  assert.equal(await run(e, "options.reset.one view_filter"), "view_filter = ''");
  await assert.rejects(run(e, "set nosuch=1"), /unknown option "nosuch"/);
});

test("flow.set (mitmproxy's) sets method, path, url, host on requests and status_code, reason on responses", async () => {
  const e = engine();
  const a = (await run(e, "view.flows.create get http://api.test/a")) as string;
  const b = (await run(e, "view.flows.create get http://api.test/b")) as string;
  (e.store.get(a) as HTTPFlow).response = Response.make(200, "ok");
  assert.deepEqual(await run(e, "flow.set.options"), "host,status_code,method,path,url,reason");
  assert.equal(await run(e, `flow.set ${a},${b} method PUT`), "set method on 2 flows");
  await run(e, `flow.set ${b} path /x/../y?q=1`);
  await run(e, `flow.set ${b} host other.test`);
  const fb = e.store.get(b) as HTTPFlow;
  assert.equal(fb.request.method, "PUT");
  assert.equal(fb.request.pretty_url, "http://other.test/x/../y?q=1");
  assert.equal(fb.request.headers.get("host"), "other.test");
  assert.equal(fb.modified(), true, "V reverts it, as an edit");
  // A flow without a response is left alone, as in mitmproxy.
  assert.equal(await run(e, "flow.set @all status_code 404"), "set status_code on 1 flow");
  const fa = e.store.get(a) as HTTPFlow;
  assert.equal(fa.response?.status_code, 404);
  assert.equal(fa.response?.reason, "Not Found");
  await run(e, `flow.set ${a} reason Gone Fishing`);
  assert.equal(fa.response?.reason, "Gone Fishing");
  assert.equal(fb.response, undefined);
  await assert.rejects(run(e, `flow.set ${a} status_code abc`), /not an integer/);
  await assert.rejects(run(e, `flow.set ${a} colour red`), /one of host, status_code/);
  await assert.rejects(run(e, `flow.set ${a} method`), /needs a value/);
  await assert.rejects(run(e, `flow.set ${a} method "G T"`), /invalid HTTP method/);
});

test("cut gives one value as text and several as CSV (what cut.clip copies)", async () => {
  const e = engine();
  const a = (await run(e, "view.flows.create get http://api.test/a?x=1")) as string;
  const b = (await run(e, "view.flows.create post http://api.test/b")) as string;
  assert.equal(await run(e, `cut ${a} request.url`), "http://api.test/a?x=1");
  assert.equal(await run(e, `cut ${a},${b} request.method,request.url`), "GET,http://api.test/a?x=1\r\nPOST,http://api.test/b\r\n");
  await assert.rejects(run(e, `cut ${a}`), /cut needs flows and cuts/);
});

test("view.flows.resolve lists the flows a spec names; proxyserver.active_connections counts open clients; readfile.reading is false once read", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => void res.end(`seen ${req.url}`));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const e = proxy.engine;
  for (const p of ["/a", "/b"]) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${p}`);
  await proxy.waitFinished(2);
  const lines = String(await run(e, "view.flows.resolve @all")).split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? "", new RegExp(`^[0-9a-f-]{36} GET http://127\\.0\\.0\\.1:${origin.port}/a 200$`));
  assert.match(String(await run(e, "view.flows.resolve ~u /b")), /\/b 200$/);
  await assert.rejects(run(e, "view.flows.resolve"), /needs flows/);
  assert.equal(await run(e, "view.flows.resolve ~u /nothing"), "no flows match ~u /nothing");

  const countReaches = async (want: number): Promise<void> => {
    let counted = -1;
    for (const deadline = Date.now() + 5000; counted !== want && Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
      counted = Number(await run(e, "proxyserver.active_connections"));
    }
    assert.equal(counted, want, `active connections`);
  };
  // The clients above asked for Connection: close, so their connections go.
  await countReaches(0);
  const open = [net.connect(proxy.port, "127.0.0.1"), net.connect(proxy.port, "127.0.0.1")];
  await countReaches(2);
  for (const c of open) c.destroy();
  await countReaches(0);
  assert.equal(await run(e, "readfile.reading"), "false");
});

test("flow.resume, kill and revert over @all leave finished, packed flows packed, as export, save.har, cut.save and resolve do", async () => {
  const e = engine();
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) ids.push((await run(e, `view.flows.create get http://api.test/${i}`)) as string);
  for (const id of ids) {
    const f = e.store.get(id) as HTTPFlow;
    f.response = Response.make(200, "ok");
    f.live = false;
    e.store.update(f);
  }
  e.flush();
  const paused = e.store.get(ids[7]!) as HTTPFlow;
  paused.intercept();
  e.store.update(paused);
  e.flush();
  assert.equal(e.store.unpackedCount(), 0);
  assert.equal(await run(e, "flow.resume @all"), "resumed 1 flow");
  assert.equal(paused.intercepted, false);
  // None to act on: why, rather than "killed 0 flows".
  assert.equal(await run(e, "flow.kill @all"), "nothing to kill: only flows still in progress are killed");
  assert.equal(await run(e, "flow.revert @all"), "nothing to revert: only edited flows are reverted");
  assert.equal(await run(e, "flow.resume @all"), "nothing to resume: only intercepted flows are resumed");
  // Only the paused flow was held as an object; every other stays packed.
  assert.equal(e.store.unpackedCount(), 0);
  // Commands that only read flows read packed ones without unpacking them into the store.
  const dir = tempDir("pryx-read-");
  await run(e, `save.har @all ${path.join(dir, "all.har")}`);
  assert.equal((JSON.parse(fs.readFileSync(path.join(dir, "all.har"), "utf8")) as { log: { entries: unknown[] } }).log.entries.length, 50);
  await run(e, `export.file curl @all ${path.join(dir, "all.sh")}`);
  assert.equal(fs.readFileSync(path.join(dir, "all.sh"), "utf8").match(/^curl /gm)?.length, 50);
  await run(e, `cut.save @all request.path ${path.join(dir, "paths.csv")}`);
  assert.match(fs.readFileSync(path.join(dir, "paths.csv"), "utf8"), /^\/0\r\n\/1\r\n/);
  assert.equal(((await run(e, "view.flows.resolve ~u /4")) as string).split("\n").length, 11);
  assert.equal(e.store.unpackedCount(), 0);
});

test("cut.save response.content saves the body decoded, response.raw_content as it was sent (mitmproxy#217)", async () => {
  const e = engine();
  const dir = tempDir("pryx-cut-");
  const id = (await run(e, "view.flows.create get http://api.test/z")) as string;
  const flow = e.store.get(id) as HTTPFlow;
  const text = "hello ".repeat(100);
  const gz = zlib.gzipSync(text);
  flow.response = Response.make(200, "");
  flow.response.headers.set("content-encoding", "gzip");
  flow.response.raw_content = gz;
  await run(e, `cut.save ${id} response.content ${path.join(dir, "decoded")}`);
  await run(e, `cut.save ${id} response.raw_content ${path.join(dir, "raw")}`);
  assert.equal(fs.readFileSync(path.join(dir, "decoded"), "utf8"), text);
  assert.deepEqual(fs.readFileSync(path.join(dir, "raw")), gz);
});

test("save.file makes missing directories as mitmproxy does; a place nothing can be written to fails naming the path", async () => {
  const e = engine();
  await run(e, "view.flows.create get http://api.test/s");
  const dir = tempDir("pryx-save-dirs-");
  assert.match(String(await run(e, `save.file @all ${dir}/new/sub/flows.pryx`)), /saved 1 flow to .*\/new\/sub\/flows\.pryx/);
  assert.ok(fs.statSync(path.join(dir, "new/sub/flows.pryx")).size > 0);
  // A name that does not tell the format (mitmproxy's examples use `flows`): the user hears which one it got.
  assert.match(String(await run(e, `save.file @all ${dir}/flows`)), /saved 1 flow to .*\/flows in pryx's format \(mitmproxy reads a file named \.mitm or \.flow/);
  await assert.rejects(run(e, "save.file @all /proc/nonexistent-pryx-dir/flows.pryx"), /cannot save flows to \/proc\/nonexistent-pryx-dir\/flows\.pryx: ENOENT/);
});

test("a file that cannot be written (a directory's name given) is an error that says what was being saved where, for w, export, HAR and cut.save", async () => {
  const e = engine();
  await run(e, "view.flows.create get http://api.test/s");
  const dir = tempDir("pryx-save-unwritable-");
  const taken = path.join(dir, "taken.har");
  fs.mkdirSync(taken);
  await assert.rejects(run(e, `save.file @all ${dir}`), new RegExp(`cannot save flows to ${dir}: EISDIR`));
  await assert.rejects(run(e, `save.file @all ${taken}`), new RegExp(`cannot save flows to ${taken}: EISDIR`));
  await assert.rejects(run(e, `export.file curl @all ${dir}`), new RegExp(`cannot export to ${dir}: EISDIR`));
  await assert.rejects(run(e, `cut.save @all request.url ${dir}`), new RegExp(`cannot save to ${dir}: EISDIR`));
  await assert.rejects(run(e, `cut.save @all request.url +${dir}`), new RegExp(`cannot save to ${dir}: EISDIR`));
});

test("export of a TCP flow says only HTTP flows export; save.har counts what it wrote and says what it left out", async () => {
  const { TCPFlow } = await import("../../src/engine/flow/tcp.ts");
  const { Client, Server } = await import("../../src/engine/flow/connection.ts");
  const e = engine();
  const dir = tempDir("pryx-export-tcp-");
  const tcp = new TCPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["tcp.test", 7]));
  tcp.live = false;
  e.store.add(tcp);
  const id = (await run(e, "view.flows.create get http://api.test/")) as string;
  await assert.rejects(run(e, `export.file curl ${tcp.id} ${path.join(dir, "x.sh")}`), /export\.file: only HTTP flows can be exported, and .* names a TCP flow/);
  assert.equal(await run(e, `save.har ${id},${tcp.id} ${path.join(dir, "two.har")}`), `saved 1 flow as HAR to ${path.join(dir, "two.har")}; 1 flow not HTTP (TCP, UDP, DNS) left out`);
  // save.file to a .har name writes HAR, as its .mitm names write mitmproxy's format.
  const written: string[] = [];
  e.log.setSink((l) => void (l.level === "alert" && written.push(l.msg)));
  assert.equal(await run(e, `save.file ${id} ${path.join(dir, "one.har")}`), `saved 1 flow as HAR to ${path.join(dir, "one.har")}`);
  await run(e, `save.file ${id} ${path.join(dir, "one.pryx")}`);
  // Told in the event log too (mitmproxy's alert): the status bar's answer goes in a moment under traffic.
  assert.deepEqual(written, [`saved 1 flow as HAR to ${path.join(dir, "one.har")}`, `saved 1 flow to ${path.join(dir, "one.pryx")}`]);
  assert.equal((JSON.parse(fs.readFileSync(path.join(dir, "one.har"), "utf8")) as { log: { entries: unknown[] } }).log.entries.length, 1);
  // Over many flows, one with nothing to export (raw_response of a flow without one) is left out and counted.
  const answered = (await run(e, "view.flows.create get http://api.test/answered")) as string;
  (e.store.get(answered) as HTTPFlow).response = Response.make(200, "the answer");
  const out = path.join(dir, "responses.txt");
  assert.equal(await run(e, `export.file raw_response @all ${out}`), `exported 1 flow as raw_response to ${out}; 2 left out (1 with nothing to export as raw_response, 1 not HTTP)`);
  // The message and nothing after it, as mitmproxy writes it: the file is the response's bytes.
  assert.match(fs.readFileSync(out, "latin1"), /^HTTP\/1\.1 200 OK\r\n[\s\S]*the answer$/);
  await assert.rejects(run(e, `export.file raw_response ${id} ${out}`), /no response/);
});

test("cut takes any attribute path of a flow, as mitmproxy's cut does: scheme, port, timestamps, connection addresses, headers; request.host is the address connected to", async () => {
  const e = engine();
  const id = (await run(e, "view.flows.create get https://api.test:8443/a?x=1")) as string;
  const flow = e.store.get(id) as HTTPFlow;
  flow.request.headers.set("host", "virtual.test");
  flow.request.timestamp_start = 1_700_000_000.25;
  flow.server_conn.address = ["10.0.0.7", 8443];
  const cutOf = (spec: string) => run(e, `cut ${id} ${spec}`);
  assert.equal(await cutOf("request.scheme"), "https");
  assert.equal(await cutOf("request.port"), "8443");
  assert.equal(await cutOf("request.host"), "api.test", "the address connected to");
  assert.equal(await cutOf("request.pretty_host"), "virtual.test", "the Host header's");
  assert.equal(await cutOf("request.timestamp_start"), "1700000000.25");
  assert.equal(await cutOf("server_conn.address.host"), "10.0.0.7");
  assert.equal(await cutOf("server_conn.address.port"), "8443");
  assert.equal(await cutOf("server_conn.address"), "10.0.0.7:8443");
  assert.equal(await cutOf("request.header[Host]"), "virtual.test");
  assert.equal(await cutOf("marked"), "");
  assert.equal(await cutOf("is_replay"), "");
  assert.equal(await cutOf("response.status_code,request.scheme"), ",https\r\n", "no response: empty cells in a CSV");
  await assert.rejects(cutOf("request.nope"), /unknown cut "request.nope": request has no nope/);
  await assert.rejects(cutOf("request._secret"), /_secret is internal/);
});

test("words past a command's parameters are an error naming them, as mitmproxy's argument mismatch; commands whose last parameter takes the rest still take it", async () => {
  const e = engine();
  const id = (await run(e, "view.flows.create get http://api.test/a")) as string;
  await run(e, "view.flows.create get http://api.test/b");
  await assert.rejects(run(e, "options.reset.one view_order now"), /options\.reset\.one takes 1: options\.reset\.one option; "now" is more \(quote an argument that has spaces\)/);
  await assert.rejects(run(e, `flow.mark ${id} true extra`), /flow\.mark takes 2: .*"extra" is more/);
  await assert.rejects(run(e, "view.flows.create get http://api.test/c :console.key.bind flowlist U x"), /view\.flows\.create takes 2: .*":console\.key\.bind" "flowlist" "U" "x" is more/);
  assert.equal(e.store.size, 2, "the mistyped line made no flow");
  // A comment, a filter, a value with spaces: unquoted, as before.
  await run(e, `flow.comment ${id} looks wrong here`);
  assert.equal(e.store.get(id)?.comment, "looks wrong here");
  assert.match(String(await run(e, "view.flows.resolve ~u /a")), new RegExp(id));
  await run(e, "set view_filter ~u /b");
  assert.equal(e.options.get("view_filter"), "~u /b");
});

test("export takes one flow: a spec that names several is an error, as in mitmproxy, not the first of them", async () => {
  const e = engine();
  await run(e, "view.flows.create get http://api.test/a");
  await run(e, "view.flows.create get http://api.test/b");
  await assert.rejects(run(e, "export curl @all"), /export takes one flow; @all names 2 \(export\.file writes several to a file\)/);
  assert.match(String(await run(e, "export curl '~u /b'")), /curl .*api\.test\/b/);
});

test("set with several values gives a list option its entries, and any other option the values joined by spaces, as mitmproxy's set", async () => {
  const e = engine();
  assert.equal(await run(e, "set mode regular socks5@1080"), "mode = regular,socks5@1080");
  assert.deepEqual(e.options.get("mode"), ["regular", "socks5@1080"]);
  await run(e, "set ignore_hosts ^a\\.test:443$ ^b\\.test:443$");
  assert.deepEqual(e.options.get("ignore_hosts"), ["^a\\.test:443$", "^b\\.test:443$"]);
  await run(e, "set intercept ~u login & ~q");
  assert.equal(e.options.get("intercept"), "~u login & ~q");
  // One value is read as before: a comma-separated list.
  await run(e, "set mode regular,dns@5353");
  assert.deepEqual(e.options.get("mode"), ["regular", "dns@5353"]);
  await assert.rejects(run(e, "set mode regular bogus"), /invalid mode "bogus"/);
  assert.deepEqual(e.options.get("mode"), ["regular", "dns@5353"], "a bad entry leaves the option as it was");
});

test("cut called by an addon gives mitmproxy's rows, a list of values per flow with a body as bytes, for flows given or a spec", async () => {
  const e = engine();
  const a = (await run(e, "view.flows.create get http://api.test/a?x=1")) as string;
  const b = (await run(e, "view.flows.create post http://api.test/b")) as string;
  const fb = e.store.get(b) as HTTPFlow;
  fb.request.content = Buffer.from([0, 255]);
  assert.deepEqual(await e.commands.call("cut", [fb], ["request.method", "request.content"]), [["POST", Buffer.from([0, 255])]]);
  assert.deepEqual(await e.commands.call("cut", `${a},${b}`, "request.host,request.port"), [["api.test", "80"], ["api.test", "80"]]);
  await assert.rejects(e.commands.call("cut", [fb]), /cut needs flows and cuts/);
});

test("export.formats, flow.set.options and flow.encode.options give an addon's commands.call a list, as mitmproxy's Sequence[str]; a command line still reads a,b,c", async () => {
  const e = engine();
  assert.deepEqual(await e.commands.call("export.formats"), ["curl", "httpie", "raw", "raw_request", "raw_response"]);
  assert.ok(Array.isArray(await e.commands.call("flow.set.options")));
  assert.ok(((await e.commands.call("flow.encode.options")) as string[]).includes("gzip"));
  assert.equal(await run(e, "export.formats"), "curl,httpie,raw,raw_request,raw_response");
});

test("counts and flags give an addon's commands.call a number or a boolean, as mitmproxy's int and bool (a \"0\" string is no 0 to compare with); a command line still reads 0 and false", async (t) => {
  const e = engine();
  t.after(() => e.stop());
  await e.start();
  for (const name of ["replay.client.count", "replay.server.count", "proxyserver.active_connections"]) assert.equal(await e.commands.call(name), 0, name);
  assert.equal(await e.commands.call("readfile.reading"), false);
  assert.equal(await run(e, "replay.client.count"), "0");
  assert.equal(await run(e, "readfile.reading"), "false");
});

test("view.flows.duplicate gives the copies' ids, in order, to the console's start request and to an addon's commands.call; a command line reads what it did", async () => {
  const e = engine();
  const a = (await run(e, "view.flows.create get http://api.test/a")) as string;
  const b = (await run(e, "view.flows.create post http://api.test/b")) as string;
  const urlOf = (id: string | undefined): string | undefined => (e.store.get(id ?? "") as HTTPFlow | undefined)?.request.pretty_url;

  const started = await e.handle({ op: "start", line: `view.flows.duplicate ${a},${b}` });
  assert.equal(started.said, "duplicated 2 flows");
  assert.deepEqual(started.ids.map(urlOf), ["http://api.test/a", "http://api.test/b"]);
  assert.ok(!started.ids.includes(a) && !started.ids.includes(b), "the copies, not the originals");
  // ctx is bound to the engine made last, this one; its call is typed to give the ids.
  const called: string[] = await ctx.master.commands.call("view.flows.duplicate", [e.store.get(b)]);
  assert.deepEqual(called.map(urlOf), ["http://api.test/b"]);
  assert.equal(await run(e, `view.flows.duplicate ${a}`), "duplicated 1 flow");
  assert.equal(e.store.size, 6);
});
