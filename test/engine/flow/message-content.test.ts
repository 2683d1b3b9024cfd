import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { writeFlowFile, readFlows } from "../../../src/engine/save-stream.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import type { Flow } from "../../../src/engine/flow/flow.ts";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { TCPFlow, TCPMessage, UDPFlow, UDPMessage, type StreamFlow } from "../../../src/engine/flow/tcp.ts";
import { WebSocketData, WebSocketMessage } from "../../../src/engine/flow/websocket.ts";
import type { FlowFileFormat } from "../../../src/engine/flow-file-format.ts";
import { tempDir } from "../../helpers/temp-dir.ts";

const connections = (): [Client, Server] => [new Client(["127.0.0.1", 50000], ["127.0.0.1", 8080], "regular"), new Server(["app.test", 80])];

/** A WebSocket flow, a TCP flow and a UDP flow, each with a message set from a string, as a ported script would. */
function flows(): [HTTPFlow, TCPFlow, UDPFlow] {
  const ws = new HTTPFlow(...connections(), Request.make("GET", "http://app.test/chat"));
  ws.response = Response.make(101, "");
  ws.websocket = new WebSocketData();
  ws.websocket.messages = [new WebSocketMessage("text", true, new Uint8Array(Buffer.from("my secret"))), new WebSocketMessage("binary", false, new Uint8Array([0, 255]))];
  ws.websocket.messages[0]!.content = "café";
  const tcp = new TCPFlow(...connections());
  tcp.messages = [new TCPMessage(true, new Uint8Array(Buffer.from("ping")))];
  tcp.messages[0]!.content = "pong ✓";
  const udp = new UDPFlow(...connections());
  udp.messages = [new UDPMessage(true, new Uint8Array(Buffer.from("q")))];
  udp.messages[0]!.text = "answer";
  for (const f of [ws, tcp, udp]) f.live = false;
  return [ws, tcp, udp];
}

function messagesOf(flow: Flow): (WebSocketMessage | TCPMessage)[] {
  return flow instanceof HTTPFlow ? (flow.websocket?.messages ?? []) : (flow as StreamFlow).messages;
}

/** Each message as a script sees it: a Buffer or not, and its bytes as hex. */
const seen = (flow: Flow) => messagesOf(flow).map((m) => [Buffer.isBuffer(m.content), Buffer.from(m.content).toString("hex")]);

test("a message's content set from a string holds its UTF-8 bytes as a Buffer, and text reads them back", () => {
  const [ws, tcp, udp] = flows();
  assert.deepEqual(seen(ws), [[true, Buffer.from("café").toString("hex")], [true, "00ff"]]);
  assert.deepEqual(seen(tcp), [[true, Buffer.from("pong ✓").toString("hex")]]);
  assert.deepEqual(seen(udp), [[true, Buffer.from("answer").toString("hex")]]);
  assert.equal(ws.websocket?.messages[0]?.text, "café");
  assert.equal(tcp.messages[0]?.text, "pong ✓");
  // mitmproxy's `b"é" in message.content`, ported.
  assert.equal(ws.websocket?.messages[0]?.content.includes("é"), true);
});

for (const format of ["pryx", "mitmproxy"] satisfies FlowFileFormat[]) {
  test(`messages read from a ${format} flow file have Buffer contents, byte for byte as saved, that includes() searches`, async () => {
    const file = path.join(tempDir("pryx-msg-content-"), format === "pryx" ? "out.flows" : "out.mitm");
    // mitmproxy's format has no UDP flows.
    const all = format === "pryx" ? flows() : flows().slice(0, 2);
    await writeFlowFile(file, false, format, all.map((f) => f.id), (id) => all.find((f) => f.id === id));
    const back: Flow[] = [];
    assert.deepEqual(readFlows(file, (f) => back.push(f)).errors, []);
    assert.deepEqual(back.map(seen), all.map(seen));
    assert.equal(messagesOf(back[0]!)[0]?.content.includes("café"), true);
    assert.equal(messagesOf(back[1]!)[0]?.content.includes("pong"), true);
  });
}

test("a duplicated flow's messages have Buffer contents of their own", () => {
  const [ws, tcp] = flows();
  const wsCopy = ws.copy();
  const tcpCopy = tcp.copy();
  assert.deepEqual([seen(wsCopy), seen(tcpCopy)], [seen(ws), seen(tcp)]);
  assert.equal(messagesOf(wsCopy)[0]?.content.includes("café"), true);
  messagesOf(tcpCopy)[0]!.content[0] = 0x21;
  assert.equal(tcp.messages[0]?.text, "pong ✓", "the copy's bytes are not the original's");
});

test("content takes only bytes or a string and text only a string: anything else is a TypeError naming the field", () => {
  const ws = new WebSocketMessage("text", true, Buffer.from("x"));
  const tcp = new TCPMessage(true, Buffer.from("x"));
  const untyped = (target: object, field: string, value: unknown): void => {
    (target as Record<string, unknown>)[field] = value;
  };
  assert.throws(() => untyped(ws, "content", 42), { name: "TypeError", message: "WebSocketMessage.content takes bytes (a Buffer or Uint8Array) or a string, not number" });
  assert.throws(() => untyped(ws, "content", null), { name: "TypeError", message: /^WebSocketMessage\.content .* not null$/ });
  assert.throws(() => untyped(ws, "content", [104, 105]), { name: "TypeError", message: /^WebSocketMessage\.content .* not an array$/ });
  assert.throws(() => untyped(ws, "text", Buffer.from("hi")), { name: "TypeError", message: "WebSocketMessage.text takes a string, not an object (Buffer)" });
  assert.throws(() => untyped(tcp, "content", undefined), { name: "TypeError", message: /^TCPMessage\.content \(or UDPMessage\.content\) .* not undefined$/ });
  assert.throws(() => new WebSocketMessage("binary", false, {} as Uint8Array), { name: "TypeError", message: /^WebSocketMessage\.content .* not an object \(Object\)$/ });
  assert.equal(ws.text, "x", "a refused value leaves the content as it was");
});
