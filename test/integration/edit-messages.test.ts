import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import dgram from "node:dgram";
import { WebSocket, WebSocketServer } from "ws";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Flow } from "../../src/engine/flow/flow.ts";
import type { FlowPatch } from "../../src/protocol.ts";

/** A flow held at a message by the intercept filter, and the index of that message. */
async function heldMessage(proxy: TestProxy, count: (f: Flow) => number): Promise<{ flow: Flow; index: number }> {
  const flow = await waitUntil(() => proxy.engine.store.all().find((f) => f.intercepted), "a held message");
  return { flow, index: count(flow) - 1 };
}

const edit = (proxy: TestProxy, id: string, patch: FlowPatch) => proxy.engine.handle({ op: "edit", id, patch });
const run = (proxy: TestProxy, line: string) => proxy.engine.handle({ op: "command", line });
const messagesOf = (f: Flow): number => (f as unknown as { messages?: unknown[]; websocket?: { messages: unknown[] } }).messages?.length ?? (f as unknown as { websocket: { messages: unknown[] } }).websocket.messages.length;

test("a TCP message held by the intercept filter, edited, goes to the server as edited", { timeout: 10_000 }, async (t) => {
  const seen: string[] = [];
  const server = net.createServer((c) => c.on("data", (d) => (seen.push(d.toString()), c.write(d.toString().toUpperCase()))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ options: { mode: `reverse:tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`, intercept: "~tcp & ~bq ping" } });
  closeAfter(t, proxy, server);
  const client = net.connect(proxy.port, "127.0.0.1");
  t.after(() => client.destroy());
  let got = "";
  client.on("data", (d) => (got += d.toString()));
  client.write("ping");
  const { flow, index } = await heldMessage(proxy, messagesOf);
  await edit(proxy, flow.id, { message: { index, content: Buffer.from("pong?") } });
  assert.ok(flow.modified(), "the edit marks the flow modified, so V can revert it");
  await run(proxy, "set intercept=");
  await run(proxy, `flow.resume ${flow.id}`);
  await waitUntil(() => got === "PONG?", "the server's answer to the edited message");
  assert.deepEqual(seen, ["pong?"]);
  await assert.rejects(edit(proxy, flow.id, { message: { index: 9, content: Buffer.from("x") } }), /the flow has no message 10 \(it has 2\)/);
  await assert.rejects(edit(proxy, flow.id, { path: "/x" }), /cannot edit the HTTP parts of a tcp flow/);
});

test("a UDP datagram and a WebSocket message, held and edited, go on as edited", { timeout: 10_000 }, async (t) => {
  const udpSeen: string[] = [];
  const udpServer = dgram.createSocket("udp4");
  udpServer.on("message", (m) => udpSeen.push(m.toString()));
  await new Promise<void>((r) => udpServer.bind(0, "127.0.0.1", () => r()));
  const udpProxy = await startProxy({ options: { mode: `reverse:udp://127.0.0.1:${udpServer.address().port}`, intercept: "~udp" } });
  const udpClient = dgram.createSocket("udp4");
  closeAfter(t, udpProxy, udpServer, udpClient);
  udpClient.send("original", udpProxy.port, "127.0.0.1");
  const held = await heldMessage(udpProxy, messagesOf);
  await edit(udpProxy, held.flow.id, { message: { index: held.index, content: Buffer.from("edited datagram") } });
  await run(udpProxy, `flow.resume ${held.flow.id}`);
  await waitUntil(() => udpSeen.length === 1, "the datagram at the server");
  assert.deepEqual(udpSeen, ["edited datagram"]);

  const wsSeen: string[] = [];
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  wss.on("connection", (ws) => ws.on("message", (m) => wsSeen.push(String(m))));
  await new Promise((r) => wss.once("listening", r));
  // ~websocket & ~bq hello: the handshake passes, the client's message is held.
  const wsProxy = await startProxy({ options: { mode: `reverse:http://127.0.0.1:${(wss.address() as net.AddressInfo).port}`, intercept: "~websocket & ~bq hello" } });
  closeAfter(t, wsProxy, wss);
  const ws = new WebSocket(`ws://127.0.0.1:${wsProxy.port}/chat`);
  t.after(() => ws.terminate());
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  ws.send("hello");
  const wsHeld = await heldMessage(wsProxy, messagesOf);
  await edit(wsProxy, wsHeld.flow.id, { message: { index: wsHeld.index, content: Buffer.from("hello, edited") } });
  await run(wsProxy, `flow.resume ${wsHeld.flow.id}`);
  await waitUntil(() => wsSeen.length === 1, "the message at the server");
  assert.deepEqual(wsSeen, ["hello, edited"]);
});

test("V (flow.revert) on an edited, still held message restores it in place: the server gets the original, later messages stay", { timeout: 10_000 }, async (t) => {
  const seen: string[] = [];
  const server = net.createServer((c) => c.on("data", (d) => (seen.push(d.toString()), c.write(`ok ${d}`))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ options: { mode: `reverse:tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`, intercept: "~tcp & ~bq first" } });
  closeAfter(t, proxy, server);
  const client = net.connect(proxy.port, "127.0.0.1");
  t.after(() => client.destroy());
  let got = "";
  client.on("data", (d) => (got += d.toString()));
  client.write("first");
  const { flow, index } = await heldMessage(proxy, messagesOf);
  await edit(proxy, flow.id, { message: { index, content: Buffer.from("changed") } });
  assert.equal(await run(proxy, `flow.revert ${flow.id}`), "reverted 1 flow");
  assert.equal(flow.modified(), false);
  await run(proxy, "set intercept=");
  await run(proxy, `flow.resume ${flow.id}`);
  await waitUntil(() => got === "ok first", "the answer to the original message");
  assert.deepEqual(seen, ["first"]);
  // A later edit and revert keeps the messages that came after the edit.
  await edit(proxy, flow.id, { message: { index: 0, content: Buffer.from("rewritten") } });
  client.write("second");
  await waitUntil(() => messagesOf(flow) === 4, "the second exchange recorded");
  await run(proxy, `flow.revert ${flow.id}`);
  const texts = (flow as unknown as { messages: { content: Uint8Array }[] }).messages.map((m) => Buffer.from(m.content).toString());
  assert.deepEqual(texts, ["first", "ok first", "second", "ok second"]);
});
