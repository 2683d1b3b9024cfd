import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { startRawOrigin, type RawOrigin } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";

/**
 * Request lines llhttp refuses but mitmproxy takes: a method llhttp does not know, bytes
 * >= 0x80 in the target. They must become flows and reach the server as sent.
 */

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const hasCurl = spawnSync("curl", ["--version"]).status === 0;

interface Setup {
  proxy: TestProxy;
  origin: RawOrigin;
  client: RawClient;
  /** method and path of each request as the `request` hook saw it. */
  seen: string[];
  /** The origin's received bytes from all connections, as latin1 text. */
  received(): string;
}

async function setup(t: TestContext, options: Record<string, string> = {}): Promise<Setup> {
  const origin = await startRawOrigin(() => OK);
  const seen: string[] = [];
  const hook: Addon = { name: "seen", request: (f) => void seen.push(`${f.request.method} ${f.request.path}`) };
  const proxy = await startProxy({ addons: [hook], options });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  return { proxy, origin, client, seen, received: () => Buffer.concat(origin.received).toString("latin1") };
}

/** `text` as the bytes UTF-8 gives it, one latin1 character per byte: how pryx keeps wire text. */
function bytesOf(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

function get(origin: RawOrigin, path: string, method = "GET", extra = ""): Buffer {
  return Buffer.from(`${method} http://127.0.0.1:${origin.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${extra}\r\n`, "utf8");
}

test("a UTF-8 request target becomes a flow, reaches the server byte for byte, and the connection goes on", { timeout: 10_000 }, async (t) => {
  const { proxy, origin, client, seen, received } = await setup(t);
  client.send(get(origin, "/日本語?q=à"));
  assert.equal((await client.response()).status, 200);
  client.send(get(origin, "/next"));
  assert.equal((await client.response()).status, 200, "a keep-alive request after it is served");
  const flows = await proxy.waitFinished(2);
  // The console's rows read as text; the flow keeps the bytes as sent.
  assert.deepEqual(flows.map((f) => `${f.method} ${f.path} ${f.status}`), ["GET /日本語?q=à 200", "GET /next 200"]);
  assert.deepEqual(seen, [`GET ${bytesOf("/日本語?q=à")}`, "GET /next"]);
  assert.match(received(), new RegExp(`^GET ${bytesOf("/日本語\\?q=à")} HTTP/1\\.1\r\nHost: 127\\.0\\.0\\.1:\\d+\r\n\r\nGET /next HTTP/1\\.1\r\n`));
  assert.equal(origin.connections, 1);
});

test("a method llhttp does not know becomes a flow and reaches the server with its body", { timeout: 10_000 }, async (t) => {
  const { proxy, origin, client, seen, received } = await setup(t);
  client.send(Buffer.concat([get(origin, "/dav", "VERYLONGMETHOD", "Content-Length: 5\r\n"), Buffer.from("hello")]));
  assert.equal((await client.response()).status, 200);
  client.send(get(origin, "/x", "get"));
  assert.equal((await client.response()).status, 200);
  client.send(get(origin, "/after"));
  assert.equal((await client.response()).status, 200);
  const flows = await proxy.waitFinished(3);
  assert.deepEqual(flows.map((f) => `${f.method} ${f.path} ${f.status}`), ["VERYLONGMETHOD /dav 200", "get /x 200", "GET /after 200"]);
  assert.deepEqual(seen, ["VERYLONGMETHOD /dav", "get /x", "GET /after"]);
  assert.match(received(), /^VERYLONGMETHOD \/dav HTTP\/1\.1\r\nHost: [^\r]+\r\nContent-Length: 5\r\n\r\nhelloget \/x HTTP\/1\.1\r\nHost: [^\r]+\r\n\r\nGET \/after HTTP\/1\.1\r\n/);
});

test("a QUERY request keeps its method on the flow and at the server", { timeout: 10_000 }, async (t) => {
  const { proxy, origin, client, received } = await setup(t);
  client.send(Buffer.concat([get(origin, "/search", "QUERY", "Content-Length: 4\r\n"), Buffer.from("q=ab")]));
  assert.equal((await client.response()).status, 200);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(`${flow?.method} ${flow?.path}`, "QUERY /search");
  await waitUntil(() => received().endsWith("q=ab"), "the body at the origin");
  assert.match(received(), /^QUERY \/search HTTP\/1\.1\r\n[^]*\r\n\r\nq=ab$/);
});

test("pipelined requests around refused lines are all answered, in order", { timeout: 10_000 }, async (t) => {
  const { proxy, origin, client } = await setup(t);
  const post = Buffer.concat([get(origin, "/post", "POST", "Content-Length: 3\r\n"), Buffer.from("abc")]);
  client.send(Buffer.concat([get(origin, "/one"), post, get(origin, "/二"), get(origin, "/three", "FOO-BAR"), get(origin, "/four")]));
  for (let i = 0; i < 5; i++) assert.equal((await client.response()).status, 200);
  const flows = await proxy.waitFinished(5);
  assert.deepEqual(flows.map((f) => `${f.method} ${f.path}`), ["GET /one", "POST /post", "GET /二", "FOO-BAR /three", "GET /four"]);
});

test("a refused line split over several reads, after a request with a body, still becomes a flow", { timeout: 10_000 }, async (t) => {
  const { proxy, origin, client, received } = await setup(t);
  client.send(Buffer.concat([get(origin, "/post", "POST", "Content-Length: 3\r\n"), Buffer.from("abc")]));
  assert.equal((await client.response()).status, 200);
  const line = get(origin, "/ü/split", "VERYLONGMETHOD");
  // Pauses between writes so the proxy reads the line in pieces.
  for (const [from, to] of [[0, 5], [5, 40], [40, line.length]] as const) {
    client.send(line.subarray(from, to));
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal((await client.response()).status, 200);
  const flows = await proxy.waitFinished(2);
  assert.equal(`${flows[1]?.method} ${flows[1]?.path}`, "VERYLONGMETHOD /ü/split");
  assert.ok(received().includes(`abcVERYLONGMETHOD ${bytesOf("/ü/split")} HTTP/1.1\r\n`));
});

for (const [what, line] of [
  ["a method that is not a token", "FO(O / HTTP/1.1"],
  ["a line without a version", "VERYLONGMETHOD /x"],
  ["a control character in a refused target", "GET /\x01\xe6 HTTP/1.1"],
] as const) {
  test(`${what} still gets 400 and a log line`, { timeout: 10_000 }, async (t) => {
    const { proxy, origin, client } = await setup(t);
    client.send(Buffer.from(`${line}\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`, "latin1"));
    const res = await client.response();
    assert.equal(res.status, 400);
    assert.match(res.body.toString(), /malformed HTTP message/);
    await client.whenClosed();
    await proxy.waitLog(/malformed HTTP message/);
    assert.equal(origin.connections, 0);
  });
}

test("curl: a UTF-8 path and a custom method through the proxy", { timeout: 20_000, skip: hasCurl ? false : "curl is not installed" }, async (t) => {
  const { proxy, origin, received } = await setup(t);
  const curl = (...args: string[]) => promisify(execFile)("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", `http://127.0.0.1:${proxy.port}`, ...args], { encoding: "utf8", timeout: 15_000 });
  assert.equal((await curl(`http://127.0.0.1:${origin.port}/日本語`)).stdout, "200");
  assert.equal((await curl("-X", "VERYLONGMETHOD", `http://127.0.0.1:${origin.port}/m`)).stdout, "200");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => `${f.method} ${f.path}`), ["GET /日本語", "VERYLONGMETHOD /m"]);
  await waitUntil(() => received().includes("VERYLONGMETHOD /m HTTP/1.1\r\n"), "the custom method at the origin");
  assert.ok(received().startsWith(`GET ${bytesOf("/日本語")} HTTP/1.1\r\n`));
});

test("validate_inbound_headers: a control byte in a header value is a 400 by default; off, the request goes through as sent", { timeout: 10_000 }, async (t) => {
  const { proxy, origin } = await setup(t);
  const request = `GET http://127.0.0.1:${origin.port}/odd HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nX-Odd: a\x01b\r\n\r\n`;
  const strict = await RawClient.connect(proxy.port);
  t.after(() => strict.close());
  strict.send(request);
  const refused = await strict.response();
  assert.equal(refused.status, 400);
  assert.match(refused.body.toString(), /malformed HTTP message: invalid header value for X-Odd: control character 0x01/);
  assert.equal(origin.connections, 0, "nothing reached the server");
  await proxy.waitLog(/malformed HTTP message: invalid header value for X-Odd: control character 0x01 \(--set validate_inbound_headers=false lets such requests through\)$/);

  proxy.engine.options.setText("validate_inbound_headers", "false");
  const lax = await RawClient.connect(proxy.port);
  t.after(() => lax.close());
  lax.send(request);
  const res = await lax.response(2);
  assert.equal(res.status, 200);
  assert.match(origin.received.map((b) => b.toString("latin1")).join(""), /\r\nX-Odd: a\x01b\r\n/, "the header reached the server as the client sent it");
});

test("validate_inbound_headers=false is suggested only for what it lets through: not for Content-Lengths that differ or a space in a header's name, which stay refused", { timeout: 10_000 }, async (t) => {
  const { proxy, origin } = await setup(t, { validate_inbound_headers: "false" });
  const heads = [`Content-Length: 5\r\nContent-Length: 6`, "Bad Name: x"];
  for (const extra of heads) {
    const client = await RawClient.connect(proxy.port);
    t.after(() => client.close());
    client.send(`POST http://127.0.0.1:${origin.port}/x HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${extra}\r\n\r\n${extra.startsWith("Content") ? "hello" : ""}`);
    assert.equal((await client.response()).status, 400);
  }
  await proxy.waitLog(/malformed HTTP message: invalid header name "Bad Name": not an HTTP token$/);
  assert.ok(proxy.logs.some((l) => /malformed HTTP message: conflicting Content-Length headers: 5, 6$/.test(l.msg)), proxy.logs.map((l) => l.msg).join("\n"));
  assert.ok(!proxy.logs.some((l) => /lets such requests through/.test(l.msg)), "no advice the option cannot keep");
});

test("a client's folded header line (obs-fold) is refused naming the folding, with the option that lets it through; with it, the value goes on unfolded", { timeout: 10_000 }, async (t) => {
  const { proxy, origin } = await setup(t);
  const request = `GET http://127.0.0.1:${origin.port}/fold HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nX-Fold: a\r\n continued\r\n\r\n`;
  const strict = await RawClient.connect(proxy.port);
  t.after(() => strict.close());
  strict.send(request);
  const refused = await strict.response();
  assert.equal(refused.status, 400);
  assert.match(refused.body.toString(), /a header value continued on the next line \(obsolete line folding, RFC 9112 5\.2\)/);
  await proxy.waitLog(/obsolete line folding, RFC 9112 5\.2\) \(--set validate_inbound_headers=false lets such requests through\)$/);
  proxy.engine.options.setText("validate_inbound_headers", "false");
  const lax = await RawClient.connect(proxy.port);
  t.after(() => lax.close());
  lax.send(request);
  assert.equal((await lax.response(2)).status, 200);
});

test("a request line without an HTTP version (HTTP/0.9) is refused with 400, as mitmproxy does, and nothing reaches the server", { timeout: 10_000 }, async (t) => {
  const { proxy, origin, client } = await setup(t);
  client.send(`GET http://127.0.0.1:${origin.port}/x\r\n\r\n`);
  const res = await client.response();
  assert.equal(res.status, 400);
  assert.match(res.body.toString(), /no HTTP version \(HTTP\/0\.9 is not supported\)/);
  assert.equal(origin.connections, 0);
  const next = await RawClient.connect(proxy.port);
  t.after(() => next.close());
  next.send(get(origin, "/after"));
  assert.equal((await next.response()).status, 200, "the proxy keeps serving");
});

test("HTTP/2 with prior knowledge (h2c) is refused saying so, not with llhttp's 'Pause on PRI/Upgrade'", { timeout: 10_000 }, async (t) => {
  const { client } = await setup(t);
  client.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  const res = await client.response();
  assert.equal(res.status, 400);
  assert.match(res.body.toString(), /HTTP\/2 with prior knowledge \(h2c\) is not supported/);
});
