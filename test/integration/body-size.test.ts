import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { h2Request, h2ViaProxy, startTlsOrigin } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";
import { flowDetail } from "../../src/engine/flow/detail.ts";
import { formatDetail, formatFlowLine } from "../../src/dump.ts";
import { tabContent } from "../../src/tui/detail-lines.ts";
import { lineArray, lineText } from "../../src/tui/contentviews/index.ts";
import { UNICODE_GLYPHS, flowListCells, flowRowCells, rowLayout } from "../../src/tui/format.ts";

const HALF = 64 * 1024;
const first = crypto.randomBytes(HALF);
const second = crypto.randomBytes(HALF);

/** Resolves with `p`, or fails saying what did not happen in time. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Whether `p` settles within `ms` (for what must not happen). */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  return within(p.then(() => true), ms, "").catch(() => false);
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

/** An origin that sends the first half of its body, then holds the second until `release`. */
async function holdingOrigin(framing: "content-length" | "chunked") {
  const release = signal();
  const origin = await startHttpOrigin((_req, res) => {
    res.writeHead(200, framing === "content-length" ? { "content-length": String(2 * HALF) } : {});
    res.write(first);
    void release.promise.then(() => res.end(second));
  });
  return { origin, release: release.fire };
}

/** GET through the proxy: resolves the first body bytes and, separately, the whole body. */
function getThrough(proxyPort: number, url: string): { firstData: Promise<void>; body: Promise<Buffer>; req: http.ClientRequest } {
  const got = signal();
  let req!: http.ClientRequest;
  const body = new Promise<Buffer>((resolve, reject) => {
    req = http.get({ host: "127.0.0.1", port: proxyPort, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => {
        chunks.push(d);
        got.fire();
      });
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  body.catch(() => undefined);
  return { firstData: got.promise, body, req };
}

for (const framing of ["content-length", "chunked"] as const) {
  test(`stream_large_bodies: a large response (${framing}) reaches the client before the origin has finished`, { timeout: 15_000 }, async (t) => {
    const { origin, release } = await holdingOrigin(framing);
    const proxy = await startProxy({ options: { stream_large_bodies: "16k" } });
    closeAfter(t, proxy, origin);
    const { firstData, body } = getThrough(proxy.port, `http://127.0.0.1:${origin.port}/big`);
    // The origin holds the second half until the client has seen the first: buffering would wait forever.
    await within(firstData, 3000, "the first half did not reach the client while the origin held the rest");
    release();
    assert.ok(Buffer.concat([first, second]).equals(await body));
    const [flow] = await proxy.waitFinished(1);
    assert.equal(flow?.status, 200);
    assert.equal(flow?.error, undefined);
    // Streamed, the body is not stored (mitmproxy's store_streamed_bodies is off by default): it has no size.
    assert.equal(flow?.respSize, undefined);
  });
}

test("under the stream_large_bodies threshold the same response is buffered: nothing reaches the client before the origin finishes", { timeout: 15_000 }, async (t) => {
  const { origin, release } = await holdingOrigin("content-length");
  const proxy = await startProxy({ options: { stream_large_bodies: "1m" } });
  closeAfter(t, proxy, origin);
  const { firstData, body } = getThrough(proxy.port, `http://127.0.0.1:${origin.port}/big`);
  assert.equal(await settles(firstData, 400), false);
  release();
  assert.equal((await body).length, 2 * HALF);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.respSize, 2 * HALF);
});

for (const framing of ["content-length", "chunked"] as const) {
  test(`stream_large_bodies: a large request (${framing}) reaches the origin before the client has sent all of it`, { timeout: 15_000 }, async (t) => {
    const originGotData = signal();
    const origin = await startHttpOrigin((req, res) => {
      let n = 0;
      req.on("data", (d: Buffer) => {
        n += d.length;
        originGotData.fire();
      });
      req.on("end", () => res.end(String(n)));
    });
    const proxy = await startProxy({ options: { stream_large_bodies: "16k" } });
    closeAfter(t, proxy, origin);
    const url = `http://127.0.0.1:${origin.port}/upload`;
    const headers: Record<string, string> = { host: new URL(url).host };
    if (framing === "content-length") headers["content-length"] = String(2 * HALF);
    const answer = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: proxy.port, method: "POST", path: url, headers, agent: false }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.write(first);
      // The second half goes only once the origin has seen the first.
      void within(originGotData.promise, 3000, "the origin got nothing while the client held the rest").then(() => req.end(second), reject);
    });
    assert.equal(await answer, String(2 * HALF));
    const [flow] = await proxy.waitFinished(1);
    assert.equal(flow?.reqSize, 0);
  });
}

test("body_size_limit: a request whose Content-Length is over it gets 413, closes, and never reaches the origin", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const proxy = await startProxy({ options: { body_size_limit: "1k" } });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  client.send(`POST http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: 5000\r\n\r\n${"x".repeat(100)}`);
  const res = await client.response();
  assert.equal(res.status, 413);
  assert.match(res.head, /\r\nConnection: close\r\n/i);
  assert.match(res.body.toString(), /Request body exceeds body_size_limit \(1024 bytes\)/);
  await client.whenClosed();
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /^Request body exceeds body_size_limit/);
  assert.equal(origin.connections, 0);
});

test("body_size_limit with Expect: 100-continue: a declared length over it gets 413 at once, never a 100 Continue, so the client sends nothing for nothing", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const proxy = await startProxy({ options: { body_size_limit: "1k" } });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  client.send(`POST http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n`);
  const res = await client.response();
  assert.equal(res.status, 413, "the first answer is the refusal, not 100 Continue");
  assert.match(res.body.toString(), /Request body exceeds body_size_limit \(1024 bytes\)/);
  await client.whenClosed();
  assert.equal(origin.connections, 0);
});

test("body_size_limit: a chunked request is refused once more than the limit has arrived", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const proxy = await startProxy({ options: { body_size_limit: "4k" } });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  client.send(`POST http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\n\r\n`);
  for (let i = 0; i < 3; i++) client.send(`800\r\n${"y".repeat(0x800)}\r\n`);
  const res = await client.response();
  assert.equal(res.status, 413);
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /^Request body exceeds body_size_limit \(4096 bytes\)/);
  assert.equal(origin.connections, 0);
});

for (const framing of ["content-length", "chunked"] as const) {
  test(`body_size_limit: a response (${framing}) over it ends the flow with 502 and the error`, { timeout: 10_000 }, async (t) => {
    const big = crypto.randomBytes(100 * 1024);
    const origin = await startHttpOrigin((req, res) => {
      if (req.url === "/small") return void res.end("small");
      if (framing === "content-length") res.setHeader("content-length", big.length);
      for (let i = 0; i < big.length; i += 8192) res.write(big.subarray(i, i + 8192));
      res.end();
    });
    const proxy = await startProxy({ options: { body_size_limit: "10k" } });
    closeAfter(t, proxy, origin);
    const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/big`);
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /Response body exceeds body_size_limit \(10240 bytes\)/);
    // A body under the limit passes as ever.
    assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/small`)).body.toString(), "small");
    const flows = await proxy.waitFinished(2);
    assert.match(flows[0]?.error ?? "", /^Response body exceeds body_size_limit/);
    assert.equal(flows[1]?.error, undefined);
  });
}

test("body_size_limit is checked before stream_large_bodies: a body over both is refused, not streamed", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end(Buffer.alloc(50 * 1024)));
  const proxy = await startProxy({ options: { body_size_limit: "20k", stream_large_bodies: "1k" } });
  closeAfter(t, proxy, origin);
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`)).status, 502);
});

test("body_size_limit over HTTP/2 both ways: 413 and 502 end only their own streams, upstream and downstream", { timeout: 15_000 }, async (t) => {
  const big = crypto.randomBytes(64 * 1024);
  const origin = await startTlsOrigin((req, res) => void res.end(req.path === "/big" ? big : "small"), "h2");
  const proxy = await startProxy({ options: { body_size_limit: "10k", ssl_insecure: "true" } });
  const { session } = await h2ViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test" });
  t.after(async () => {
    session.destroy();
    await proxy.stop();
    await origin.close();
  });
  const tooBig = await h2Request(session, { path: "/big" });
  assert.equal(tooBig.status, 502);
  assert.match(tooBig.body.toString(), /Response body exceeds body_size_limit/);
  const upload = await h2Request(session, { method: "POST", path: "/upload", body: crypto.randomBytes(20 * 1024) });
  assert.equal(upload.status, 413);
  // The same client session goes on, over the same server session: only the big stream was cancelled.
  assert.equal((await h2Request(session, { path: "/small" })).body.toString(), "small");
  assert.equal(origin.connections, 1);
  assert.deepEqual(origin.requests.map((r) => r.path), ["/big", "/small"]);
});

test("a streamed upload to a server that reads slowly holds the client (backpressure) instead of pryx buffering it", { timeout: 20_000 }, async (t) => {
  const total = 48 * 1024 * 1024;
  let received = 0;
  let originStartedReading = 0;
  const origin = await startHttpOrigin((req, res) => {
    // The server takes its time before it reads the body at all.
    req.pause();
    setTimeout(() => {
      originStartedReading = Date.now();
      req.on("data", (c: Buffer) => (received += c.length));
      req.on("end", () => res.end(`got ${received}`));
      req.resume();
    }, 1500);
  });
  const proxy = await startProxy({ options: { stream_large_bodies: "1m" } });
  closeAfter(t, proxy, origin);
  const started = Date.now();
  let clientDone = 0;
  const answer = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: proxy.port, method: "POST", path: `http://127.0.0.1:${origin.port}/upload`, headers: { "content-length": String(total) } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      req.end(() => (clientDone = Date.now()));
    };
    pump();
  });
  assert.equal(answer, `got ${total}`);
  assert.ok(originStartedReading - started >= 1400);
  assert.ok(clientDone >= originStartedReading, `the client could send its last byte only after the server began to read (${clientDone - started} ms vs ${originStartedReading - started} ms)`);
});

test("store_streamed_bodies: a streamed upload and a streamed answer are in their flow too, byte for byte; off, they are not", { timeout: 15_000 }, async (t) => {
  const upload = crypto.randomBytes(3 * HALF);
  const answer = crypto.randomBytes(3 * HALF);
  const origin = await startHttpOrigin((req, res) => {
    req.resume();
    req.on("end", () => res.end(answer));
  });
  const proxy = await startProxy({ options: { stream_large_bodies: "10k", store_streamed_bodies: "true" } });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/big`;
  const res = await viaProxy(proxy.port, url, { method: "POST", body: upload });
  assert.ok(res.body.equals(answer), "the client got the answer whole");
  const [kept] = await proxy.waitFinished(1);
  const flow = proxy.engine.store.get(kept?.id ?? "") as HTTPFlow;
  assert.ok(flow.request.stream && flow.response?.stream, "both were streamed");
  assert.ok(Buffer.from(flow.request.raw_content ?? []).equals(upload), "the upload is in the flow");
  assert.ok(Buffer.from(flow.response?.raw_content ?? []).equals(answer), "the answer is in the flow");

  proxy.engine.options.setText("store_streamed_bodies", "false");
  await viaProxy(proxy.port, url, { method: "POST", body: upload });
  const [, dropped] = await proxy.waitFinished(2);
  const plain = proxy.engine.store.get(dropped?.id ?? "") as HTTPFlow;
  assert.equal(plain.request.raw_content, undefined);
  assert.equal(plain.response?.raw_content, undefined);
});

test("a streamed body not kept says \"content missing\" in dump's line and detail and in the console's rows, as mitmproxy's do, not a size of 0", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => {
    req.resume();
    req.on("end", () => res.end(Buffer.alloc(3 * HALF, "x")));
  });
  const proxy = await startProxy({ options: { stream_large_bodies: "10k" } });
  closeAfter(t, proxy, origin);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/big`, { method: "POST", body: "small upload" });
  const [summary] = await proxy.waitFinished(1);
  assert.match(formatFlowLine(summary!), /<< 200 OK \(content missing\) \d+ms$/);
  const full = flowDetail(proxy.engine.store.get(summary!.id)!, summary!, 4096, 0);
  const detail = formatDetail(full, 3);
  assert.deepEqual(detail.slice(detail.indexOf(" << 200 OK")).filter((l) => /content|^$/i.test(l)), ["    Content-Length: 196608", "", "    content missing"]);
  assert.ok(detail.includes("    small upload"), "the request's kept body is still shown");
  const row = (width: number) => flowRowCells(summary!, false, rowLayout(width), UNICODE_GLYPHS).map((c) => c.text).join("");
  assert.match(row(140), /200 \[content missing\] +\d+ms/);
  assert.match(row(80), /200 \[missing\] +\d+ms/);
  const responseTab = lineArray(tabContent("response", full, { mode: "auto", maxLines: 100, glyphs: UNICODE_GLYPHS }).lines).map(lineText);
  assert.equal(responseTab.at(-1), "[content missing]");
  assert.match(flowListCells(summary!, false, 120, UNICODE_GLYPHS)[1].map((c) => c.text).join(""), /200 \[content missing\] \d+ms/);
});

test("a streamed upload its server answers early (a 401 before the body ends): one response reaches the client, the request hook still fires, and the connection stays in step", { timeout: 15_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => {
    if (req.url === "/upload") {
      res.writeHead(401, { "content-type": "text/plain", "content-length": "13" });
      res.end("early answer!");
      req.resume();
      return;
    }
    res.end(`next ${req.url}`);
  });
  const hooks: string[] = [];
  const proxy = await startProxy({ options: { stream_large_bodies: "10" }, addons: [{ name: "seen", request: (f: { request: { path: string } }) => void hooks.push(`request ${f.request.path}`), response: (f: { request: { path: string } }) => void hooks.push(`response ${f.request.path}`) }] });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  const piece = "x".repeat(20_000);
  client.send(`POST http://127.0.0.1:${origin.port}/upload HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: ${piece.length * 3}\r\n\r\n${piece}`);
  // The rest of the body comes after the server has answered, as an uploading client sends it.
  await waitUntil(() => proxy.engine.store.all().some((f) => (f as { response?: unknown }).response !== undefined), "the server's early answer");
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
    client.send(piece);
  }
  const first = await client.response();
  assert.equal(first.status, 401);
  assert.equal(first.body.toString(), "early answer!", first.head);
  client.send(`GET http://127.0.0.1:${origin.port}/next HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  const second = await client.response();
  assert.equal(second.status, 200, "the next answer is the GET's, not a second copy of the 401");
  assert.equal(second.body.toString(), "next /next");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(client.pending.length, 0, "nothing more came");
  await proxy.waitFinished(2);
  assert.deepEqual(hooks.filter((h) => h.endsWith("/upload")).sort(), ["request /upload", "response /upload"]);
});
