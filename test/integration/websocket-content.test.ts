import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { WebSocketServer, WebSocket } from "ws";
import { portOf, startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { waitUntil } from "../helpers/wait.ts";
import { connectTunnel } from "../helpers/tls-origin.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";
import { readFlows } from "../../src/engine/save-stream.ts";

test("a script ported from mitmproxy searches WebSocket messages with content.includes() and sets content to a string: the server gets the bytes, the flow and its saved file hold them", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  const serverGot: string[] = [];
  wss.on("connection", (s) => s.on("message", (d) => void serverGot.push(d.toString())));
  // mitmproxy: `if b"secret" in message.content: message.content = b"[redacted]"`.
  const redact: Addon = {
    name: "redact",
    websocket_message(flow: HTTPFlow) {
      const message = flow.websocket?.messages.at(-1);
      if (message?.content.includes("secret")) message.content = "[redacted]";
    },
  };
  // A later script sees what the one before it left: bytes it can search, not a string.
  const laterSaw: string[] = [];
  const later: Addon = {
    name: "later",
    websocket_message(flow: HTTPFlow) {
      const message = flow.websocket?.messages.at(-1);
      if (message) laterSaw.push(`${Buffer.isBuffer(message.content)}:${message.content.includes("redacted")}`);
    },
  };
  const file = path.join(tempDir("pryx-ws-content-"), "ws.flows");
  const proxy = await startProxy({ addons: [redact, later], options: { save_stream_file: file } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => r())) });

  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/chat`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => resolve());
    ws.on("error", reject);
  });
  ws.send("hello");
  ws.send("my secret is 42");
  await waitUntil(() => serverGot.length === 2, "both messages at the server");
  ws.close(1000);
  await proxy.waitFinished(1);

  assert.deepEqual(serverGot, ["hello", "[redacted]"]);
  assert.deepEqual(laterSaw, ["true:false", "true:true"]);
  const saved: HTTPFlow[] = [];
  await waitUntil(() => {
    saved.length = 0;
    return readFlows(file, (f) => saved.push(f as HTTPFlow)).count === 1;
  }, "the WebSocket flow in the file");
  const messages = saved[0]?.websocket?.messages ?? [];
  assert.deepEqual(messages.map((m) => [Buffer.isBuffer(m.content), m.text]), [[true, "hello"], [true, "[redacted]"]]);
  assert.equal(messages[1]?.content.includes("redacted"), true, "a message read back is searched as bytes too");
});
