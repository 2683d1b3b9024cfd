import { test } from "node:test";
import assert from "node:assert/strict";
import { Options } from "../../../src/engine/options.ts";
import { AddonManager } from "../../../src/engine/hooks/addon-manager.ts";
import { CommandRegistry } from "../../../src/engine/commands.ts";
import { Log } from "../../../src/engine/log.ts";
import { replayHooks } from "../../../src/engine/hooks/event-sequence.ts";
import type { Addon } from "../../../src/engine/hooks/hooks.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { TCPFlow, TCPMessage } from "../../../src/engine/flow/tcp.ts";
import { WebSocketData, WebSocketMessage } from "../../../src/engine/flow/websocket.ts";

test("flows read with -r pass their messages' hooks one message at a time, as mitmproxy's eventsequence does: a script rewrites a capture's messages", async () => {
  const seen: string[] = [];
  const recorder: Addon = {
    name: "recorder",
    websocket_start: (f: HTTPFlow) => void seen.push(`websocket_start (${f.websocket?.messages.length} messages so far)`),
    websocket_message: (f: HTTPFlow) => {
      const m = f.websocket!.messages.at(-1)!;
      seen.push(`websocket_message ${Buffer.from(m.content).toString()} (${f.websocket!.messages.length} so far)`);
      m.content = Buffer.from(Buffer.from(m.content).toString().toUpperCase());
    },
    websocket_end: () => void seen.push("websocket_end"),
    tcp_start: (f: TCPFlow) => void seen.push(`tcp_start (${f.messages.length} so far)`),
    tcp_message: (f: TCPFlow) => void seen.push(`tcp_message ${Buffer.from(f.messages.at(-1)!.content).toString()}`),
    tcp_end: () => void seen.push("tcp_end"),
  };
  const addons = new AddonManager(new Options(), new CommandRegistry(), new Log());
  await addons.add(recorder, "recorder");

  const ws = new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["ws.test", 80]), Request.make("GET", "http://ws.test/chat"));
  ws.response = Response.make(101);
  ws.websocket = new WebSocketData();
  ws.websocket.messages = [new WebSocketMessage("text", true, Buffer.from("hi"), 1), new WebSocketMessage("text", false, Buffer.from("there"), 2)];
  ws.live = false;
  await replayHooks(addons, ws);
  const tcp = new TCPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["tcp.test", 7]));
  tcp.messages.push(new TCPMessage(true, Buffer.from("ping")), new TCPMessage(false, Buffer.from("pong")));
  tcp.live = false;
  await replayHooks(addons, tcp);

  assert.deepEqual(seen, [
    "websocket_start (0 messages so far)",
    "websocket_message hi (1 so far)",
    "websocket_message there (2 so far)",
    "websocket_end",
    "tcp_start (0 so far)",
    "tcp_message ping",
    "tcp_message pong",
    "tcp_end",
  ]);
  assert.deepEqual(ws.websocket.messages.map((m) => Buffer.from(m.content).toString()), ["HI", "THERE"], "the script's rewrite is what the flow keeps");
  assert.equal(tcp.messages.length, 2);
});
