import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { WebSocketServer, WebSocket } from "ws";
import websocketInject from "../../addons/websocket-inject.ts";
import { portOf, startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import { connectTunnel } from "../helpers/tls-origin.ts";

test("websocket-inject answers a secret with ssssssh instead of passing it on, and greets the client until it closes", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  const serverGot: string[] = [];
  wss.on("connection", (s) => s.on("message", (d) => {
    serverGot.push(d.toString());
    s.send(`echo:${d.toString()}`);
  }));
  const proxy = await startProxy({ addons: [websocketInject], options: { websocket_inject_ms: "50" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => r())) });

  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/chat`, { createConnection: () => socket });
  const received: string[] = [];
  ws.on("message", (d) => received.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => resolve());
    ws.on("error", reject);
  });
  ws.send("hello");
  ws.send("my secret is 42");
  ws.send("bye");
  await waitUntil(() => received.includes("echo:bye") && received.filter((m) => m === "hello from pryx").length >= 3, "the echoes and three greetings");
  ws.close(1000);
  await proxy.waitFinished(1);
  const greetings = received.filter((m) => m === "hello from pryx").length;
  await sleep(200);

  assert.deepEqual(serverGot, ["hello", "bye"], "the secret never reached the server");
  // ssssssh comes from pryx at once, the echoes after a trip to the server: their order is a race.
  assert.deepEqual(received.filter((m) => m !== "hello from pryx").sort(), ["echo:bye", "echo:hello", "ssssssh"]);
  assert.equal(received.filter((m) => m === "hello from pryx").length, greetings, "no greeting after the close");
  assert.deepEqual(proxy.logs.filter((l) => l.level === "warn" || l.level === "error").map((l) => l.msg), [], "the loop stopped before injecting into a closed flow");
});
