import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { parseTnetstring, type TValue } from "../../src/engine/flow/tnetstring.ts";
import { now } from "../../src/engine/flow/now.ts";
import { startProxy, portOf } from "../helpers/proxy.ts";
import { startHttpOrigin, startRawOrigin, viaProxy } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import { tempDir } from "../helpers/temp-dir.ts";

type Dict = { [key: string]: TValue };

/** The state dicts of a .mitm file, in the order written. */
function statesIn(file: string): Dict[] {
  const buf = fs.readFileSync(file);
  const out: Dict[] = [];
  for (let at = 0; at < buf.length; ) {
    const r = parseTnetstring(buf, at);
    assert.ok(r, `a whole flow at byte ${at} of ${file}`);
    out.push(r.value as Dict);
    at = r.end;
  }
  return out;
}

const field = (d: TValue, ...keys: string[]): TValue => keys.reduce<TValue>((v, k) => (v as Dict)[k] as TValue, d);
const pathOf = (s: Dict): string => (field(s, "request", "path") as Buffer).toString("latin1");

async function savingProxy(t: TestContext, options: Record<string, string> = {}) {
  const file = path.join(tempDir("pryx-mitm-live-"), "flows.mitm");
  const proxy = await startProxy({ options: { save_stream_file: file, ...options } });
  closeAfter(t, proxy);
  return { proxy, file };
}

test("flow timestamps have microseconds, as mitmproxy's time.time(): 50 keep-alive requests in a .mitm file, in order", { timeout: 30_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { proxy, file } = await savingProxy(t);
  closeAfter(t, origin, agent);
  for (let i = 0; i < 50; i++) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/r${i}`, { agent });
  await proxy.waitFinished(50);
  const states = statesIn(file);
  assert.equal(states.length, 50);
  const times = states.flatMap((s) => [
    field(s, "timestamp_created"),
    field(s, "client_conn", "timestamp_start"),
    field(s, "server_conn", "timestamp_start"),
    field(s, "server_conn", "timestamp_tcp_setup"),
    field(s, "request", "timestamp_start"),
    field(s, "request", "timestamp_end"),
    field(s, "response", "timestamp_start"),
    field(s, "response", "timestamp_end"),
  ]) as number[];
  // Whole milliseconds read back as n * 0.001 give back n within the float's rounding.
  const subMs = times.filter((x) => Math.abs(x * 1000 - Math.round(x * 1000)) > 1e-3);
  assert.ok(subMs.length > 0, `no timestamp has a fraction of a millisecond: ${times.slice(0, 8).join(", ")}`);
  // Never finer than mitmproxy's microseconds, and in the order things happened.
  for (const x of times) assert.ok(Math.abs(x * 1e6 - Math.round(x * 1e6)) < 0.01, `${x} to the microsecond`);
  let last = 0;
  for (const s of states) {
    const seq = ["timestamp_start", "timestamp_end"].flatMap((k) => [field(s, "request", k)]).concat(["timestamp_start", "timestamp_end"].map((k) => field(s, "response", k))) as number[];
    for (const x of seq) {
      assert.ok(x >= last, `${pathOf(s)}: ${seq.join(" ")} after ${last}`);
      last = x;
    }
  }
});

test("now() runs with the wall clock, to the microsecond, never backwards", () => {
  let prev = now();
  for (let i = 0; i < 10_000; i++) {
    const t = now();
    assert.ok(t >= prev, `${t} after ${prev}`);
    prev = t;
  }
  assert.ok(Math.abs(prev - Date.now() / 1000) < 0.01, `${prev} is ${Date.now() / 1000}`);
});

/** What mitmdump 8.1.1 wrote for the same traffic (client_conn state, server_conn state): 3 OPEN, 0 CLOSED. */
test("connection state in a .mitm file as mitmdump writes it: OPEN while kept alive, CLOSED once the server's side or the client's is done", { timeout: 30_000 }, async (t) => {
  const keepAlive = await startHttpOrigin((_req, res) => res.end("ok"));
  const closing = await startRawOrigin(() => "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
  // A body read to the server's close (HTTP/1.0, no length).
  const untilClose = net.createServer((s) => s.once("data", () => s.end("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nto the end")));
  // Gone mid-body: a broken response, but no connection error (mitmproxy keeps those for connections that could not be made).
  const cut = net.createServer((s) => s.once("data", () => {
    s.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort");
    setTimeout(() => s.destroy(), 20);
  }));
  const silent = await startRawOrigin(() => "");
  const tcp = net.createServer((s) => s.once("data", () => s.end("pong")));
  for (const srv of [untilClose, cut, tcp]) await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const tcpPort = portOf(tcp);
  const { proxy, file } = await savingProxy(t, { tcp_hosts: `127\\.0\\.0\\.1:${tcpPort}` });
  const dead = await deadPort();
  closeAfter(t, keepAlive, closing, untilClose, cut, silent, tcp);

  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client);
  for (const p of ["/kept1", "/kept2"]) {
    client.send(`GET http://127.0.0.1:${keepAlive.port}${p} HTTP/1.1\r\nHost: 127.0.0.1:${keepAlive.port}\r\n\r\n`);
    await client.take((b) => (b.includes("\r\n\r\nok") ? b.indexOf("\r\n\r\nok") + 6 : undefined), `the answer to ${p}`);
  }
  await viaProxy(proxy.port, `http://127.0.0.1:${closing.port}/connection-close`);
  await viaProxy(proxy.port, `http://127.0.0.1:${portOf(untilClose)}/until-close`);
  await viaProxy(proxy.port, `http://127.0.0.1:${portOf(cut)}/cut`);
  await viaProxy(proxy.port, `http://127.0.0.1:${dead}/refused`);
  // A client that gives up while its server says nothing.
  const leaving = await RawClient.connect(proxy.port);
  leaving.send(`GET http://127.0.0.1:${silent.port}/client-gone HTTP/1.1\r\nHost: 127.0.0.1:${silent.port}\r\n\r\n`);
  await waitUntil(() => silent.received.some((b) => b.includes("/client-gone")), "the request at the silent server");
  leaving.close();
  // A TCP flow (tcp_hosts) through CONNECT: the server answers and closes, and so does the client.
  const raw = await RawClient.connect(proxy.port);
  raw.send(`CONNECT 127.0.0.1:${tcpPort} HTTP/1.1\r\nHost: 127.0.0.1:${tcpPort}\r\n\r\n`);
  await raw.take((b) => (b.includes("\r\n\r\n") ? b.indexOf("\r\n\r\n") + 4 : undefined), "the CONNECT's answer");
  raw.send("ping");
  await raw.take((b) => (b.includes("pong") ? 4 : undefined), "the server's pong");
  raw.close();
  await proxy.waitFinished(8, 10_000);

  const written = statesIn(file);
  const states = new Map(written.map((s) => [s.type === "tcp" ? "tcp" : pathOf(s), [field(s, "client_conn", "state"), field(s, "server_conn", "state")]]));
  assert.deepEqual(Object.fromEntries(states), {
    "/kept1": [3, 3],
    "/kept2": [3, 3],
    "/connection-close": [3, 0],
    "/until-close": [3, 0],
    "/cut": [3, 0],
    // Never connected: mitmproxy's Server starts CLOSED.
    "/refused": [3, 0],
    "/client-gone": [0, 0],
    tcp: [0, 0],
  });
  const cutState = written.find((s) => s.type === "http" && pathOf(s) === "/cut") as Dict;
  assert.equal(field(cutState, "server_conn", "error"), null);
  assert.match(String(field(cutState, "error", "msg")), /closed the connection before the response was complete/);
});
