import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import tls from "node:tls";
import { WebSocketServer, WebSocket } from "ws";
import { startProxy } from "../helpers/proxy.ts";
import { portOf } from "../helpers/proxy.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { flowDetail } from "../../src/engine/flow/detail.ts";
import { summarize } from "../../src/engine/flow/summary.ts";
import { readFlows } from "../../src/engine/save-stream.ts";
import { waitUntil } from "../helpers/wait.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { originCertificate, pryxCaPem } from "../helpers/tls-origin.ts";
import { connectTunnel } from "../helpers/tls-origin.ts";

async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  wss.on("connection", (s) => s.on("message", (d, isBinary) => s.send(isBinary ? d : `echo:${d.toString()}`, { binary: isBinary })));
  return { port: portOf(wss), close: () => new Promise((r) => wss.close(() => r())) };
}

test("WebSocket messages go through with websocket_start/message/end hooks that can change and drop them", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const seen: string[] = [];
  const addon: Addon = {
    name: "ws-recorder",
    response: (flow: HTTPFlow) => void seen.push(`response:${flow.response?.status_code}:${flow.websocket ? "ws" : "-"}`),
    websocket_start: () => void seen.push("websocket_start"),
    websocket_message(flow: HTTPFlow) {
      const msg = flow.websocket?.messages.at(-1);
      if (!msg) return;
      seen.push(`${msg.from_client ? "client" : "server"}:${msg.text}`);
      if (msg.text === "secret") msg.drop();
      if (msg.text === "upper") msg.text = "UPPER";
    },
    websocket_end: () => void seen.push("websocket_end"),
  };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/chat`, { createConnection: () => socket });
  const received: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => {
      ws.send("hello");
      ws.send("secret");
      ws.send("upper");
      ws.send(Buffer.from([1, 2, 3]));
    });
    ws.on("message", (d, isBinary) => {
      received.push(isBinary ? `bin:${[...(d as Buffer)].join(",")}` : d.toString());
      if (received.length === 3) ws.close(1000, "bye");
    });
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
  assert.deepEqual(received, ["echo:hello", "echo:UPPER", "bin:1,2,3"], "the dropped message never reached the server; the changed one arrived changed");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.status, 101);
  assert.equal(flow?.scheme, "ws");
  assert.equal(flow?.messages, 7);
  assert.deepEqual(seen.slice(0, 3), ["response:101:ws", "websocket_start", "client:hello"], "the 101 gets its response hook, with flow.websocket already set (as mitmproxy does)");
  assert.ok(seen.includes("server:echo:UPPER"));
  assert.equal(seen.at(-1), "websocket_end");
  const stored = proxy.engine.store.get(flow?.id as string) as HTTPFlow;
  assert.equal(stored.websocket?.close_code, 1000);
  assert.equal(stored.websocket?.close_reason, "bye");
  // The console's flow view gets the close with the messages.
  const detail = flowDetail(stored, flow!, 1024, 0);
  assert.deepEqual(detail.closed, { byClient: true, code: 1000, reason: "bye" });
  assert.deepEqual(detail.messages.filter((m) => m.dropped).map((m) => Buffer.from(m.content).toString()), ["secret"], "the dropped message is marked so for the flow view and --jsonl");
  // r on it: the handshake alone would open a WebSocket nothing drives; refused, as mitmproxy does.
  await assert.rejects(proxy.engine.handle({ op: "command", line: `replay.client ${stored.id}` }), /^Error: cannot replay WebSocket flows: only HTTP requests are replayed$/);
});

test("pings and pongs keep their place among messages that wait for hooks, and are logged as mitmproxy logs them", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  // The server's message, then its ping, then another message: the client must see them in that order.
  wss.on("connection", (s) => s.on("message", () => {
    s.send("first");
    s.ping("p1");
    s.send("second");
  }));
  const origin = { close: () => new Promise<void>((r) => wss.close(() => r())) };
  // A hook with work (as any script's, or dump's printer): every message waits its turn in the hooks.
  const addon: Addon = { name: "slow", websocket_message: () => new Promise((r) => setTimeout(r, 20)) };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/`, { createConnection: () => socket });
  const order: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => ws.send("go"));
    ws.on("message", (d) => {
      order.push(`message:${d.toString()}`);
      if (order.length === 3) ws.close(1000);
    });
    ws.on("ping", (d) => order.push(`ping:${d.toString()}`));
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
  assert.deepEqual(order, ["message:first", "ping:p1", "message:second"]);
  await proxy.waitLog(/: Received WebSocket ping from server \(payload: b'p1'\)$/);
  await proxy.waitLog(/: Received WebSocket pong from client \(payload: b'p1'\)$/);
});

test("permessage-deflate is agreed end to end, as through mitmproxy: compressed messages are recorded and hooked inflated, and arrive intact both ways", { timeout: 15_000 }, async (t) => {
  // Every message compressed, however small; the server records what it agreed and received.
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: { threshold: 0 } });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  const serverGot: string[] = [];
  let serverAgreed = "";
  wss.on("connection", (s) => {
    serverAgreed = s.extensions;
    s.on("message", (d) => {
      serverGot.push(d.toString());
      s.send(`echo:${d.toString()}`);
    });
  });
  const origin = { close: () => new Promise<void>((r) => wss.close(() => r())) };
  const hooked: string[] = [];
  const addon: Addon = {
    name: "upper",
    websocket_message(flow: HTTPFlow) {
      const msg = flow.websocket!.messages.at(-1)!;
      hooked.push(msg.text);
      if (msg.from_client) msg.text = msg.text.toUpperCase();
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  // ws's client offers permessage-deflate by default, as browsers do.
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/`, { createConnection: () => socket, perMessageDeflate: { threshold: 0 } });
  const big = "z".repeat(200_000);
  const received: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => {
      ws.send("hello");
      ws.send(big);
    });
    ws.on("message", (d) => {
      received.push(d.toString());
      if (received.length === 2) ws.close(1000);
    });
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
  assert.match(ws.extensions, /^permessage-deflate/, "the client agreed on it with the server, through pryx");
  assert.match(serverAgreed, /^permessage-deflate/);
  assert.ok(serverGot.length === 2 && serverGot[0] === "HELLO" && serverGot[1] === big.toUpperCase(), "the hook's change reached the server");
  assert.ok(received.length === 2 && received[0] === "echo:HELLO" && received[1] === `echo:${big.toUpperCase()}`);
  assert.ok(hooked.includes("hello") && hooked.includes(big), "hooks see the inflated text");
  const [flow] = await proxy.waitFinished(1);
  const stored = proxy.engine.store.get(flow!.id) as HTTPFlow;
  assert.deepEqual(stored.websocket?.messages.filter((m) => m.from_client).map((m) => m.content.length), [5, 200_000]);
  assert.equal(stored.error, undefined);
});

test("-w saves a WebSocket flow when it ends, with its messages, and -r reads them back", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-ws-save-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "ws.flows");
  const proxy = await startProxy({ options: { save_stream_file: file } });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/chat`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => ws.send(Buffer.from([0, 255])));
    ws.on("message", () => ws.close(1000, "bye"));
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
  await proxy.waitFinished(1);
  const got: HTTPFlow[] = [];
  await waitUntil(() => {
    got.length = 0;
    return readFlows(file, (f) => got.push(f as HTTPFlow)).count === 1;
  }, "the WebSocket flow in the file");
  const msgs = got[0]?.websocket?.messages ?? [];
  assert.deepEqual(msgs.map((m) => [m.from_client, m.type, [...m.content]]), [[true, "binary", [0, 255]], [false, "binary", [0, 255]]]);
  assert.ok(msgs.every((m) => m.timestamp < Date.now() / 1000 && m.timestamp > 0), "each message keeps its recorded time");
  assert.equal(got[0]?.websocket?.close_code, 1000);
});

test("wss: the server's close frame reaches the client before pryx closes the TLS connection", { timeout: 20_000 }, async (t) => {
  const cert = originCertificate();
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (s) => s.on("message", (d, isBinary) => s.send(d, { binary: isBinary })));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = portOf(server);
  const proxy = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => server.close(() => r()))) });
  const ca = pryxCaPem();
  // The client closes right after its messages, so the server's echoes and its close
  // frame come back together: the close frame is the last write before pryx ends.
  for (let i = 0; i < 8; i++) {
    const socket = await connectTunnel(proxy.port, `127.0.0.1:${port}`);
    const ws = new WebSocket(`wss://localhost:${port}/`, { createConnection: () => tls.connect({ socket, servername: "localhost", ca, ALPNProtocols: ["http/1.1"] }) });
    const code = await new Promise<number>((resolve, reject) => {
      ws.on("open", () => {
        ws.send("one");
        ws.send(Buffer.from([1, 2, 3]));
        ws.close(4002, "client-bye");
      });
      ws.on("close", (c) => resolve(c));
      ws.on("error", reject);
    });
    assert.equal(code, 4002, `run ${i}: the client got the close code back, not 1006 (connection dropped)`);
  }
});

test("i ~websocket pauses the handshake's 101, then each message until it is resumed; a kill closes the connection", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const proxy = await startProxy({ options: { intercept: "~websocket" } });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/paused`, { createConnection: () => socket });
  let opened = false;
  const replies: string[] = [];
  ws.on("open", () => {
    opened = true;
    ws.send("after resume");
  });
  ws.on("message", (d) => replies.push(d.toString()));
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  ws.on("error", () => undefined);
  const held = async (what: string): Promise<HTTPFlow> => {
    let flow: HTTPFlow | undefined;
    await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as HTTPFlow | undefined) !== undefined, what);
    return flow as HTTPFlow;
  };
  const paused = await held("the handshake held");
  assert.equal(paused.response?.status_code, 101);
  assert.equal(summarize(paused, 0, true).interceptedAt, "response");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(opened, false, "the client gets the 101 only once the flow is resumed");
  paused.resume();
  // The client's message is held before it reaches the server.
  await held("the client's message held");
  assert.deepEqual(paused.websocket?.messages.map((m) => [m.from_client, m.text]), [[true, "after resume"]]);
  assert.equal(summarize(paused, 0, true).interceptedAt, "message", "the console says a message is held");
  await new Promise((r) => setTimeout(r, 200));
  paused.resume();
  // Then the server's echo, before it reaches the client.
  await held("the server's echo held");
  assert.deepEqual(replies, [], "the echo waits while its message is held");
  paused.resume();
  await waitUntil(() => replies.length === 1, "the echo delivered");
  assert.deepEqual(replies, ["echo:after resume"]);
  // A kill while a message is held closes the connection; nothing more is relayed.
  ws.send("never relayed");
  (await held("the second message held")).kill();
  assert.equal(await closed, 1006, "the connection was dropped");
  assert.deepEqual(replies, ["echo:after resume"]);
  await waitUntil(() => !paused.live, "the flow ended");
  assert.match(paused.error?.msg ?? "", /killed/i);
});

test("X on an open WebSocket flow, no message held, drops the connection at once", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const proxy = await startProxy({});
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/open`, { createConnection: () => socket });
  ws.on("error", () => undefined);
  await new Promise<void>((r) => ws.once("open", () => r()));
  const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
  let flow: HTTPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => (f as HTTPFlow).websocket) as HTTPFlow | undefined) !== undefined, "the WebSocket flow");
  await proxy.engine.handle({ op: "command", line: `flow.kill ${flow?.id}` });
  assert.equal(await closed, 1006, "the client's connection was dropped");
  await waitUntil(() => flow?.live === false, "the flow ended");
  assert.match(flow?.error?.msg ?? "", /killed/i);
});

test("tcp_timeout ends a WebSocket connection with no frame either way for that long", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const proxy = await startProxy({ options: { tcp_timeout: "1" } });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/idle`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
  const start = Date.now();
  // A message every 400 ms keeps it open past the timeout...
  for (let i = 0; i < 4; i++) {
    const echoed = new Promise<string>((r) => ws.once("message", (d) => r(d.toString())));
    ws.send(`m${i}`);
    assert.equal(await echoed, `echo:m${i}`);
    await new Promise((r) => setTimeout(r, 400));
  }
  // ...then a second of silence ends it.
  await closed;
  assert.ok(Date.now() - start >= 2000, "not before the silence");
  let flow: HTTPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.type === "http" && !f.live) as HTTPFlow | undefined) !== undefined, "the flow ended");
  assert.match(flow!.error?.msg ?? "", /no data either way for 1 s: closed \(tcp_timeout\)/);
});

test("inject.websocket: an addon sends made-up messages both ways with ctx.master.commands.call, and the prompt can too; they pass websocket_message as injected ones", { timeout: 15_000 }, async (t) => {
  const { ctx } = await import("../../src/api.ts");
  const origin = await echoServer();
  const seen: string[] = [];
  const addon: Addon = {
    name: "injector",
    async websocket_start(flow: HTTPFlow) {
      // As mitmproxy's examples/addons/websocket-inject-message.py does it.
      await ctx.master.commands.call("inject.websocket", flow, true, Buffer.from("hello from pryx"));
    },
    // A rewriting addon rewrites injected messages too, and can tell them apart, as in mitmproxy.
    websocket_message(flow: HTTPFlow) {
      const m = flow.websocket!.messages.at(-1)!;
      seen.push(`${m.from_client ? "client" : "server"}:${m.text}${m.injected ? " (injected)" : ""}`);
      if (m.from_client) m.text = m.text.toUpperCase();
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const received: string[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/inject`, { createConnection: () => socket });
  ws.on("message", (d) => received.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await waitUntil(() => received.includes("hello from pryx") || undefined, "the injected message at the client");
  const flow = proxy.engine.store.all().find((f) => f.type === "http") as HTTPFlow;
  // To the server: the origin echoes it, so the client sees its answer.
  const out = await proxy.engine.handle({ op: "command", line: `inject.websocket ${flow.id} false 'ping from the prompt'` });
  assert.match(String(out), /injected 20 bytes to the server of 1 flow/);
  await waitUntil(() => received.includes("echo:PING FROM THE PROMPT") || undefined, "the server's answer to the injected message, rewritten by the hook");
  const injected = flow.websocket!.messages.filter((m) => m.injected).map((m) => `${m.from_client ? "client" : "server"}:${m.text}`);
  assert.deepEqual(injected, ["server:hello from pryx", "client:PING FROM THE PROMPT"], "recorded as sent by the peer they seem to come from");
  assert.deepEqual(seen, ["server:hello from pryx (injected)", "client:ping from the prompt (injected)", "server:echo:PING FROM THE PROMPT"]);
  ws.close();
  await waitUntil(() => !flow.live || undefined, "the flow ended");
  // Once closed: an error at the prompt, a warning (not a throw) for an addon.
  await assert.rejects(proxy.engine.handle({ op: "command", line: `inject.websocket ${flow.id} true late` }), /has no open WebSocket connection to inject into/);
  await ctx.master.commands.call("inject.websocket", flow, true, "late");
  await proxy.waitLog(/inject\.websocket: flow .* has no open WebSocket connection/);
});

test("websocket=false relays an upgraded connection as raw bytes: the client and server still talk, the flow has no messages, no websocket_* hook fires", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const hooks: string[] = [];
  const addon: Addon = { name: "rec", websocket_start: () => void hooks.push("start"), websocket_message: () => void hooks.push("message") };
  const proxy = await startProxy({ addons: [addon], options: { websocket: "false" } });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/raw`, { createConnection: () => socket });
  t.after(() => ws.terminate());
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  const answer = new Promise<string>((r) => ws.once("message", (d) => r(d.toString())));
  ws.send("hi");
  assert.equal(await answer, "echo:hi");
  const flow = await waitUntil(() => proxy.engine.store.all().find((f) => (f as HTTPFlow).response?.status_code === 101) as HTTPFlow | undefined, "the upgrade's flow");
  assert.equal(flow.websocket, undefined);
  assert.deepEqual(hooks, []);
});

test("messages a server sends while the handshake's 101 is held by the intercept filter reach the client once it is resumed", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  // A greeting that arrives while pryx holds the 101 (not in the same read as the 101 itself).
  wss.on("connection", (s) => setTimeout(() => {
    s.send("hello from server");
    s.send(Buffer.from([1, 2, 3]), { binary: true });
  }, 200));
  const proxy = await startProxy({ options: { intercept: "~websocket" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => r())) });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/greeting`, { createConnection: () => socket });
  const got: string[] = [];
  ws.on("message", (d: Buffer) => got.push(d.toString("hex")));
  ws.on("error", () => undefined);
  t.after(() => ws.terminate());
  let flow: HTTPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as HTTPFlow | undefined) !== undefined, "the 101 held");
  await new Promise((r) => setTimeout(r, 600));
  flow!.resume();
  // Each greeting message is held in turn too (i ~websocket), then resumed.
  await waitUntil(() => {
    if (flow!.intercepted) flow!.resume();
    return got.length === 2;
  }, "both greeting messages delivered");
  assert.deepEqual(got, [Buffer.from("hello from server").toString("hex"), "010203"]);
  assert.deepEqual(flow!.websocket?.messages.map((m) => m.from_client), [false, false], "and recorded in the flow");
});

test("while the intercept filter holds the client's message, a message the server sends waits behind it: the held message stays the flow's last (what websocket-message edits)", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  let sent: () => void = () => undefined;
  const serverSent = new Promise<void>((r) => (sent = r));
  wss.on("connection", (sock) => sock.once("message", () => undefined));
  closeAfter(t, { close: () => new Promise<void>((r) => wss.close(() => r())) });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const proxy = await startProxy({ options: { intercept: "~websocket" } });
  closeAfter(t, proxy);
  const port = portOf(wss);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${port}`);
  const client = new WebSocket(`ws://127.0.0.1:${port}/both`, { createConnection: () => socket });
  const replies: string[] = [];
  client.on("message", (d) => replies.push(d.toString()));
  client.on("error", () => undefined);
  const held = async (what: string): Promise<HTTPFlow> => {
    let flow: HTTPFlow | undefined;
    await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as HTTPFlow | undefined) !== undefined, what);
    return flow as HTTPFlow;
  };
  (await held("the handshake held")).resume();
  await new Promise<void>((r) => client.once("open", () => r()));
  client.send("from the client");
  const flow = await held("the client's message held");
  // The server speaks while the client's message is held.
  for (const sock of wss.clients) sock.send("from the server", () => sent());
  await serverSent;
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(flow.websocket?.messages.map((m) => [m.from_client, m.text]), [[true, "from the client"]], "the held message is the last");
  assert.deepEqual(replies, []);
  flow.resume();
  await waitUntil(() => flow.websocket?.messages.length === 2 && flow.intercepted, "the server's message held in its turn");
  assert.deepEqual(flow.websocket?.messages.map((m) => [m.from_client, m.text]).at(-1), [false, "from the server"]);
  flow.resume();
  await waitUntil(() => replies.length === 1, "the server's message delivered");
  client.close();
});

test("z (view.flows.remove @all) leaves an open WebSocket running, as mitmproxy's does: its flow leaves the list, its messages still go both ways", { timeout: 15_000 }, async (t) => {
  const origin = await echoServer();
  const proxy = await startProxy({ keepFlows: true });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${origin.port}/feed`, { createConnection: () => socket });
  t.after(() => ws.terminate());
  const received: string[] = [];
  let closedWith: number | undefined;
  ws.on("message", (d) => received.push(d.toString()));
  ws.on("close", (code) => (closedWith = code));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send("before");
  await waitUntil(() => received.includes("echo:before"), "the first echo");
  await proxy.engine.handle({ op: "command", line: "view.flows.remove @all" });
  assert.equal(proxy.engine.store.size, 0);
  ws.send("after");
  await waitUntil(() => received.includes("echo:after") || closedWith !== undefined, "the echo after the list was cleared");
  assert.deepEqual(received, ["echo:before", "echo:after"]);
  assert.equal(closedWith, undefined);
});

test("pryx shutting down closes an open WebSocket with a close frame to each side (1001, going away), not a dropped connection (1006)", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  let serverSaw: number | undefined;
  wss.on("connection", (s) => s.on("close", (code) => (serverSaw = code)));
  t.after(() => new Promise<void>((r) => wss.close(() => r())));
  const proxy = await startProxy();
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/`, { createConnection: () => socket });
  t.after(() => ws.terminate());
  let clientSaw: number | undefined;
  ws.on("close", (code) => (clientSaw = code));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await proxy.stop();
  await waitUntil(() => clientSaw !== undefined && serverSaw !== undefined, "both sides closed");
  assert.deepEqual([clientSaw, serverSaw], [1001, 1001]);
});

test("a WebSocket server that drops its connection without a close frame: websocket_end, then server_disconnected once, as mitmproxy orders them", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  // "drop" makes the server cut its TCP connection, no close frame.
  wss.on("connection", (s) => s.on("message", (d) => (String(d) === "drop" ? s.terminate() : s.send(d))));
  const order: string[] = [];
  const addon: Addon = {
    name: "order",
    websocket_end: () => void order.push("websocket_end"),
    server_disconnected: () => void order.push("server_disconnected"),
    client_disconnected: () => void order.push("client_disconnected"),
  };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => r())) });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
  const closed = new Promise<void>((r) => ws.once("close", () => r()));
  ws.on("error", () => undefined);
  ws.send("drop");
  await closed;
  await waitUntil(() => order.includes("server_disconnected") && order.includes("websocket_end"), "both hooks");
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(order.indexOf("websocket_end") < order.indexOf("server_disconnected"), order.join(","));
  assert.equal(order.filter((h) => h === "server_disconnected").length, 1, order.join(","));
});

test("a frame pryx cannot read (a server's text that is no UTF-8) closes both sides with RFC 6455's code and the reason, as mitmproxy does, not a dropped connection (1006); the flow names the side", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  const serverSaw = new Promise<string>((resolve) =>
    wss.on("connection", (s, req) => {
      s.on("close", (code, reason) => resolve(`${code} ${reason.toString()}`));
      s.on("error", () => undefined);
      // A text frame whose payload (C3 28) is no UTF-8, written past ws's own checks.
      req.socket.write(Buffer.from([0x81, 0x02, 0xc3, 0x28]));
    }),
  );
  const proxy = await startProxy({});
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => r())) });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/bad`, { createConnection: () => socket });
  ws.on("error", () => undefined);
  const clientSaw = await new Promise<string>((resolve) => ws.on("close", (code, reason) => resolve(`${code} ${reason.toString()}`)));
  assert.equal(clientSaw, "1007 invalid UTF-8 sequence");
  assert.equal(await serverSaw, "1007 invalid UTF-8 sequence");
  const [summary] = await proxy.waitFinished(1);
  const flow = proxy.engine.store.get(summary!.id) as HTTPFlow;
  await waitUntil(() => !flow.live, "the flow's end");
  assert.equal(flow.websocket?.close_code, 1007);
  assert.equal(flow.error?.msg, "the server sent an invalid WebSocket frame: invalid UTF-8 sequence");
});

test("a WebSocket server that resets its connection: the flow's error names the server, not Node's bare 'read ECONNRESET'", { timeout: 15_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.on("listening", () => r()));
  wss.on("connection", (s, req) => {
    s.on("error", () => undefined);
    setTimeout(() => req.socket.resetAndDestroy(), 50);
  });
  const proxy = await startProxy({});
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => wss.close(() => r())) });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(wss)}`);
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}/reset`, { createConnection: () => socket });
  ws.on("error", () => undefined);
  assert.equal(await new Promise<number>((resolve) => ws.on("close", (code) => resolve(code))), 1006);
  const [summary] = await proxy.waitFinished(1);
  const flow = proxy.engine.store.get(summary!.id) as HTTPFlow;
  await waitUntil(() => !flow.live, "the flow's end");
  assert.equal(flow.error?.msg, "the server reset the WebSocket connection (ECONNRESET)");
});
