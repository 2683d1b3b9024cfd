import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startProxy, type TestProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, startRawOrigin, viaProxy, type Origin } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import { Headers } from "../../src/engine/flow/headers.ts";
import type { HTTPFlow, Response } from "../../src/engine/flow/http.ts";

/** Each error test ends by checking the proxy still serves a normal request. */
async function setup(t: TestContext, addons: Addon[] = []): Promise<{ proxy: TestProxy; healthy: Origin; stillServes(): Promise<void> }> {
  const healthy = await startHttpOrigin((_req, res) => res.end("still serving"));
  const proxy = await startProxy({ addons });
  t.after(async () => {
    await proxy.stop();
    await healthy.close();
  });
  return {
    proxy,
    healthy,
    stillServes: async () => {
      const res = await viaProxy(proxy.port, `http://127.0.0.1:${healthy.port}/`);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "still serving");
    },
  };
}

test("a dead upstream gets a 502 naming the reason; the flow has the error", { timeout: 10_000 }, async (t) => {
  const fired: string[] = [];
  const { proxy, stillServes } = await setup(t, [{ name: "obs", server_connect_error: () => void fired.push("server_connect_error"), error: () => void fired.push("error") }]);
  const port = await deadPort();
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${port}/nothing`);
  assert.equal(res.status, 502);
  assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
  assert.match(res.body.toString(), new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /connection refused/);
  assert.equal(flow?.status, undefined, "the 502 is the proxy's answer, not a response in the flow");
  assert.deepEqual(fired, ["server_connect_error", "error"]);
  const line = await proxy.waitLog(/error establishing server connection/);
  assert.equal(line.level, "info");
  assert.match(line.msg, new RegExp(`^127\\.0\\.0\\.1:\\d+: error establishing server connection: .*127\\.0\\.0\\.1:${port}.*connection refused`));
  await stillServes();
});

/** Sends a head promising 100 bytes and a few of them, then drops the connection. */
function truncatingOrigin(): Promise<Origin> {
  return startHttpOrigin((req, res) => {
    res.writeHead(200, { "Content-Length": "100" });
    res.write("only part", () => req.socket.destroy());
  });
}

test("an upstream that closes mid-response: 502 while nothing was sent, and an error on the flow", { timeout: 10_000 }, async (t) => {
  const origin = await truncatingOrigin();
  const { proxy, stillServes } = await setup(t);
  t.after(() => origin.close());
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.status, 502);
  assert.match(res.body.toString(), /closed the connection before the response was complete/);
  const [flow] = await proxy.waitFinished(1);
  // How much of the body came, as mitmproxy's "(received 9 bytes, expected 100)".
  assert.match(flow?.error ?? "", new RegExp(`^server 127\\.0\\.0\\.1:${origin.port} closed the connection before the response was complete \\(after 9 of 100 body bytes\\)$`));
  await stillServes();
});

test("an upstream that resets the connection mid-response: the error says how far the response had come, not the socket's ECONNRESET", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => {
    res.writeHead(200, { "Content-Length": "100000" });
    res.write(Buffer.alloc(5000, "x"), () => setTimeout(() => req.socket.resetAndDestroy(), 20));
  });
  const { proxy, stillServes } = await setup(t);
  t.after(() => origin.close());
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.status, 502);
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", new RegExp(`server 127\\.0\\.0\\.1:${origin.port}: reset the connection after 5000 of 100000 body bytes of its response \\(ECONNRESET\\)`));
  await stillServes();
});

test("bytes a server sends after a whole response do not spoil it: the client gets the response, and the next request a fresh connection", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA-GARBAGE");
  const { proxy, stillServes } = await setup(t);
  t.after(() => origin.close());
  for (const n of [1, 2]) {
    const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/extra${n}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "ok");
  }
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => [f.status, f.error]), [[200, undefined], [200, undefined]]);
  assert.equal(origin.connections, 2, "the connection the junk came on is not used again");
  await stillServes();
});

test("a server's response with bare-LF line ends or a folded header line is taken, as mitmproxy and curl take it (the fold unfolded)", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin((request) =>
    request.includes("/lf") ? "HTTP/1.1 200 OK\nX-Kind: lf\nContent-Length: 2\n\nok" : "HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\nok",
  );
  const { proxy, stillServes } = await setup(t);
  t.after(() => origin.close());
  const lf = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/lf`);
  assert.equal(lf.status, 200);
  assert.equal(lf.body.toString(), "ok");
  assert.equal(lf.headers["x-kind"], "lf");
  const folded = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/folded`);
  assert.equal(folded.status, 200);
  assert.equal(folded.headers["x-folded"], "one two");
  await stillServes();
});

test("an upstream that closes mid-response while streaming cuts the client connection", { timeout: 10_000 }, async (t) => {
  const origin = await truncatingOrigin();
  const errors: string[] = [];
  const { proxy, stillServes } = await setup(t, [{
    name: "stream",
    responseheaders: (f) => void (f.response && (f.response.stream = true)),
    error: (f) => void errors.push(f.error?.msg ?? ""),
  }]);
  t.after(() => origin.close());
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  const head = await client.head();
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nContent-Length: 100\r\n/);
  // The head is out, so no 502 can follow: a short body and a close tell the client.
  await client.whenClosed();
  assert.equal(client.pending.toString(), "only part");
  await waitUntil(() => errors.length === 1, "the error hook");
  assert.match(errors[0] ?? "", /closed the connection before the response was complete/);
  await stillServes();
});

test("a request for pryx's own address is refused with a 502 that says so, not looped back into pryx", { timeout: 10_000 }, async (t) => {
  const { proxy, stillServes } = await setup(t);
  for (const host of ["127.0.0.1", "localhost"]) {
    const res = await viaProxy(proxy.port, `http://${host}:${proxy.port}/loop`);
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), new RegExp(`${host}:${proxy.port} is pryx itself`));
  }
  const flows = await proxy.waitFinished(2);
  assert.equal(flows.length, 2, "one flow each: nothing came back in");
  assert.match(flows[0]?.error ?? "", /is pryx itself/);
  await stillServes();
});

test("isOwnAddress: a listener on every interface is reached by any local address; one on loopback only by loopback names", async () => {
  const { isOwnAddress } = await import("../../src/engine/proxy/own-address.ts");
  const os = await import("node:os");
  const lan = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
  assert.equal(isOwnAddress(["127.0.0.1", 8080], [["127.0.0.1", 8080]]), true);
  assert.equal(isOwnAddress(["localhost", 8080], [["127.0.0.1", 8080]]), true);
  assert.equal(isOwnAddress(["127.0.0.1", 8081], [["127.0.0.1", 8080]]), false, "another port");
  assert.equal(isOwnAddress(["example.com", 8080], [["0.0.0.0", 8080]]), false);
  assert.equal(isOwnAddress(["[::1]", 8080], [["::", 8080]]), true);
  if (lan) {
    assert.equal(isOwnAddress([lan, 8080], [["0.0.0.0", 8080]]), true, "this machine's own interface");
    assert.equal(isOwnAddress([lan, 8080], [["127.0.0.1", 8080]]), false, "not listening there: no loop");
  }
});

test("a malformed request gets 400 and the connection closes", { timeout: 10_000 }, async (t) => {
  const { proxy, stillServes } = await setup(t);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send("GARBAGE\r\n\r\n");
  const res = await client.response();
  assert.equal(res.status, 400);
  assert.match(res.body.toString(), /malformed/);
  await client.whenClosed();
  await proxy.waitLog(/malformed/);
  await stillServes();
  assert.deepEqual((await proxy.waitFinished(1)).map((f) => f.path), ["/"], "a request line that is none makes no flow");
});

for (const [what, method, path, extra, why] of [
  ["both Content-Length and Transfer-Encoding", "POST", "/smuggle", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "both Content-Length and Transfer-Encoding (refused: a request smuggling risk, RFC 9112 6.3)"],
  ["a control byte in a header value", "GET", "/odd", "X-Odd: a\x01b\r\n\r\n", "invalid header value for X-Odd: control character 0x01"],
] as const) {
  test(`a request head refused for ${what} is a flow with the error, as in mitmproxy: the client gets 400 saying why, \`error\` fires once, nothing reaches the server even with stream set`, { timeout: 10_000 }, async (t) => {
    const seen: string[] = [];
    const hooks: Addon = {
      name: "refused-head",
      requestheaders: (flow) => {
        seen.push("requestheaders");
        // Streamed, a request's body goes to the server as it comes: not this one's.
        flow.request.stream = true;
      },
      request: () => void seen.push("request"),
      error: (flow) => void seen.push(`error: ${flow.error?.msg} [${flow.request.method} ${flow.request.url} ${[...flow.request.headers].map(([k, v]) => `${k}=${v}`).join(" ")}]`),
    };
    const { proxy, healthy, stillServes } = await setup(t, [hooks]);
    const client = await RawClient.connect(proxy.port);
    t.after(() => client.close());
    const host = `127.0.0.1:${healthy.port}`;
    client.send(`${method} http://${host}${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}`);
    const res = await client.response();
    assert.equal(res.status, 400);
    assert.match(res.head, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(res.body.toString(), `pryx: malformed HTTP message: ${why}\n`);
    await client.whenClosed();
    const [flow] = await proxy.waitFinished(1);
    assert.deepEqual([flow?.method, flow?.url, flow?.status, flow?.error], [method, `http://${host}${path}`, undefined, `malformed HTTP message: ${why}`], "the 400 is the proxy's answer, not a response in the flow");
    const headers = extra.slice(0, extra.indexOf("\r\n\r\n")).split("\r\n").map((l) => l.replace(": ", "="));
    assert.deepEqual(seen, ["requestheaders", `error: malformed HTTP message: ${why} [${method} http://${host}${path} Host=${host} ${headers.join(" ")}]`]);
    assert.equal(healthy.connections, 0, "nothing reached the origin, streamed or not");
    await stillServes();
    assert.deepEqual((await proxy.waitFinished(2)).map((f) => f.path), [path, "/"], "one flow for the refused request");
    assert.equal(seen.filter((s) => s.startsWith("error")).length, 1, "`error` fired once");
  });
}

/** An addon that lists the request hooks a flow goes through, with the error the `error` hook saw. */
function requestHooks(): Addon & { fired: string[] } {
  const fired: string[] = [];
  return {
    name: "request-hooks",
    fired,
    requestheaders: () => void fired.push("requestheaders"),
    request: () => void fired.push("request"),
    error: (flow: { error?: { msg: string } }) => void fired.push(`error: ${flow.error?.msg}`),
  };
}

for (const [what, body, status, why] of [
  ["a bad chunk size", "zz\r\nabc\r\n0\r\n\r\n", 400, "malformed request body: Invalid character in chunk size"],
  ["chunk data longer than its size", "3\r\nabcXX\r\n0\r\n\r\n", 400, "malformed request body: Expected LF after chunk data"],
  ["trailers over 1 MiB", `3\r\nabc\r\n0\r\nX-Big: ${"a".repeat(1100 * 1024)}\r\n\r\n`, 431, "request trailers too large"],
] as const) {
  test(`a request whose head is fine and whose body is not (${what}) is a flow with the error, as in mitmproxy: requestheaders then error, once; the client still gets ${status}`, { timeout: 10_000 }, async (t) => {
    const hooks = requestHooks();
    const { proxy, healthy, stillServes } = await setup(t, [hooks]);
    const client = await RawClient.connect(proxy.port);
    t.after(() => client.close());
    client.send(`POST http://127.0.0.1:${healthy.port}/upload HTTP/1.1\r\nHost: 127.0.0.1:${healthy.port}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    const res = await client.response();
    assert.equal(res.status, status);
    assert.equal(res.body.toString(), `pryx: ${why}\n`);
    await client.whenClosed();
    const [flow] = await proxy.waitFinished(1);
    assert.deepEqual([flow?.method, flow?.path, flow?.status, flow?.error], ["POST", "/upload", undefined, why], "the 400 is the proxy's answer, not a response in the flow");
    assert.deepEqual(hooks.fired, ["requestheaders", `error: ${why}`]);
    assert.equal(healthy.connections, 0, "nothing reached the origin");
    await stillServes();
    assert.deepEqual((await proxy.waitFinished(2)).map((f) => f.path), ["/upload", "/"], "one flow for the malformed request");
  });
}

test("a client that closes mid-body leaves a flow whose error says the body was cut short", { timeout: 10_000 }, async (t) => {
  const hooks = requestHooks();
  const { proxy, healthy, stillServes } = await setup(t, [hooks]);
  const client = await RawClient.connect(proxy.port);
  client.send(`POST http://127.0.0.1:${healthy.port}/cut HTTP/1.1\r\nHost: 127.0.0.1:${healthy.port}\r\nContent-Length: 10\r\n\r\nabc`);
  await waitUntil(() => hooks.fired.includes("requestheaders"), "the request's head at the proxy");
  client.close();
  const [flow] = await proxy.waitFinished(1);
  const why = "client closed the connection before the request body was complete";
  assert.deepEqual([flow?.path, flow?.status, flow?.error], ["/cut", undefined, why]);
  assert.deepEqual(hooks.fired, ["requestheaders", `error: ${why}`]);
  await stillServes();
});

test("headers over 1 MiB get 431 and the connection closes", { timeout: 10_000 }, async (t) => {
  const { proxy, healthy, stillServes } = await setup(t);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET http://127.0.0.1:${healthy.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${healthy.port}\r\nX-Big: ${"a".repeat(1100 * 1024)}\r\n\r\n`);
  const res = await client.response();
  assert.equal(res.status, 431);
  assert.match(res.head, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(res.body.toString(), /request headers too large/);
  await client.whenClosed();
  assert.equal(healthy.connections, 0, "nothing reached the origin");
  await stillServes();
});

test("a server's response headers over 1 MiB: a 502 that says the response's headers were too large, not the request's", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(1100 * 1024)}\r\nContent-Length: 2\r\n\r\nok`);
  const { proxy, stillServes } = await setup(t);
  t.after(() => origin.close());
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.status, 502);
  assert.match(res.body.toString(), /response headers too large/);
  await stillServes();
});

test("big heads are forwarded as mitmproxy forwards them: a 100 KiB query and 100 KiB of cookies, and a response's 100 KB Set-Cookie", { timeout: 10_000 }, async (t) => {
  // A raw origin: node:http's own 16 KiB header limit would answer 431 itself.
  const cookie = "c".repeat(100 * 1024);
  const origin = await startRawOrigin(() => `HTTP/1.1 200 OK\r\nSet-Cookie: s=${cookie}\r\nContent-Length: 2\r\n\r\nok`);
  const { proxy } = await setup(t);
  t.after(() => origin.close());
  const query = "q".repeat(100 * 1024);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET http://127.0.0.1:${origin.port}/?q=${query} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nCookie: ${cookie}\r\n\r\n`);
  const res = await client.response(2);
  assert.equal(res.status, 200);
  assert.ok(res.head.includes(`\r\nSet-Cookie: s=${cookie}\r\n`));
  const received = (origin.received[0] as Buffer).toString("latin1");
  assert.ok(received.startsWith(`GET /?q=${query} HTTP/1.1\r\n`));
  assert.ok(received.includes(`Cookie: ${cookie}\r\n`));
});

test("an origin-form request to the proxy gets 400 explaining how to use a proxy, and the proxy's log says so", { timeout: 10_000 }, async (t) => {
  const { proxy, stillServes } = await setup(t);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`);
  const res = await client.response();
  assert.equal(res.status, 400);
  assert.match(res.body.toString(), /absolute URL/);
  assert.match(res.body.toString(), /curl -x/);
  await proxy.waitLog(/^127\.0\.0\.1:\d+: answered 400: this is a proxy: send requests with an absolute URL/);
  await client.whenClosed();
  await stillServes();
});

test("an origin-form request whose Host names another server goes there, as mitmproxy routes a client sent to it by DNS", { timeout: 10_000 }, async (t) => {
  const { proxy, healthy, stillServes } = await setup(t);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET /rel?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${healthy.port}\r\n\r\n`);
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "still serving");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.url, `http://127.0.0.1:${healthy.port}/rel?x=1`);
  await stillServes();
});

test("a client that gives up waiting fires the flow's error, then client_disconnected, then server_disconnected, as mitmproxy does", { timeout: 10_000 }, async (t) => {
  let got = false;
  const silent = await startHttpOrigin(() => void (got = true)); // never answers
  const order: string[] = [];
  const { proxy, stillServes } = await setup(t, [
    {
      name: "order",
      error: () => void order.push("error"),
      client_disconnected: () => void order.push("client_disconnected"),
      server_disconnected: () => void order.push("server_disconnected"),
    },
  ]);
  t.after(() => silent.close());
  const client = net.connect(proxy.port, "127.0.0.1");
  client.on("error", () => undefined);
  client.write(`GET http://127.0.0.1:${silent.port}/hang HTTP/1.1\r\nHost: 127.0.0.1:${silent.port}\r\n\r\n`);
  await waitUntil(() => got, "the origin got the request");
  client.destroy();
  await waitUntil(() => order.length >= 3, "the three hooks");
  assert.deepEqual(order.slice(0, 3), ["error", "client_disconnected", "server_disconnected"]);
  assert.equal(order.filter((h) => h === "error").length, 1, "error fires once");
  await stillServes();
});

test("a client that disconnects while the server is still answering: the flow blames the client, not the server", { timeout: 10_000 }, async (t) => {
  let got = false;
  const slow = await startHttpOrigin((_req, res) => {
    got = true;
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("partial"); // and never ends
  });
  const { proxy, stillServes } = await setup(t);
  t.after(() => slow.close());
  const client = net.connect(proxy.port, "127.0.0.1");
  client.on("error", () => undefined);
  client.write(`GET http://127.0.0.1:${slow.port}/hang HTTP/1.1\r\nHost: 127.0.0.1:${slow.port}\r\n\r\n`);
  await waitUntil(() => got, "the origin got the request");
  client.destroy();
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /^client /, `the error names the client: ${flow?.error}`);
  await stillServes();
});

test("what an addon sets that cannot go on the wire (a status of 99999 or \"abc\", CR LF in a reason, a method or a field, a space in a method) fails its flow naming the value, with a 502, and the connection goes on", { timeout: 15_000 }, async (t) => {
  const edits: Record<string, (flow: HTTPFlow) => void> = {
    "/big-status": (f) => void ((f.response as Response).status_code = 99999),
    "/text-status": (f) => void ((f.response as Response).status_code = "abc" as unknown as number),
    "/split-reason": (f) => void ((f.response as Response).reason = "OK\r\nInjected: 1"),
    "/split-value": (f) => void ((f.response as Response).headers = new Headers([["X-A", "a\r\nInjected: 1"]])),
    "/streamed": (f) => void ((f.response as Response).status_code = 99999),
  };
  const requestEdits: Record<string, (flow: HTTPFlow) => void> = {
    "/split-method": (f) => void (f.request.method = "GET /x HTTP/1.1\r\nInjected: 1"),
    "/spaced-method": (f) => void (f.request.method = "GET X"),
    "/split-name": (f) => void (f.request.headers = new Headers([["X-A\r\nInjected", "1"]])),
  };
  const addon: Addon = {
    name: "unsendable",
    request: (f) => requestEdits[f.request.path]?.(f),
    responseheaders: (f) => void (f.request.path === "/streamed" && ((f.response as Response).stream = true, edits["/streamed"]?.(f))),
    response: (f) => (f.request.path === "/streamed" ? undefined : edits[f.request.path]?.(f)),
  };
  const { proxy, healthy, stillServes } = await setup(t, [addon]);
  const errors: string[] = [];
  await proxy.engine.addons.add({ name: "errors", error: (f) => void errors.push(`${f.request.path}: ${f.error?.msg}`) }, "errors");
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  const expected: Record<string, RegExp> = {
    "/big-status": /^flow\.response\.status_code is 99999, which cannot be sent: a status code is an integer from 100 to 999/,
    "/text-status": /^flow\.response\.status_code is "abc", which cannot be sent/,
    "/split-reason": /^flow\.response\.reason is "OK\\r\\nInjected: 1", which cannot be sent: a reason phrase may not hold CR or LF/,
    "/split-value": /^flow\.response\.headers\["X-A"\] is "a\\r\\nInjected: 1", which cannot be sent/,
    "/streamed": /^flow\.response\.status_code is 99999, which cannot be sent/,
    "/split-method": /^flow\.request\.method is "GET \/x HTTP\/1\.1\\r\\nInjected: 1", which cannot be sent: a method is a token/,
    "/spaced-method": /^flow\.request\.method is "GET X", which cannot be sent/,
    "/split-name": /^a field name in flow\.request\.headers is "X-A\\r\\nInjected", which cannot be sent: a header name is a token/,
  };
  for (const [path, why] of Object.entries(expected)) {
    client.send(`GET http://127.0.0.1:${healthy.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${healthy.port}\r\n\r\n`);
    const res = await client.response();
    assert.equal(res.status, 502, path);
    assert.doesNotMatch(res.head, /Injected/, path);
    assert.match(res.body.toString().replace(/^pryx: /, ""), why, path);
    await waitUntil(() => errors.find((e) => e.startsWith(`${path}: `)), `${path}'s error hook`);
  }
  for (const e of errors) assert.match(e.replace(/^[^:]+: /, ""), expected[e.split(":")[0] as string] as RegExp);
  await stillServes();
});

test("a streamed response without Content-Length that its server resets mid-body ends the client's connection with a reset, not a FIN that made the cut-off body look whole", { timeout: 10_000 }, async (t) => {
  const origin = net.createServer((s) => {
    s.on("error", () => undefined);
    s.once("data", () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n${"a".repeat(5000)}`);
      setTimeout(() => s.resetAndDestroy(), 100);
    });
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const port = (origin.address() as net.AddressInfo).port;
  const proxy = await startProxy({ options: { stream_large_bodies: "1k" } });
  t.after(async () => {
    await proxy.stop();
    await new Promise<void>((r) => origin.close(() => r()));
  });
  const client = net.connect(proxy.port, "127.0.0.1");
  t.after(() => client.destroy());
  const seen = new Promise<string>((resolve) => {
    let bytes = 0;
    client.on("data", (d: Buffer) => (bytes += d.length));
    client.once("end", () => resolve(`FIN after ${bytes > 5000 ? "the body" : bytes} bytes`));
    client.once("error", (e: Error & { code?: string }) => resolve(`${e.code} after ${bytes > 5000 ? "the body" : bytes} bytes`));
  });
  client.write(`GET http://127.0.0.1:${port}/cut HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  assert.equal(await seen, "ECONNRESET after the body bytes");
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /reset the connection after 5000 body bytes/);
});
