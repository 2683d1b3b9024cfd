import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { rawExchange } from "../helpers/origin.ts";
import { deadPort } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";

/**
 * A SOCKS5 client (no authentication) that asks for 127.0.0.1:`port`, sends a GET once the
 * proxy reports success, and resolves with everything after the method reply when the proxy closes.
 */
function socks5Connect(proxyPort: number, port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, "127.0.0.1", () => s.write(Buffer.from([5, 1, 0])));
    let got = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length === 2) s.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
      else if (got.length === 12 && got[3] === 0) s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
    s.on("close", () => resolve(got.subarray(2)));
    s.on("error", reject);
    s.setTimeout(5000, () => s.destroy(new Error("the SOCKS5 exchange timed out")));
  });
}

/** The event log's lines about `port` once the client is gone: what a user reads about the failure. */
async function linesAbout(proxy: TestProxy, port: number): Promise<string[]> {
  await proxy.waitLog(/client disconnect/);
  return proxy.logs.filter((l) => l.msg.includes(`127.0.0.1:${port}`)).map((l) => `${l.level} ${l.msg.replace(/^127\.0\.0\.1:\d+: /, "CLIENT: ")}`);
}

const refusedLine = (port: number): string => `info CLIENT: error establishing server connection: cannot connect to 127.0.0.1:${port}: connection refused`;

for (const strategy of ["eager", "lazy"]) {
  test(`socks5 to a dead port (connection_strategy=${strategy}): one info line with the address and reason, as mitmproxy's, not a warn besides`, { timeout: 10_000 }, async (t) => {
    const port = await deadPort();
    const proxy = await startProxy({ options: { mode: "socks5", connection_strategy: strategy } });
    t.after(() => proxy.stop());
    const got = await socks5Connect(proxy.port, port);
    if (strategy === "eager") assert.deepEqual([...got], [5, 5, 0, 1, 0, 0, 0, 0, 0, 0], "reply: connection refused");
    else assert.match(got.subarray(10).toString(), /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.deepEqual(await linesAbout(proxy, port), [refusedLine(port)]);
    if (strategy === "lazy") assert.match((await proxy.waitFinished(1))[0]?.error ?? "", /connection refused/);
  });
}

test("socks5 to a server an addon refuses in server_connect (eager): one info line, mitmproxy's 'killed before connect'", { timeout: 10_000 }, async (t) => {
  const port = await deadPort();
  const deny: Addon = { name: "deny", server_connect: (d) => void (d.server.error = "policy says no") };
  const proxy = await startProxy({ addons: [deny], options: { mode: "socks5", connection_strategy: "eager" } });
  t.after(() => proxy.stop());
  assert.notEqual((await socks5Connect(proxy.port, port))[1], 0, "the reply is a failure");
  assert.deepEqual(await linesAbout(proxy, port), [`info CLIENT: server connection to 127.0.0.1:${port} killed before connect: policy says no`]);
});

test("transparent mode to a dead server (eager): one info line, not a warn besides", { timeout: 10_000 }, async (t) => {
  const port = await deadPort();
  const proxy = await startProxy({ options: { mode: "transparent", connection_strategy: "eager" } });
  t.after(() => proxy.stop());
  await rawExchange(proxy.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  assert.deepEqual(await linesAbout(proxy, port), [refusedLine(port)]);
});

test("a CONNECT (eager and lazy) or a plain request to a dead port: one info line, and the 502 or the flow says why", { timeout: 10_000 }, async (t) => {
  const port = await deadPort();
  const connect = `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
  const get = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
  for (const [strategy, bytes] of [
    ["eager", connect],
    ["lazy", connect + get("/")],
    ["lazy", get(`http://127.0.0.1:${port}/`)],
  ] as const) {
    const proxy = await startProxy({ options: { connection_strategy: strategy } });
    t.after(() => proxy.stop());
    const answer = (await rawExchange(proxy.port, bytes)).toString();
    assert.match(answer, new RegExp(`502 Bad Gateway\\r\\n[^]*cannot connect to 127\\.0\\.0\\.1:${port}: connection refused`), `${strategy}: ${JSON.stringify(bytes)}`);
    assert.deepEqual(await linesAbout(proxy, port), [refusedLine(port)], `${strategy}: ${JSON.stringify(bytes)}`);
  }
});
