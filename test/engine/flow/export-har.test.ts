import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import zlib from "node:zlib";
import type { AddressInfo } from "node:net";
import { execFile } from "node:child_process";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { exportFlow, shellQuote } from "../../../src/engine/flow/export.ts";
import { fromHar, isHar, toHar } from "../../../src/engine/flow/har.ts";
import { decodeFlow, encodeFlow } from "../../../src/engine/flow/codec.ts";
import { FlowError } from "../../../src/engine/flow/flow.ts";
import { summarize } from "../../../src/engine/flow/summary.ts";
import { WebSocketData, WebSocketMessage } from "../../../src/engine/flow/websocket.ts";
import { Headers } from "../../../src/engine/flow/headers.ts";

function flow(): HTTPFlow {
  const req = Request.make("POST", "http://api.test:8080/login?next=/home", "user=o'brien", { "Content-Type": "application/x-www-form-urlencoded", "X-Token": "abc" });
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["api.test", 8080]), req);
  f.response = Response.make(201, "créé", { "content-type": "text/plain; charset=utf-8" });
  f.response.reason = "Created";
  return f;
}

test("curl export reproduces method, URL, headers and body, quoted for the shell", () => {
  const out = exportFlow(flow(), "curl");
  assert.equal(out, `curl -X POST 'http://api.test:8080/login?next=/home' -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Token: abc' --data-binary 'user=o'\\''brien'`);
  assert.equal(shellQuote("plain"), "plain");
});

test("export_preserve_original_ip: a curl export resolves the host to the address the flow reached, and curl gets there with it", { timeout: 10_000, skip: fs.existsSync("/usr/bin/curl") ? false : "no /usr/bin/curl" }, async (t) => {
  const origin = http.createServer((req, res) => res.end(`reached ${req.headers.host}`));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  t.after(() => origin.close());
  const port = (origin.address() as AddressInfo).port;
  // A name nothing resolves: only the --resolve entry can take curl to the recorded address.
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["nowhere.invalid", port]), Request.make("GET", `http://nowhere.invalid:${port}/x`));
  f.server_conn.peername = ["127.0.0.1", port];
  assert.equal(exportFlow(f, "curl", true), `curl --resolve 'nowhere.invalid:${port}:[127.0.0.1]' http://nowhere.invalid:${port}/x`);
  assert.equal(exportFlow(f, "curl"), `curl http://nowhere.invalid:${port}/x`, "off by default, as in mitmproxy");
  const out = await new Promise<string>((resolve, reject) =>
    execFile("/bin/sh", ["-c", `${exportFlow(f, "curl", true)} -sS`], { timeout: 5000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
  );
  assert.equal(out, `reached nowhere.invalid:${port}`);
  f.server_conn.peername = ["nowhere.invalid", port];
  assert.doesNotMatch(exportFlow(f, "curl", true), /--resolve/, "nothing to pin when the host is the address");
});

test("a curl export of a request that took compressed bodies asks with --compressed, so running it prints the body decoded, as mitmproxy's does", { timeout: 10_000, skip: fs.existsSync("/usr/bin/curl") ? false : "no /usr/bin/curl" }, async (t) => {
  const origin = http.createServer((req, res) => {
    const gzip = /gzip/.test(String(req.headers["accept-encoding"]));
    res.writeHead(200, gzip ? { "content-encoding": "gzip" } : {}).end(gzip ? zlib.gzipSync("the body") : "the body");
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  t.after(() => origin.close());
  const port = (origin.address() as AddressInfo).port;
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", port]), Request.make("GET", `http://127.0.0.1:${port}/gz`, "", { "User-Agent": "Firefox", "Accept-Encoding": "gzip, deflate, br" }));
  const command = exportFlow(f, "curl");
  assert.equal(command, `curl http://127.0.0.1:${port}/gz -H 'User-Agent: Firefox' --compressed`);
  const out = await new Promise<string>((resolve, reject) => execFile("/bin/sh", ["-c", `${command} -sS`], { timeout: 5000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))));
  assert.equal(out, "the body");
});

test("httpie and raw exports", () => {
  // The body is piped in from printf: exact bytes, no here-string newline added.
  // "Name: value" as mitmproxy writes it: httpie reads "X:=1" without the space as a JSON field.
  assert.equal(exportFlow(flow(), "httpie"), `printf 'user=o\\047brien' | http POST 'http://api.test:8080/login?next=/home' 'Content-Type: application/x-www-form-urlencoded' 'X-Token: abc'`);
  const raw = exportFlow(flow(), "raw");
  assert.match(raw, /^POST \/login\?next=\/home HTTP\/1\.1\r\nHost: api\.test:8080\r\n/);
  assert.match(raw, /HTTP\/1\.1 201 Created\r\ncontent-type: text\/plain; charset=utf-8\r\ncontent-length: 6\r\n\r\ncr/);
});

test("HAR export and import round-trip the request, the response and non-UTF-8 bodies", () => {
  const f = flow();
  f.response!.content = Buffer.from([0xff, 0x00, 0x10]);
  const har = toHar([f]);
  assert.ok(isHar(har));
  const [back] = fromHar(har).flows;
  assert.equal(back?.request.method, "POST");
  assert.equal(back?.request.pretty_url, "http://api.test:8080/login?next=/home");
  assert.equal(back?.request.text, "user=o'brien");
  assert.equal(back?.request.headers.get("x-token"), "abc");
  assert.equal(back?.response?.status_code, 201);
  assert.deepEqual([...(back?.response?.content ?? [])], [0xff, 0x00, 0x10]);
  assert.equal(summarize(back as HTTPFlow, 1, true).client, "", "HAR has no client address: the list and dump show none, not ':0'");
});

test("a request sent gzipped comes back from HAR as its decoded body without Content-Encoding (not gzip bytes called plain)", () => {
  const req = Request.make("POST", "http://api.test/up", "", { "content-type": "text/plain", "content-encoding": "gzip" });
  req.content = Buffer.from("the plain upload");
  assert.notDeepEqual([...(req.raw_content ?? [])], [...Buffer.from("the plain upload")], "sent gzipped");
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["api.test", 80]), req);
  const [back] = fromHar(toHar([f])).flows;
  assert.equal(back?.request.headers.get("content-encoding"), undefined);
  assert.equal(Buffer.from(back?.request.raw_content ?? []).toString(), "the plain upload");
});

test("a WebSocket flow's messages go to HAR as Chrome writes them (_webSocketMessages) and come back", () => {
  const f = flow();
  f.websocket = new WebSocketData();
  f.websocket.messages = [new WebSocketMessage("text", true, Buffer.from("héllo"), 1700000000.25), new WebSocketMessage("binary", false, Buffer.from([0, 255, 7]), 1700000000.5)];
  const har = toHar([f]);
  const log = (JSON.parse(har) as { log: { pages: unknown; entries: { _webSocketMessages: unknown; _resourceType: unknown }[] } }).log;
  const entry = log.entries[0];
  // Chrome lists the entry as a WebSocket by _resourceType; pages is there, empty, as mitmproxy writes it.
  assert.equal(entry?._resourceType, "websocket");
  assert.deepEqual(log.pages, []);
  assert.deepEqual(entry?._webSocketMessages, [
    { type: "send", time: 1700000000.25, opcode: 1, data: "héllo" },
    { type: "receive", time: 1700000000.5, opcode: 2, data: Buffer.from([0, 255, 7]).toString("base64") },
  ]);
  const [back] = fromHar(har).flows;
  assert.deepEqual(back?.websocket?.messages.map((m) => [m.type, m.from_client, [...m.content], m.timestamp]), [
    ["text", true, [...Buffer.from("héllo")], 1700000000.25],
    ["binary", false, [0, 255, 7], 1700000000.5],
  ]);
});

test("pryx flow lines round-trip a flow", () => {
  const f = flow();
  f.comment = "look";
  f.marked = ":default:";
  f.server_conn.peername = ["10.1.2.3", 8080];
  const back = decodeFlow(encodeFlow(f)) as HTTPFlow;
  // The server's resolved address survives a save and load: HAR's serverIPAddress comes from it.
  assert.deepEqual(back.server_conn.peername, ["10.1.2.3", 8080]);
  assert.deepEqual(back.client_conn.sockname, ["127.0.0.1", 8080]);
  assert.match(toHar([back]), /"serverIPAddress": "10\.1\.2\.3"/);
  assert.equal(back.id, f.id);
  assert.equal(back.comment, "look");
  assert.equal(back.marked, ":default:");
  assert.equal(back.request.text, "user=o'brien");
  assert.deepEqual(back.request.headers.fields, f.request.headers.fields);
  // The file keeps headers as [name, value] pairs, whatever Headers holds them as in memory.
  const line = JSON.parse(encodeFlow(f)) as { request: { headers: unknown } };
  assert.deepEqual(line.request.headers, [...f.request.headers]);
  assert.ok((line.request.headers as unknown[]).every((p) => Array.isArray(p) && p.length === 2));
  assert.equal(back.response?.text, "créé");
  assert.equal(back.live, false);
  assert.throws(() => decodeFlow("{not json"), /not a pryx flow line/);
  assert.throws(() => decodeFlow(JSON.stringify({ v: 99 })), /unsupported flow file version 99/);
  // JSON that is no flow at all is said to be that, not a flow of an unknown version.
  assert.throws(() => decodeFlow(JSON.stringify({ hello: 1 })), /^Error: not a flow: pryx reads its own flow files, mitmproxy's \(mitmdump -w\) and HAR$|not a flow: pryx reads its own flow files, mitmproxy's \(mitmdump -w\) and HAR/);
  assert.throws(() => decodeFlow("42"), /not a flow: /);
});

test("an exported curl command, run, sends the origin the same method, query, headers and body bytes (binary and empty too, one beginning with - or @, UTF-8 in the URL and a header)", { timeout: 15_000 }, async (t) => {
  const got: { method?: string; url?: string; headers: string[]; body: Buffer }[] = [];
  const origin = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      got.push({ method: req.method, url: req.url, headers: req.rawHeaders, body: Buffer.concat(parts) });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", () => r()));
  t.after(() => origin.close());
  const port = (origin.address() as AddressInfo).port;
  // A multipart body with a binary part begins "--": printf took it for an option and piped nothing.
  const multipart = Buffer.concat([Buffer.from("--b0undary\r\ncontent-type: image/png\r\n\r\n"), Buffer.from([0x89, 0x50, 0xff]), Buffer.from("\r\n--b0undary--\r\n")]);
  const bodies = [Buffer.from([0, 1, 0x25, 0x5c, 0x27, 0xff, 0x0a, 0x0a]), Buffer.from("héllo 'you' %s\n\n"), Buffer.alloc(0), multipart, Buffer.from("@/etc/hostname")];
  // The path and a header value as their UTF-8 bytes, as pryx keeps them (one char a byte).
  const utf8Bytes = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
  for (const body of bodies) {
    const req = Request.make("PUT", `http://127.0.0.1:${port}/up?a=1&b=%20x`, body, [["X-Kind", "t'est"], ["X-Snow", "☃ café"], ["content-type", "application/octet-stream"]]);
    const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", port]), req);
    await new Promise<void>((resolve, reject) => execFile("sh", ["-c", `${exportFlow(f, "curl")} -s -o /dev/null`], (err) => (err ? reject(err) : resolve())));
    const last = got.at(-1);
    assert.equal(last?.method, "PUT");
    assert.equal(last?.url, "/up?a=1&b=%20x");
    assert.equal(last?.headers[last.headers.findIndex((h) => h === "X-Kind") + 1], "t'est");
    assert.equal(last?.headers[last.headers.findIndex((h) => h === "X-Snow") + 1], utf8Bytes("☃ café"), "the header's bytes, not each doubled");
    assert.deepEqual([...(last?.body ?? [])], [...body]);
  }
  const utf8Path = Request.make("GET", `http://127.0.0.1:${port}/`, "", {});
  // As a client's request line carried it: raw UTF-8, not percent-encoded.
  utf8Path.path = utf8Bytes("/café");
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", port]), utf8Path);
  assert.match(exportFlow(f, "curl"), /\/café'?$/);
  await new Promise<void>((resolve, reject) => execFile("sh", ["-c", `${exportFlow(f, "curl")} -s -o /dev/null`], (err) => (err ? reject(err) : resolve())));
  // curl percent-encodes what is not ASCII: the same bytes, each once.
  assert.equal(decodeURIComponent(got.at(-1)?.url ?? ""), "/café");
});

test("an exported curl command reproduces what curl would otherwise change: brackets and braces in the URL (globbing), /../ in the path, HEAD, a header with an empty value", { timeout: 15_000, skip: fs.existsSync("/usr/bin/curl") ? false : "no /usr/bin/curl" }, async (t) => {
  const got: { method?: string; url?: string; headers: string[] }[] = [];
  const origin = http.createServer((req, res) => {
    got.push({ method: req.method, url: req.url, headers: req.rawHeaders });
    res.end(req.method === "HEAD" ? undefined : "ok");
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", () => r()));
  t.after(() => origin.close());
  const port = (origin.address() as AddressInfo).port;
  for (const method of ["GET", "HEAD"]) {
    const req = Request.make(method, `http://127.0.0.1:${port}/`, "", [["X-Empty", ""], ["X-Full", "v"]]);
    req.path = "/a[1]/{x}/../b?q=[z]";
    const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", port]), req);
    await new Promise<void>((resolve, reject) => execFile("sh", ["-c", `${exportFlow(f, "curl")} -s -o /dev/null --max-time 5`], (err) => (err ? reject(err) : resolve())));
    const last = got.at(-1);
    assert.equal(last?.method, method);
    assert.equal(last?.url, "/a[1]/{x}/../b?q=[z]");
    const at = last?.headers.findIndex((h) => h === "X-Empty") ?? -1;
    assert.ok(at >= 0, `the empty header was sent: ${JSON.stringify(last?.headers)}`);
    assert.equal(last?.headers[at + 1], "");
  }
});

test("a browser's HAR entry for HTTP/2 imports without its pseudo-headers and with the version spelt HTTP/2.0", () => {
  const entry = {
    startedDateTime: "2024-01-01T00:00:00.000Z",
    time: 12,
    request: { method: "GET", url: "https://example.com/a?x=1", httpVersion: "http/2.0", headers: [{ name: ":authority", value: "example.com" }, { name: ":method", value: "GET" }, { name: ":path", value: "/a?x=1" }, { name: ":scheme", value: "https" }, { name: "accept", value: "*/*" }], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
    response: { status: 200, statusText: "", httpVersion: "http/2.0", headers: [{ name: ":status", value: "200" }, { name: "content-type", value: "text/html" }], cookies: [], content: { size: 5, mimeType: "text/html", text: "hello" }, redirectURL: "", headersSize: -1, bodySize: -1 },
    cache: {},
    timings: { send: 0, wait: 1, receive: 1 },
  };
  const [f] = fromHar(JSON.stringify({ log: { version: "1.2", creator: { name: "WebInspector", version: "537.36" }, pages: [], entries: [entry] } })).flows;
  assert.deepEqual(f?.request.headers.fields, [["Host", "example.com"], ["accept", "*/*"]]);
  assert.equal(f?.request.http_version, "HTTP/2.0");
  assert.ok(f?.response?.headers.fields.every(([n]) => !n.startsWith(":")), "no :status among the response's fields");
  assert.equal(f?.response?.http_version, "HTTP/2.0");
});

test("an error flow exports as a valid HAR 1.2 entry, as Chrome writes a failed request, and imports back with its error", () => {
  const req = Request.make("GET", "http://down.test/x", "", {});
  req.timestamp_start = 1_700_000_000;
  req.timestamp_end = 1_700_000_000.01;
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["down.test", 80]), req);
  f.error = new FlowError("connection refused", 1_700_000_000.5);
  const entry = (JSON.parse(toHar([f])) as { log: { entries: Record<string, unknown>[] } }).log.entries[0]!;
  const timings = entry.timings as Record<string, number>;
  // send, wait and receive are required and never -1; time is their total.
  assert.deepEqual(timings, { send: 10, wait: 490, receive: 0 });
  assert.equal(entry.time, 500);
  assert.deepEqual(entry.response, { status: 0, statusText: "", httpVersion: "", headers: [], cookies: [], content: { size: 0, mimeType: "x-unknown" }, redirectURL: "", headersSize: -1, bodySize: -1, _error: "connection refused" });

  const [back] = fromHar(toHar([f])).flows;
  assert.equal(back?.response, undefined);
  assert.equal(back?.error?.msg, "connection refused");
  assert.equal(back?.error?.timestamp, 1_700_000_000.5);
});

test("an error flow's time stays sane after a save and load, and a never-sent request's entry is time 0", () => {
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["down.test", 80]), Request.make("GET", "http://down.test/", "", {}));
  f.request.timestamp_start = 1_700_000_000;
  f.request.timestamp_end = undefined;
  f.error = new FlowError("no route", 1_700_000_000.2);
  const back = decodeFlow(encodeFlow(f)) as HTTPFlow;
  assert.equal(back.error?.timestamp, 1_700_000_000.2);
  const entry = (JSON.parse(toHar([back])) as { log: { entries: { time: number; timings: Record<string, number> }[] } }).log.entries[0]!;
  assert.equal(entry.time, 0);
  assert.deepEqual(entry.timings, { send: 0, wait: 0, receive: 0 });
});

test("HAR export fills request and response cookies and a form's params, as mitmproxy's HAR export and browsers' do", () => {
  const f = flow();
  f.request.headers.set("Cookie", "c1=v1; c2=v2");
  f.response!.timestamp_start = 1_700_000_000;
  f.response!.headers.add("Set-Cookie", "a=1; Path=/; HttpOnly");
  f.response!.headers.add("Set-Cookie", "b=2; Domain=.api.test; Max-Age=60; Secure");
  const entry = (JSON.parse(toHar([f])) as { log: { entries: { request: Record<string, unknown>; response: Record<string, unknown> }[] } }).log.entries[0]!;
  assert.deepEqual(entry.request["cookies"], [
    { name: "c1", value: "v1" },
    { name: "c2", value: "v2" },
  ]);
  assert.deepEqual(entry.response["cookies"], [
    { name: "a", value: "1", path: "/", httpOnly: true, secure: false },
    { name: "b", value: "2", domain: ".api.test", expires: new Date((1_700_000_000 + 60) * 1000).toISOString(), httpOnly: false, secure: true },
  ]);
  assert.deepEqual(entry.request["postData"], { mimeType: "application/x-www-form-urlencoded", text: "user=o'brien", params: [{ name: "user", value: "o'brien" }] });
});

test("HAR import: a form given as params alone (HAR 1.2 allows it) becomes its urlencoded body; an entry that cannot be a flow is an error naming it, and the others load", () => {
  const entry = (method: string, url: string, postData?: unknown) => ({
    startedDateTime: "2026-11-27T08:00:00.000Z",
    time: 5,
    request: { method, url, httpVersion: "HTTP/1.1", headers: [{ name: "Content-Type", value: "application/x-www-form-urlencoded" }], queryString: [], cookies: [], headersSize: -1, bodySize: -1, ...(postData ? { postData } : {}) },
    response: { status: 200, statusText: "OK", httpVersion: "HTTP/1.1", headers: [], cookies: [], content: { size: 0, mimeType: "" }, redirectURL: "", headersSize: -1, bodySize: 0 },
    cache: {},
    timings: { send: 1, wait: 3, receive: 1 },
  });
  const { flows, errors } = fromHar(
    JSON.stringify({
      log: {
        version: "1.2",
        entries: [
          entry("POST", "http://forms.test/submit", { mimeType: "application/x-www-form-urlencoded", params: [{ name: "a", value: "1" }, { name: "b c", value: "x&y" }] }),
          entry("GET", "not a url"),
          entry("GET", "http://forms.test/after"),
        ],
      },
    }),
  );
  assert.deepEqual(flows.map((f) => f.request.url), ["http://forms.test/submit", "http://forms.test/after"]);
  assert.equal(Buffer.from(flows[0]!.request.content ?? []).toString(), "a=1&b+c=x%26y");
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^HAR entry 2 \(GET not a url\): /);
  assert.throws(() => fromHar('{"log": {"entries": [{"startedDa'), /not valid JSON .*: cut off, or not a HAR file/);
});

test("a pryx flow file keeps the connections' TLS and TCP set-up times (the Detail tab's timings after L)", () => {
  const f = flow();
  f.client_conn.timestamp_tls_setup = 1_700_000_000.5;
  f.server_conn.timestamp_tcp_setup = 1_700_000_000.25;
  f.server_conn.timestamp_tls_setup = 1_700_000_000.75;
  const back = decodeFlow(encodeFlow(f));
  assert.equal(back.client_conn.timestamp_tls_setup, 1_700_000_000.5);
  assert.equal(back.server_conn.timestamp_tcp_setup, 1_700_000_000.25);
  assert.equal(back.server_conn.timestamp_tls_setup, 1_700_000_000.75);
});

test("raw export of a WebSocket flow adds its messages after the handshake, marked by direction, as mitmproxy's does", () => {
  const f = new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["ws.test", 80]), Request.make("GET", "http://ws.test/chat"));
  f.response = Response.make(101);
  f.websocket = new WebSocketData();
  f.websocket.messages = [new WebSocketMessage("text", true, Buffer.from("hi"), 1), new WebSocketMessage("text", false, Buffer.from("hello"), 2)];
  const raw = exportFlow(f, "raw");
  assert.match(raw, /^GET \/chat HTTP\/1\.1\r\n/);
  assert.ok(raw.endsWith("\r\n\r\n[OUTGOING] hi\n[INCOMING] hello"), raw);
  assert.ok(!exportFlow(flow(), "raw").includes("[OUTGOING]"), "a flow without a WebSocket has none");
});

test("curl and httpie exports of a WebSocket handshake keep Connection: Upgrade and Upgrade; a Host that is the URL's own, and Connection: keep-alive, are left to the client", { timeout: 10_000, skip: fs.existsSync("/usr/bin/curl") ? false : "no /usr/bin/curl" }, async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((_req, res) => res.end());
  server.on("upgrade", (req, socket) => {
    seen.push(req.headers);
    socket.end("HTTP/1.1 426 Not Here\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const req = Request.make("GET", `http://127.0.0.1:${port}/chat`, "", {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
  });
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", port]), req);
  const curl = exportFlow(f, "curl");
  assert.equal(curl, `curl http://127.0.0.1:${port}/chat -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 13'`);
  assert.match(exportFlow(f, "httpie"), /'Connection: Upgrade' 'Upgrade: websocket'/);
  const status = await new Promise<string>((resolve, reject) =>
    execFile("/bin/sh", ["-c", `${curl} -sS -o /dev/null -w '%{http_code}'`], { timeout: 5000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
  );
  assert.equal(status, "426");
  assert.equal(seen[0]?.upgrade, "websocket", "the server was asked to upgrade");
  assert.equal(seen[0]?.["sec-websocket-key"], "dGhlIHNhbXBsZSBub25jZQ==");

  const plain = Request.make("GET", "http://api.test:8080/", "", { Connection: "keep-alive", Host: "api.test:8080" });
  assert.equal(exportFlow(new HTTPFlow(f.client_conn, new Server(["api.test", 8080]), plain), "curl"), "curl http://api.test:8080/");
});

test("raw exports of a chunked message frame its body as one chunk with its trailers after it, as mitmproxy assembles it: a message an HTTP parser reads", () => {
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["app.test", 80]), Request.make("GET", "http://app.test/c"));
  f.response = Response.make(200, "hello world", { "transfer-encoding": "chunked" });
  f.response.trailers = new Headers([["x-checksum", "abc"]]);
  assert.match(exportFlow(f, "raw_response"), /^HTTP\/1\.1 200 OK\r\n[^]*transfer-encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\nx-checksum: abc\r\n\r\n$/i);
  f.response.content = new Uint8Array(0);
  f.response.trailers = undefined;
  assert.match(exportFlow(f, "raw_response"), /\r\n\r\n0\r\n\r\n$/);
});

test("exports of an HTTP/2 request, which has no Host header: curl and httpie target its authority; raw is HTTP/1.1 with a Host line, as it goes to an HTTP/1 server", () => {
  const req = new Request({ method: "GET", scheme: "https", host: "127.0.0.1", port: 8443, path: "/p?q=1", http_version: "HTTP/2.0", headers: [["accept", "*/*"]], authority: "app.test:8443", content: new Uint8Array(0) });
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["127.0.0.1", 8443]), req);
  assert.equal(exportFlow(f, "curl"), "curl 'https://app.test:8443/p?q=1' -H 'accept: */*' --http2");
  assert.equal(exportFlow(f, "httpie"), "http GET 'https://app.test:8443/p?q=1' 'accept: */*'");
  assert.equal(exportFlow(f, "raw_request"), "GET /p?q=1 HTTP/1.1\r\nHost: app.test:8443\r\naccept: */*\r\n\r\n");
  // A Host of its own (an addon's) is the one written, once.
  req.plainHeaders.set("Host", "own.test");
  assert.equal(exportFlow(f, "raw_request"), "GET /p?q=1 HTTP/1.1\r\naccept: */*\r\nHost: own.test\r\n\r\n");
});
