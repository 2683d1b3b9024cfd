import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { hookRecorder } from "../helpers/hook-recorder.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import { UDPFlow, UDPMessage } from "../../src/engine/flow/tcp.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { decodeFlow, encodeFlow } from "../../src/engine/flow/codec.ts";

/** A UDP server on loopback that answers each datagram in capitals. */
async function upperServer(t: TestContext): Promise<{ port: number; seen: string[] }> {
  const sock = dgram.createSocket("udp4");
  const seen: string[] = [];
  sock.on("message", (m, r) => {
    seen.push(m.toString());
    sock.send(m.toString().toUpperCase(), r.port, r.address);
  });
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  t.after(() => sock.close());
  return { port: sock.address().port, seen };
}

/** A client socket that collects what comes back. */
async function udpClient(t: TestContext): Promise<{ send(text: string, port: number): void; got: string[]; port: number }> {
  const sock = dgram.createSocket("udp4");
  const got: string[] = [];
  sock.on("message", (m) => got.push(m.toString()));
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  t.after(() => sock.close());
  return { send: (text, port) => sock.send(text, port, "127.0.0.1"), got, port: sock.address().port };
}

const udpFlows = (proxy: TestProxy): UDPFlow[] => proxy.engine.store.all().filter((f): f is UDPFlow => f instanceof UDPFlow);
const texts = (f: UDPFlow): string[] => f.messages.map((m) => `${m.from_client ? ">" : "<"} ${Buffer.from(m.content).toString()}`);

test("reverse:udp relays each client's datagrams to the target as one UDP flow, which ends when idle", { timeout: 10_000 }, async (t) => {
  const server = await upperServer(t);
  const rec = hookRecorder("client_connected", "udp_start", "server_connect", "server_connected", "udp_message", "udp_end", "udp_error", "server_disconnected", "client_disconnected");
  const proxy = await startProxy({ addons: [rec.addon], options: { mode: `reverse:udp://127.0.0.1:${server.port}`, udp_timeout: "1" } });
  t.after(() => proxy.stop());
  assert.ok(proxy.logs.some((l) => /^reverse:udp:\/\/127\.0\.0\.1:\d+ proxy listening at udp:\/\/127\.0\.0\.1:\d+\/$/.test(l.msg)));
  const a = await udpClient(t);
  const b = await udpClient(t);
  a.send("ping", proxy.port);
  await waitUntil(() => a.got.length === 1, "the first answer");
  a.send("again", proxy.port);
  b.send("other", proxy.port);
  await waitUntil(() => a.got.length === 2 && b.got.length === 1, "both clients' answers");
  assert.deepEqual(a.got, ["PING", "AGAIN"]);
  assert.deepEqual(b.got, ["OTHER"]);
  const flows = udpFlows(proxy).sort((x, y) => x.client_conn.peername[1] - y.client_conn.peername[1]);
  assert.equal(flows.length, 2, "one flow per client address");
  const first = flows.find((f) => f.client_conn.peername[1] === a.port)!;
  assert.deepEqual(texts(first), ["> ping", "< PING", "> again", "< AGAIN"]);
  assert.deepEqual(first.server_conn.address, ["127.0.0.1", server.port]);
  assert.ok(first.live);
  // Idle for udp_timeout (1 s): both flows end, and a later datagram from a starts a new flow.
  const [s1, s2] = await proxy.waitFinished(2, 5000);
  assert.deepEqual([s1?.type, s2?.type, s1?.url.startsWith("udp://127.0.0.1:")], ["udp", "udp", true]);
  assert.deepEqual(rec.hooks.filter((h) => h !== "udp_message").slice(0, 4), ["client_connected", "udp_start", "server_connect", "server_connected"]);
  assert.equal(rec.hooks.filter((h) => h === "udp_message").length, 6);
  assert.equal(rec.hooks.filter((h) => h === "udp_end").length, 2);
  assert.ok(rec.hooks.indexOf("udp_end") < rec.hooks.indexOf("server_disconnected") && rec.hooks.indexOf("server_disconnected") < rec.hooks.indexOf("client_disconnected"));
  await assert.rejects(proxy.engine.handle({ op: "command", line: `replay.client ${first.id}` }), /cannot replay UDP flows: only HTTP requests are replayed/);
  a.send("later", proxy.port);
  await waitUntil(() => udpFlows(proxy).length === 3, "a new flow after the idle end");
});

test("a mode added while running leaves the reverse:udp listener as it is: its client's flow goes on as one flow, and it is not announced again", { timeout: 10_000 }, async (t) => {
  const server = await upperServer(t);
  const proxy = await startProxy({ options: { mode: `reverse:udp://127.0.0.1:${server.port}` } });
  t.after(() => proxy.stop());
  const a = await udpClient(t);
  a.send("before", proxy.port);
  await waitUntil(() => a.got.length === 1, "the first answer");
  const announced = (): number => proxy.logs.filter((l) => /^reverse:udp:.* proxy listening at/.test(l.msg)).length;
  assert.equal(announced(), 1);
  proxy.engine.options.setValues({ mode: [`reverse:udp://127.0.0.1:${server.port}`, "socks5@0"] });
  await proxy.waitLog(/socks5 proxy listening at/);
  a.send("after", proxy.port);
  await waitUntil(() => a.got.length === 2, "the answer after the change");
  assert.deepEqual(udpFlows(proxy).map(texts), [["> before", "< BEFORE", "> after", "< AFTER"]]);
  assert.equal(announced(), 1, "the unchanged listener was not opened again");
});

test("udp_message can rewrite or drop a datagram, and the intercept filter holds one until it is resumed", { timeout: 10_000 }, async (t) => {
  const server = await upperServer(t);
  const rewrite: Addon = {
    name: "rewrite",
    udp_message(flow: UDPFlow) {
      const m = flow.messages.at(-1)!;
      const text = Buffer.from(m.content).toString();
      if (text === "secret") m.content = Buffer.from("redacted");
      if (text === "drop me") m.content = new Uint8Array(0);
    },
  };
  const proxy = await startProxy({ addons: [rewrite], options: { mode: `reverse:udp://127.0.0.1:${server.port}` } });
  t.after(() => proxy.stop());
  const c = await udpClient(t);
  c.send("secret", proxy.port);
  await waitUntil(() => c.got.length === 1, "the rewritten answer");
  c.send("drop me", proxy.port);
  c.send("after", proxy.port);
  await waitUntil(() => c.got.length === 2, "the answer after the dropped one");
  assert.deepEqual(c.got, ["REDACTED", "AFTER"]);
  assert.deepEqual(server.seen, ["redacted", "after"], "the dropped datagram never reached the server");

  await proxy.engine.handle({ op: "command", line: "set intercept=~udp & ~bq held" });
  c.send("held", proxy.port);
  const flow = await waitUntil(() => udpFlows(proxy).find((f) => f.intercepted), "a held datagram");
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(server.seen, ["redacted", "after"], "held, not sent");
  assert.equal(await proxy.engine.handle({ op: "command", line: `flow.resume ${flow.id}` }), "resumed 1 flow");
  await waitUntil(() => server.seen.includes("held"), "the resumed datagram at the server");
  // The flow still matches, so the server's answer is held too, as every message of a TCP flow is.
  await waitUntil(() => flow.intercepted, "the answer held");
  assert.deepEqual(c.got, ["REDACTED", "AFTER"]);
  await proxy.engine.handle({ op: "command", line: "set intercept=" });
  await proxy.engine.handle({ op: "command", line: `flow.resume ${flow.id}` });
  await waitUntil(() => c.got.length === 3, "the held datagram's answer");
  assert.equal(c.got[2], "HELD");

  // inject.udp: a datagram pryx makes up, to the client, recorded as if the server sent it, and
  // passed through udp_message like one it did send (the addon rewrites it).
  await proxy.engine.handle({ op: "command", line: `inject.udp ${flow.id} true "secret"` });
  await waitUntil(() => c.got.includes("redacted"), "the injected datagram, rewritten");
  assert.equal(texts(flow).at(-1), "< redacted");
});

test("reverse:udp to a port nobody listens on: the flow fails with the reason (udp_error) and the proxy keeps serving", { timeout: 10_000 }, async (t) => {
  const closed = dgram.createSocket("udp4");
  await new Promise<void>((res) => closed.bind(0, "127.0.0.1", () => res()));
  const deadPort = closed.address().port;
  closed.close();
  const rec = hookRecorder("udp_error", "udp_end");
  const proxy = await startProxy({ addons: [rec.addon], options: { mode: `reverse:udp://127.0.0.1:${deadPort}` } });
  t.after(() => proxy.stop());
  const c = await udpClient(t);
  c.send("anyone?", proxy.port);
  const [summary] = await proxy.waitFinished(1);
  assert.match(summary?.error ?? "", /ECONNREFUSED|refused/i);
  assert.deepEqual(rec.hooks, ["udp_error"]);
  const other = await udpClient(t);
  other.send("still there?", proxy.port);
  await proxy.waitFinished(2);
});

test("a UDP flow saves and reads back as a UDP flow with its datagrams", () => {
  const flow = new UDPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080], "reverse:udp://10.0.0.1:53"), new Server(["10.0.0.1", 53]));
  flow.messages.push(new UDPMessage(true, Buffer.from("q")), new UDPMessage(false, Buffer.from([0, 255])));
  flow.live = false;
  const back = decodeFlow(encodeFlow(flow));
  assert.ok(back instanceof UDPFlow);
  assert.equal(back.type, "udp");
  assert.deepEqual(back.messages.map((m) => [m.from_client, Buffer.from(m.content).toString("hex")]), [[true, "71"], [false, "00ff"]]);
});

test("a UDP client refused by client_connected gets no flow; after udp_timeout its next datagram is asked about again", { timeout: 10_000 }, async (t) => {
  const server = await upperServer(t);
  let refuse = true;
  const seen: string[] = [];
  const gate: Addon = {
    name: "gate",
    client_connected(client) {
      seen.push("connected");
      if (refuse) client.error = "not today";
    },
    client_disconnected: () => void seen.push("disconnected"),
  };
  const proxy = await startProxy({ addons: [gate], options: { mode: `reverse:udp://127.0.0.1:${server.port}`, udp_timeout: "1" } });
  t.after(() => proxy.stop());
  const c = await udpClient(t);
  c.send("one", proxy.port);
  c.send("two", proxy.port);
  await proxy.waitLog(/refused: not today/);
  await waitUntil(() => seen.includes("disconnected"), "the refused client's client_disconnected", 5000);
  assert.deepEqual(seen, ["connected", "disconnected"], "one refusal for the client's datagrams, then one disconnect");
  assert.deepEqual(server.seen, []);
  assert.equal(udpFlows(proxy).length, 0);
  refuse = false;
  c.send("three", proxy.port);
  await waitUntil(() => c.got.length === 1, "an answer once allowed");
  assert.deepEqual(c.got, ["THREE"]);
});

test("-w (save_stream_file) writes each UDP flow when it ends, and it reads back with its datagrams", { timeout: 10_000 }, async (t) => {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const { readFlows } = await import("../../src/engine/save-stream.ts");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-udp-save-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "udp.flows");
  const server = await upperServer(t);
  const proxy = await startProxy({ options: { mode: `reverse:udp://127.0.0.1:${server.port}`, udp_timeout: "1", save_stream_file: file } });
  t.after(() => proxy.stop());
  const a = await udpClient(t);
  a.send("saved", proxy.port);
  await waitUntil(() => a.got.length === 1, "the answer");
  await proxy.waitFinished(1, 5000);
  const got: UDPFlow[] = [];
  await waitUntil(() => {
    got.length = 0;
    readFlows(file, (f) => got.push(f as UDPFlow));
    return got.length === 1;
  }, "the UDP flow in the file");
  assert.equal(got[0]?.type, "udp");
  assert.deepEqual(texts(got[0]!), ["> saved", "< SAVED"]);
});
