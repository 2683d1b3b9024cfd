import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { TCPFlow } from "../../../src/engine/flow/tcp.ts";

test("a killed flow is not paused again: a message queued behind the held one no longer shows it intercepted", async () => {
  const f = new TCPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["tcp.test", 7]));
  f.intercept();
  const held = f.waitForResume();
  f.kill();
  await assert.rejects(held);
  assert.equal(f.intercepted, false);
  // The intercept filter matches the next queued message.
  f.intercept();
  assert.equal(f.intercepted, false, "still just killed");
  assert.equal(f.killed, true);
});

test("a WebSocket flow's copy (D, flow.copy()) has copies of its messages", async () => {
  const { HTTPFlow, Request, Response } = await import("../../../src/engine/flow/http.ts");
  const { WebSocketData, WebSocketMessage } = await import("../../../src/engine/flow/websocket.ts");
  const f = new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["ws.test", 80]), Request.make("GET", "http://ws.test/chat"));
  f.response = Response.make(101);
  f.websocket = new WebSocketData();
  f.websocket.messages = [new WebSocketMessage("text", true, Buffer.from("hi"), 1)];
  f.websocket.close_code = 1000;
  const copy = f.copy();
  assert.deepEqual(copy.websocket?.messages.map((m) => [m.from_client, Buffer.from(m.content).toString()]), [[true, "hi"]]);
  assert.equal(copy.websocket?.close_code, 1000);
  copy.websocket!.messages[0]!.content = Buffer.from("edited");
  assert.equal(Buffer.from(f.websocket.messages[0]!.content).toString(), "hi", "the original keeps its own");
});

test("a copy keeps the original's creation time, which its request's timings belong to (mitmproxy's copy of the state)", async () => {
  const { HTTPFlow, Request } = await import("../../../src/engine/flow/http.ts");
  const f = new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["a.test", 80]), Request.make("GET", "http://a.test/"));
  f.timestamp_created = 1_700_000_000;
  const copy = f.copy();
  assert.equal(copy.timestamp_created, 1_700_000_000);
  assert.notEqual(copy.id, f.id);
});
