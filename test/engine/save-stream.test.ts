import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { SaveStreamAddon, readFlows } from "../../src/engine/save-stream.ts";
import { Options } from "../../src/engine/options.ts";
import { savePath, strftime } from "../../src/engine/save-path.ts";
import { registerCoreOptions } from "../../src/engine/core-options.ts";
import { Log } from "../../src/engine/log.ts";
import { TCPFlow, TCPMessage, UDPFlow } from "../../src/engine/flow/tcp.ts";
import { toHar } from "../../src/engine/flow/har.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";
import type { Flow } from "../../src/engine/flow/flow.ts";
import { startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";

function flow(pathname: string, body: string): HTTPFlow {
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["example.test", 80]), Request.make("POST", `http://example.test${pathname}`, body));
  f.response = Response.make(200, body);
  f.live = false;
  return f;
}

function tmpFile(t: { after(fn: () => void): void }, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-flows-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "flows.jsonl");
  fs.writeFileSync(file, text);
  return file;
}

/** The save addon wired to core options, as the engine wires it, and the log's messages of `level`. */
function saveAddon(level?: string): { options: Options; save: SaveStreamAddon; said: string[] } {
  const options = new Options();
  registerCoreOptions(options);
  const log = new Log();
  const said: string[] = [];
  if (level) log.setSink((e) => void (e.level === level && said.push(e.msg)));
  const save = new SaveStreamAddon(options, log);
  options.onChange((updated) => save.configure(updated));
  return { options, save, said };
}

test("a flow file is read piece by piece: lines and multi-byte characters across 1 MiB boundaries, a bad line named by number", (t) => {
  // Bodies of ~700 KB put line ends and multi-byte characters at every offset of the 1 MiB pieces.
  const bodies = ["é€😀".repeat(60_000), "a".repeat(700_001) + "ü", "short", "€".repeat(233_333)];
  const lines = bodies.map((b, i) => encodeFlow(flow(`/f${i}`, b)));
  lines.splice(2, 0, "", "{not json");
  const file = tmpFile(t, `${lines.join("\n")}\n`);
  const got: Flow[] = [];
  const { count, errors, format } = readFlows(file, (f) => got.push(f));
  assert.equal(format, "pryx");
  assert.equal(count, 4);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /flows\.jsonl:4: not a pryx flow line/);
  assert.deepEqual(
    got.map((f) => [(f as HTTPFlow).request.path, (f as HTTPFlow).response?.text]),
    bodies.map((b, i) => [`/f${i}`, b]),
  );
});

test("a missing flow file is a clear error naming it", () => {
  assert.throws(() => readFlows("/nonexistent/pryx.flows", () => undefined), /cannot read flow file \/nonexistent\/pryx\.flows: ENOENT/);
});

test("a gzipped capture (capture.mitm.gz) is refused saying it is compressed and how to read it, not with a JSON error per line", (t) => {
  const file = tmpFile(t, "");
  fs.writeFileSync(file, zlib.gzipSync(`${encodeFlow(flow("/zipped", "z"))}\n`));
  assert.throws(() => readFlows(file, () => undefined), (err: Error) => err.message === `cannot read flow file ${file}: it is gzip-compressed; decompress it as you read it: gunzip -c ${file} | pryx dump -n -r - (or gunzip it first)`);
});

test("a HAR file is told by its first bytes and read too", (t) => {
  const file = tmpFile(t, toHar([flow("/har-one", "h1"), flow("/har-two", "h2")]));
  const got: Flow[] = [];
  const read = readFlows(file, (f) => got.push(f));
  assert.deepEqual({ count: read.count, format: read.format }, { count: 2, format: "har" });
  assert.deepEqual(got.map((f) => (f as HTTPFlow).request.path), ["/har-one", "/har-two"]);
});

test("a HAR file that starts with a UTF-8 byte order mark (Fiddler's) is read as HAR", (t) => {
  const file = tmpFile(t, `\ufeff${toHar([flow("/bom", "b")])}`);
  const got: Flow[] = [];
  const read = readFlows(file, (f) => got.push(f));
  assert.deepEqual({ count: read.count, format: read.format, errors: read.errors }, { count: 1, format: "har", errors: [] });
  assert.equal((got[0] as HTTPFlow).request.path, "/bom");
});

test("a HAR file cut off is an error naming the file; a bad entry is named with the file and the other entries load", (t) => {
  const har = toHar([flow("/one", "1"), flow("/two", "2")]);
  const cut = tmpFile(t, har.slice(0, 300));
  assert.throws(() => readFlows(cut, () => undefined), new RegExp(`cannot read HAR file ${cut.replaceAll("/", "\\/")}: not valid JSON .*cut off, or not a HAR file`));
  const doc = JSON.parse(har) as { log: { entries: { request: { url: string } }[] } };
  doc.log.entries[0]!.request.url = "::bad::";
  const bad = tmpFile(t, JSON.stringify(doc));
  const got: Flow[] = [];
  const read = readFlows(bad, (f) => got.push(f));
  assert.equal(read.count, 1);
  assert.deepEqual(got.map((f) => (f as HTTPFlow).request.path), ["/two"]);
  assert.equal(read.errors.length, 1);
  assert.ok(read.errors[0]!.startsWith(`${bad}: HAR entry 1 (POST ::bad::): `), read.errors[0]);
  // Headers left out (a hand-made HAR) are no headers; headers that are no list are the entry's error, said so.
  const trimmed = JSON.parse(har) as { log: { entries: { request: { headers?: unknown }; response: { headers?: unknown } }[] } };
  delete trimmed.log.entries[0]!.request.headers;
  delete trimmed.log.entries[0]!.response.headers;
  trimmed.log.entries[1]!.request.headers = "Host: x";
  const odd = tmpFile(t, JSON.stringify(trimmed));
  const paths: string[] = [];
  const oddRead = readFlows(odd, (f) => void paths.push((f as HTTPFlow).request.path));
  assert.deepEqual(paths, ["/one"]);
  assert.match(oddRead.errors[0] ?? "", /HAR entry 2 \(POST http:\/\/example\.test\/two\): its headers are not a list of \{ name, value \}/);
});

test("an error from the caller's handler is not reported as an unreadable line", (t) => {
  const file = tmpFile(t, `${encodeFlow(flow("/x", "y"))}\n`);
  assert.throws(() => readFlows(file, () => { throw new Error("store is full"); }), /store is full/);
});

test("flows read at start reach the UI in batches of at most 5,000, all of them", { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 12_000; i++) lines.push(encodeFlow(flow(`/n${i}`, "x")));
  const file = tmpFile(t, lines.join("\n"));
  const proxy = await startProxy({ options: { rfile: file } });
  closeAfter(t, proxy);
  const batches = proxy.events.filter((e) => e.t === "batch" && e.add.count > 0).map((e) => (e.t === "batch" ? e.add.count : 0));
  assert.equal(batches.reduce((a, b) => a + b, 0), 12_000);
  assert.ok(batches.length >= 3, `batches: ${batches.join(", ")}`);
  assert.ok(Math.max(...batches) <= 5_000, `batches: ${batches.join(", ")}`);
});

test("view.flows.load reads a flow file and a HAR file into the store, and names a missing file", { timeout: 15_000 }, async (t) => {
  const proxy = await startProxy();
  closeAfter(t, proxy);
  const run = (line: string) => proxy.engine.handle({ op: "command", line });
  const pryxFile = tmpFile(t, `${encodeFlow(flow("/p1", "a"))}\n${encodeFlow(flow("/p2", "b"))}\n`);
  const harFile = tmpFile(t, toHar([flow("/h1", "c")]));
  assert.equal(await run(`view.flows.load ${pryxFile}`), "loaded 2 flows");
  assert.equal(await run(`view.flows.load ${harFile}`), `loaded 1 flow from HAR ${harFile}`);
  assert.deepEqual(proxy.engine.store.all().map((f) => (f as HTTPFlow).request.path).sort(), ["/h1", "/p1", "/p2"]);
  await assert.rejects(run("view.flows.load /nonexistent/x.flows"), /cannot read flow file \/nonexistent\/x\.flows/);
  // Loaded again, as mitmproxy's view.flows.load: copies with ids of their own, each found by its id.
  assert.equal(await run(`view.flows.load ${pryxFile}`), "loaded 2 flows");
  const flows = proxy.engine.store.all();
  assert.deepEqual(flows.map((f) => (f as HTTPFlow).request.path).sort(), ["/h1", "/p1", "/p1", "/p2", "/p2"]);
  assert.equal(new Set(flows.map((f) => f.id)).size, 5);
  for (const f of flows) assert.equal(proxy.engine.store.get(f.id), f);
});

test("-r passes over a second flow with an id already read, as mitmproxy's view does", { timeout: 15_000 }, async (t) => {
  const once = flow("/once", "a");
  const file = tmpFile(t, `${encodeFlow(once)}\n${encodeFlow(flow("/other", "b"))}\n${encodeFlow(once)}\n`);
  const proxy = await startProxy({ options: { rfile: file } });
  closeAfter(t, proxy);
  assert.deepEqual(proxy.engine.store.all().map((f) => (f as HTTPFlow).request.path), ["/once", "/other"]);
  assert.ok(proxy.logs.some((l) => l.msg === `read 2 flows from ${file}`), proxy.logs.map((l) => l.msg).join("\n"));
});

test("export.file raw_response writes the response's bytes exactly: a UTF-8 or binary body is not re-encoded", { timeout: 15_000 }, async (t) => {
  const proxy = await startProxy();
  closeAfter(t, proxy);
  const f = flow("/raw", "x");
  f.response = Response.make(200, Buffer.from([0x68, 0xc3, 0xa9, 0xff, 0x00]), { "content-type": "application/octet-stream" });
  proxy.engine.store.add(f);
  const file = tmpFile(t, "");
  await proxy.engine.handle({ op: "command", line: `export.file raw_response ${f.id} ${file}` });
  // The body ends the file: nothing is added after the message (as mitmproxy writes it).
  const body = fs.readFileSync(file).subarray(-5);
  assert.deepEqual([...body], [0x68, 0xc3, 0xa9, 0xff, 0x00]);
});

test("-w saves a TCP or WebSocket connection still open when pryx stops (done), as mitmproxy's save addon does; one that ended is saved once", (t) => {
  const file = tmpFile(t, "");
  const { options, save } = saveAddon();
  options.setText("save_stream_file", file);
  const open = new TCPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["db.test", 5432]));
  open.messages.push(new TCPMessage(true, Buffer.from("SELECT 1")));
  const ended = new TCPFlow(new Client(["127.0.0.1", 5001], ["127.0.0.1", 8080]), new Server(["db.test", 5432]));
  save.tcp_start(open);
  save.tcp_start(ended);
  save.tcp_end(ended);
  save.done();
  save.tcp_end(open);
  const ids: string[] = [];
  readFlows(file, (f) => void ids.push(f.id));
  assert.deepEqual(ids, [ended.id, open.id]);
});

test("-w to a .mitm file writes mitmproxy's records as flows finish; a UDP flow, which that format has none of, is said once and left out", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-save-mitm-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "capture.mitm");
  const { options, save, said: warnings } = saveAddon("warn");
  options.setText("save_stream_file", file);
  const http = flow("/a", "body");
  save.response(http);
  for (const n of [1, 2]) {
    const udp = new UDPFlow(new Client(["127.0.0.1", 5000 + n], ["127.0.0.1", 8080]), new Server(["dns.test", 53]));
    save.udp_start(udp);
    save.udp_end(udp);
  }
  save.done();
  assert.match(fs.readFileSync(file, "latin1"), /^\d+:.*7:version;2:17#/s, "a tnetstring of mitmproxy's version 17");
  const back: Flow[] = [];
  const read = readFlows(file, (f) => void back.push(f));
  assert.equal(read.format, "mitmproxy");
  assert.deepEqual(back.map((f) => f.id), [http.id]);
  assert.deepEqual(warnings, [`${file}: UDP flows are not saved: mitmproxy's flow format has no UDP flows (a .pryx file keeps them)`]);
});

test("-w to a .har name is refused, pointing to hardump (a stream of flows is no HAR); a name that does not tell the format says pryx's is written", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-save-names-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { options, save, said: infos } = saveAddon("info");
  const har = path.join(dir, "capture.har");
  assert.throws(() => options.setText("save_stream_file", har), new RegExp(`cannot stream flows to ${har}: a HAR is one JSON document.*--set hardump=${har}`));
  assert.equal(fs.existsSync(har), false, "no file that only looks like a HAR");
  const plain = path.join(dir, "flows");
  options.setText("save_stream_file", plain);
  options.setText("save_stream_file", path.join(dir, "named.pryx"));
  save.done();
  assert.deepEqual(infos, [`saving flows to ${plain} in pryx's format (mitmproxy reads a file named .mitm or .flow, which pryx writes in mitmproxy's)`]);
});

test("a save path is taken as mitmproxy takes one: strftime codes, missing directories made, mitmproxy's format for a .mitm or .flow name, no appending to a file of another format or a HAR, a place nothing can be written to refused (not looping)", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-save-path-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const at = new Date(2026, 10, 27, 9, 5, 7);
  assert.equal(strftime("caps/%Y-%m-%d_%H%M%S.%j.%%.pryx", at), "caps/2026-11-27_090507.331.%.pryx");
  const made = savePath(path.join(dir, "caps/%Y/%m/run.pryx"), at);
  assert.deepEqual(made, { file: path.join(dir, "caps/2026/11/run.pryx"), append: false, format: "pryx" });
  assert.ok(fs.statSync(path.join(dir, "caps/2026/11")).isDirectory());
  const mitm = path.join(dir, "old.flow");
  fs.writeFileSync(mitm, "1234:{...");
  assert.deepEqual(savePath(`+${mitm}`), { file: mitm, append: true, format: "mitmproxy" }, "mitmproxy's records after mitmproxy's");
  const mitmNamedPryx = path.join(dir, "capture.pryx");
  fs.writeFileSync(mitmNamedPryx, "1234:{...");
  assert.throws(() => savePath(`+${mitmNamedPryx}`), /cannot append to .*capture\.pryx: it is a mitmproxy flow file, and pryx's flow lines after it would make it unreadable; save to a new file/);
  const har = path.join(dir, "old.har");
  fs.writeFileSync(har, '{"log": {"entries": []}}');
  assert.throws(() => savePath(`+${har}`), /it is a HAR file/);
  const pryx = path.join(dir, "old.pryx");
  fs.writeFileSync(pryx, `${encodeFlow(flow("/a", "x"))}\n`);
  assert.deepEqual(savePath(`+${pryx}`), { file: pryx, append: true, format: "pryx" });
  const pryxNamedMitm = path.join(dir, "lines.mitm");
  fs.copyFileSync(pryx, pryxNamedMitm);
  assert.throws(() => savePath(`+${pryxNamedMitm}`), /cannot append to .*lines\.mitm: it is a pryx flow file, and mitmproxy's flow records after it would make it unreadable/);
  assert.equal(savePath(`${mitmNamedPryx}`).append, false, "overwriting is fine");
  assert.throws(() => savePath("/proc/nope/x.pryx"), /cannot save flows to \/proc\/nope\/x\.pryx: ENOENT/);
});

test("a disk that fills part-way through a flow leaves the file whole lines: the flow that failed is named and cut off again, the next one is saved whole, and the run's status is a failure", (t) => {
  const file = tmpFile(t, "");
  const { options, save, said: errors } = saveAddon("error");
  options.setText("save_stream_file", file);
  save.response(flow("/one", "first"));
  // The second record: the kernel takes 10 bytes, then says the disk is full (as a filling disk does).
  const real = fs.writeSync;
  let calls = 0;
  const partial = (fd: number, buffer: Uint8Array, offset?: number, _length?: number, position?: number | null): number => {
    calls++;
    if (calls === 1) return real(fd, buffer, offset, 10, position);
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };
  const writeSync = t.mock.method(fs, "writeSync", partial as unknown as typeof fs.writeSync);
  save.response(flow("/two", "second"));
  writeSync.mock.restore();
  save.response(flow("/three", "third"));
  save.done();
  const paths: string[] = [];
  const read = readFlows(file, (f) => void paths.push((f as HTTPFlow).request.path));
  assert.deepEqual(read.errors, []);
  assert.deepEqual(paths, ["/one", "/three"]);
  assert.match(errors[0] ?? "", /cannot write flow to .*flows\.jsonl: ENOSPC/);
  assert.match(errors.at(-1) ?? "", /1 flow could not be saved to .*flows\.jsonl/);
  assert.equal(save.failures, 1);
});

test("the console serves on when -r holds no flow or is missing, with the error in its event log, as mitmproxy's console does (dump stops instead)", { timeout: 15_000 }, async (t) => {
  const garbage = tmpFile(t, "\u0001\u0002 not a flow file\n");
  for (const rfile of [garbage, path.join(path.dirname(garbage), "missing.flows")]) {
    const proxy = await startProxy({ options: { rfile } });
    closeAfter(t, proxy);
    assert.ok(proxy.port > 0, "listening");
    await proxy.waitLog(new RegExp(`(no flow could be read from|cannot read) .*${path.basename(rfile).replace(".", "\\.")}`));
    assert.equal(proxy.logs.find((l) => /no flow could be read|cannot read/.test(l.msg))?.level, "error");
  }
});
