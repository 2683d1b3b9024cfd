import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { writeFlowFile, readFlows } from "../../src/engine/save-stream.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { FlowError, type Flow } from "../../src/engine/flow/flow.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";
import { TCPFlow, TCPMessage, UDPFlow } from "../../src/engine/flow/tcp.ts";
import { WebSocketData, WebSocketMessage } from "../../src/engine/flow/websocket.ts";
import { TFloat, dumpTnetstring, parseTnetstring, type TOut, type TValue } from "../../src/engine/flow/tnetstring.ts";
import { mitmproxyState } from "../../src/engine/flow/mitmproxy-state.ts";
import { flowFromMitmproxyState } from "../../src/engine/flow/mitmproxy-flow.ts";
import { PackArena, packFlow, unpackFlow } from "../../src/engine/flow/packed.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { originCertificate } from "../helpers/tls-origin.ts";

function connections(): [Client, Server] {
  const client = new Client(["127.0.0.1", 50000], ["127.0.0.1", 8080], "regular");
  client.tls = client.tls_established = true;
  client.sni = "app.test";
  client.alpn = "http/1.1";
  client.alpn_offers = ["h2", "http/1.1"];
  client.tls_version = "TLSv1.3";
  client.timestamp_end = client.timestamp_start! + 2;
  const server = new Server(["app.test", 443]);
  server.peername = ["127.0.0.1", 9443];
  server.sockname = ["127.0.0.1", 40000];
  server.tls = server.tls_established = true;
  // A real certificate: mitmproxy parses each.
  server.certificate_list = [originCertificate().certPem];
  server.via = ["proxy.test", 3128];
  server.error = "reset by peer";
  server.cipher = "TLS_AES_256_GCM_SHA384";
  server.timestamp_start = server.timestamp_tcp_setup = server.timestamp_tls_setup = client.timestamp_start! + 0.5;
  client.closed = server.closed = true;
  return [client, server];
}

function flows(): Flow[] {
  const [client, server] = connections();
  const post = new HTTPFlow(client, server, Request.make("POST", "https://app.test/api/items?x=1&y=%FF", Buffer.from([0, 0xff, 0x41]), { "content-type": "application/octet-stream", "x-raw": "café" }));
  post.response = Response.make(201, '{"ok":true}', { "content-type": "application/json" });
  post.response.reason = "Created";
  post.marked = ":grapes:";
  post.comment = "a comment";
  post.is_replay = "request";
  post.metadata = { tag: "seen", hits: 2, ratio: 0.5, nested: { list: [1, "two", null, true] } };
  const ws = new HTTPFlow(...connections(), Request.make("GET", "https://app.test/chat"));
  ws.response = Response.make(101, "");
  ws.websocket = new WebSocketData();
  ws.websocket.messages = [new WebSocketMessage("text", true, Buffer.from("hi"), 10.25), new WebSocketMessage("binary", false, Buffer.from([1, 2, 3]), 11)];
  ws.websocket.messages[1]!.dropped = true;
  ws.websocket.messages[0]!.injected = true;
  ws.websocket.close_code = 1000;
  ws.websocket.close_reason = "bye";
  ws.websocket.closed_by_client = false;
  ws.websocket.timestamp_end = 12;
  const failed = new HTTPFlow(...connections(), Request.make("GET", "http://down.test/"));
  failed.error = new FlowError("connection refused", 13.5);
  const tcp = new TCPFlow(...connections());
  tcp.messages = [new TCPMessage(true, Buffer.from("ping"), 5), new TCPMessage(false, Buffer.from([0, 255]), 6)];
  for (const f of [post, ws, failed, tcp]) f.live = false;
  return [post, ws, failed, tcp];
}

test("tnetstrings as mitmproxy writes them: floats with a point, ints, bytes apart from text, lists and dicts read back", () => {
  const value = { n: 5, f: new TFloat(5), t: new TFloat(1726927927.6629763), s: "café", b: Buffer.from([0xff]), l: [true, null, []] };
  const bytes = dumpTnetstring(value);
  assert.match(bytes.toString("latin1"), /1:n;1:5#1:f;3:5\.0\^1:t;18:1726927927\.6629763\^/);
  assert.deepEqual(parseTnetstring(bytes)?.value, { n: 5, f: 5, t: 1726927927.6629763, s: "café", b: Buffer.from([0xff]), l: [true, null, []] });
  assert.throws(() => dumpTnetstring(1.5), /not an integer: write a float as TFloat/);
});

test("flows saved as .mitm (mitmproxy's format) read back as they were: HTTP with bodies, headers, markers, metadata, a WebSocket, an error, TCP; UDP is left out and counted", async () => {
  const file = path.join(tempDir("pryx-mitm-write-"), "out.mitm");
  const all = [...flows(), new UDPFlow(...connections())];
  const { written, leftOut } = await writeFlowFile(file, false, "mitmproxy", all.map((f) => f.id), (id) => all.find((f) => f.id === id));
  assert.equal(written, 4);
  assert.deepEqual(leftOut.map((f) => f.type), ["udp"]);
  const back: Flow[] = [];
  const read = readFlows(file, (f) => back.push(f));
  assert.equal(read.format, "mitmproxy");
  assert.deepEqual(read.errors, []);
  const canonical = (f: Flow) => JSON.parse(encodeFlow(f)) as unknown;
  assert.deepEqual(back.map(canonical), all.slice(0, 4).map(canonical));
  assert.equal((back[1] as HTTPFlow).websocket?.messages[0]?.injected, true);
});

test("mitmdump reads a .mitm file pryx wrote", { skip: fs.existsSync("/usr/bin/mitmdump") ? false : "mitmdump is not installed" }, async () => {
  const file = path.join(tempDir("pryx-mitm-read-"), "for-mitmproxy.mitm");
  const all = flows();
  await writeFlowFile(file, false, "mitmproxy", all.map((f) => f.id), (id) => all.find((f) => f.id === id));
  const { stdout, stderr } = await promisify(execFile)("/usr/bin/mitmdump", ["-nr", file, "--flow-detail", "3", "--set", `confdir=${tempDir("pryx-mitm-conf-")}`], { timeout: 30_000 });
  assert.doesNotMatch(stderr, /error|exception|traceback/i, stderr);
  assert.match(stdout, /^\[replay\]: POST https:\/\/app\.test\/api\/items\?x=1&y=%FF\n[\s\S]*<< 201 Created 11b/m);
  assert.match(stdout, /0000000000 00 ff 41/, "the request body's bytes");
  assert.match(stdout, /"ok": true/, "the response body");
  // The header's bytes as they were on the wire (pryx holds them as latin1 characters); mitmdump escapes what is not ASCII.
  assert.match(stdout, /x-raw: caf\\xc3\\xa9/);
  assert.match(stdout, /GET http:\/\/down\.test\/\n[\s\S]*<< connection refused/);
  assert.match(stdout, /-> WebSocket text message -> app\.test:443\/chat\n\n {4}hi\n/);
  assert.match(stdout, /WebSocket connection closed by server: 1000 bye/);
  assert.match(stdout, /-> tcp -> app\.test:443\n\n {4}ping\n/);
});

test("a flow read from a mitmproxy file keeps each connection's state (OPEN or CLOSED) when written again, packed in the store or not", () => {
  const flow = flows()[0] as HTTPFlow;
  flow.client_conn.connected = true;
  flow.server_conn.connected = false;
  const stateOf = (f: Flow) => {
    const s = mitmproxyState(f) as { client_conn: { state: number }; server_conn: { state: number } };
    return [s.client_conn.state, s.server_conn.state];
  };
  assert.deepEqual(stateOf(flow), [3, 0]);
  const back = flowFromMitmproxyState(parseTnetstring(dumpTnetstring(mitmproxyState(flow) as TOut))?.value as TValue) as HTTPFlow;
  assert.deepEqual(stateOf(back), [3, 0]);
  back.live = false;
  const arena = new PackArena();
  const packed = packFlow(back, 1, arena);
  assert.ok(packed, "the flow packs");
  assert.deepEqual(stateOf(unpackFlow(packed, arena)), [3, 0]);
});
