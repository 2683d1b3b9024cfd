import { test, type TestContext } from "node:test";
import https from "node:https";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { portOf, startProxy, testConfdir, type TestProxy } from "../helpers/proxy.ts";
import { h2Request, h2ViaProxy, httpsViaProxy, originCertificate, startTlsOrigin, tlsViaProxy, type TlsOrigin } from "../helpers/tls-origin.ts";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { hookRecorder } from "../helpers/hook-recorder.ts";
import { Headers } from "../../src/engine/flow/headers.ts";
import { waitUntil } from "../helpers/wait.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import type { FlowDetail, FlowSummary } from "../../src/protocol.ts";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const insecure = { ssl_insecure: "true" };
const CURL = "/usr/bin/curl";

/**
 * A proxy (with `addons` and `options`, not verifying the origin's certificate) and an h2 client session through it
 * to `origin` as app.test; session, proxy and origin are closed when the test ends.
 */
async function h2SessionVia(t: TestContext, origin: TlsOrigin, addons: Addon[] = [], options: Record<string, string> = {}) {
  const proxy = await startProxy({ addons, options: { ...insecure, ...options } });
  const { session } = await h2ViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test" });
  t.after(async () => {
    session.destroy();
    await proxy.stop();
    await origin.close();
  });
  return { proxy, session };
}

/** The one flow a save_stream_file holds, once the proxy has written it. */
async function savedFlow(file: string): Promise<HTTPFlow> {
  const { readFlows } = await import("../../src/engine/save-stream.ts");
  const back: HTTPFlow[] = [];
  await waitUntil(() => {
    back.length = 0;
    readFlows(file, (f) => back.push(f as HTTPFlow));
    return back.length === 1;
  }, "the flow in the file");
  return back[0]!;
}

/** A finished flow as the console's Response tab shows it (its lines) and as dump's detail has it. */
async function responseViews(proxy: TestProxy, summary: FlowSummary): Promise<{ detail: FlowDetail; tab: string[] }> {
  const { flowDetail } = await import("../../src/engine/flow/detail.ts");
  const { tabContent } = await import("../../src/tui/detail-lines.ts");
  const { lineText } = await import("../../src/tui/contentviews/index.ts");
  const { UNICODE_GLYPHS } = await import("../../src/tui/format.ts");
  const detail = flowDetail(proxy.engine.store.get(summary.id)!, summary, 1024, 0);
  const tab = tabContent("response", detail, { mode: "auto", maxLines: 100, glyphs: UNICODE_GLYPHS } as Parameters<typeof tabContent>[2]);
  return { detail, tab: [...tab.lines].map(lineText) };
}

/**
 * An HTTP/2 server of the test's own, on node:http2's streams rather than its compat API. Its
 * close() ends its sessions first (pryx keeps one open): a plain close waits for them to go idle.
 */
async function rawH2Server(onStream: (stream: http2.ServerHttp2Stream) => void): Promise<{ port: number; close(): Promise<void> }> {
  const cert = originCertificate();
  const server = http2.createSecureServer({ key: cert.keyPem, cert: cert.certPem });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (open) => sessions.add(open));
  server.on("stream", onStream);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const open of sessions) open.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A proxy (with `options`, not verifying the origin's certificate, recording each `error` hook's
 * message) and an h2 client session through it to a rawH2Server of `onStream`; all closed when
 * the test ends.
 */
async function rawH2Via(t: TestContext, onStream: (stream: http2.ServerHttp2Stream) => void, options: Record<string, string> = {}) {
  const { port, close } = await rawH2Server(onStream);
  const errors: string[] = [];
  const proxy = await startProxy({ addons: [{ error: (f: HTTPFlow) => void errors.push(f.error?.msg ?? "") }], options: { ...insecure, ...options } });
  const { session } = await h2ViaProxy(proxy.port, { target: `127.0.0.1:${port}`, servername: "localhost" });
  t.after(async () => {
    session.destroy();
    await proxy.stop();
    await close();
  });
  return { proxy, session, errors };
}

test("node:http2 through the proxy to an h2 origin: an HTTP/2 flow, both bodies intact", { timeout: 15_000 }, async (t) => {
  const answer = randomBytes(300 * 1024);
  const origin = await startTlsOrigin((req, res) => {
    res.setHeader("x-got-sha256", sha256(req.body));
    res.setHeader("x-origin-version", req.httpVersion);
    res.end(answer);
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const upload = randomBytes(200 * 1024);
  const res = await h2Request(session, { method: "POST", path: "/h2?q=1", body: upload });
  assert.equal(res.status, 200);
  assert.equal(res.headers["x-got-sha256"], sha256(upload));
  assert.equal(res.headers["x-origin-version"], "2.0", "pryx spoke h2 to the origin");
  assert.equal(sha256(res.body), sha256(answer));
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.httpVersion, "HTTP/2.0");
  assert.equal(flow?.url, `https://app.test:${origin.port}/h2?q=1`);
  assert.equal(flow?.host, "app.test");
  assert.equal(flow?.respSize, answer.length);
});

test("an h2 client reaches an HTTP/1.1-only origin: pryx falls back to HTTP/1.1 upstream", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => {
    // No Content-Length: the origin answers chunked, with Connection/Keep-Alive fields h2 forbids.
    res.setHeader("content-type", "text/plain");
    res.write(`origin spoke HTTP/${req.httpVersion}; `);
    res.end(`path ${req.path}`);
  }, "h1");
  const { proxy, session } = await h2SessionVia(t, origin);
  const first = await h2Request(session, { path: "/one" });
  const second = await h2Request(session, { path: "/two" });
  assert.equal(first.status, 200);
  assert.equal(first.body.toString(), "origin spoke HTTP/1.1; path /one");
  assert.equal(second.body.toString(), "origin spoke HTTP/1.1; path /two");
  assert.equal(first.headers["content-type"], "text/plain");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.httpVersion), ["HTTP/2.0", "HTTP/2.0"], "the client side was HTTP/2");
  const detail = proxy.engine.store.get(flows[0]?.id ?? "") as HTTPFlow;
  assert.equal(detail.response?.http_version, "HTTP/1.1", "the server side was HTTP/1.1");
});

test("streams an h2 client opens one after another to an HTTP/1.1-only origin each get their own answer: none is lost on a connection another took", { timeout: 20_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => {
    // A little time on each, so that connections are busy while the next streams arrive.
    setTimeout(() => res.end(`answer to ${req.path}`), 5);
  }, "h1");
  const { proxy, session } = await h2SessionVia(t, origin);
  const answers: Promise<{ status: number; body: Buffer }>[] = [];
  for (let i = 0; i < 20; i++) {
    answers.push(h2Request(session, { path: `/item/${i}` }));
    await new Promise((r) => setTimeout(r, i % 3));
  }
  const all = await Promise.race([
    Promise.all(answers),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("some streams got no answer within 8 s")), 8000)),
  ]);
  assert.deepEqual(all.map((a) => a.body.toString()), Array.from({ length: 20 }, (_, i) => `answer to /item/${i}`));
  await proxy.waitFinished(20);
});

for (const streamed of [false, true]) {
  test(`an h2 request body without Content-Length reaches an HTTP/1.1-only origin framed, twice on one connection${streamed ? " (streamed: chunked)" : " (Content-Length added)"}`, { timeout: 15_000 }, async (t) => {
    const seen: { framing: string; sha: string }[] = [];
    const origin = await startTlsOrigin((req, res) => {
      seen.push({ framing: req.headers["content-length"] !== undefined ? "length" : String(req.headers["transfer-encoding"]), sha: sha256(req.body) });
      res.end(`got ${req.body.length}`);
    }, "h1");
    const { session } = await h2SessionVia(t, origin, [], streamed ? { stream_large_bodies: "1k" } : {});
    const uploads = [randomBytes(40 * 1024), randomBytes(3000)];
    for (const upload of uploads) {
      const res = await h2Request(session, { method: "POST", path: "/up", body: upload });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), `got ${upload.length}`);
    }
    assert.deepEqual(seen, uploads.map((u) => ({ framing: streamed ? "chunked" : "length", sha: sha256(u) })));
  });
}

test("an h2 request's cookies, one field each, reach an HTTP/1.1 origin as one Cookie header (RFC 9113 8.2.3)", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(JSON.stringify(req.rawHeaders.flatMap((v, i) => (i % 2 === 1 && req.rawHeaders[i - 1]?.toLowerCase() === "cookie" ? [v] : [])))), "h1");
  const { session } = await h2SessionVia(t, origin);
  const stream = session.request({ ":method": "GET", ":path": "/c", cookie: ["a=1", "b=2"] });
  const chunks: Buffer[] = [];
  stream.on("data", (d: Buffer) => chunks.push(d));
  await new Promise((r) => stream.on("end", r));
  assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), ["a=1; b=2"], "one Cookie field line");
});

for (const streamed of [false, true]) {
  test(`an h2 response's trailers (gRPC's status) reach the h2 client${streamed ? ", the body streamed" : ""}`, { timeout: 15_000 }, async (t) => {
    const origin = await startTlsOrigin((req, res) => {
      res.setHeader("content-type", "application/grpc");
      if (req.path !== "/none") res.addTrailers({ "grpc-status": "0", "grpc-message": "ok" });
      res.end(Buffer.alloc(streamed ? 4096 : 5, 1));
    }, "h2");
    const { session } = await h2SessionVia(t, origin, [], streamed ? { stream_large_bodies: "1k" } : {});
    const stream = session.request({ ":method": "POST", ":path": "/pkg.Svc/Call", "content-type": "application/grpc" });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
    let trailers: Record<string, unknown> | undefined;
    stream.on("trailers", (h) => (trailers = h));
    let size = 0;
    stream.on("data", (d: Buffer) => (size += d.length));
    await new Promise((r) => stream.on("end", r));
    assert.equal(size, streamed ? 4096 : 5);
    assert.equal(trailers?.["grpc-status"], "0");
    assert.equal(trailers?.["grpc-message"], "ok");
    // A response without trailers still ends cleanly.
    const plain = await h2Request(session, { path: "/none" });
    assert.equal(plain.status, 200);
  });
}

test("a gRPC call's te: trailers and trailer fields reach the h2 server (gRPC servers refuse a call without te); te: trailers reaches an HTTP/1.1 origin, any other TE does not", { timeout: 15_000 }, async (t) => {
  const seen: http2.IncomingHttpHeaders[] = [];
  const origin = await startTlsOrigin((req, res) => {
    seen.push(req.headers);
    res.end("ok");
  }, "h2");
  const { session } = await h2SessionVia(t, origin);
  const stream = session.request({ ":method": "POST", ":path": "/pkg.Svc/Call", "content-type": "application/grpc", te: "trailers", trailer: "grpc-status" });
  stream.end(Buffer.from([0, 0, 0, 0, 0]));
  stream.resume();
  await new Promise((r) => stream.on("end", r));
  assert.equal(seen[0]?.["te"], "trailers");
  assert.equal(seen[0]?.["trailer"], "grpc-status");

  const h1: http2.IncomingHttpHeaders[] = [];
  const plain = await startTlsOrigin((req, res) => {
    h1.push(req.headers);
    res.end("ok");
  });
  t.after(() => plain.close());
  const proxy = await startProxy({ options: insecure });
  t.after(() => proxy.stop());
  for (const te of ["trailers", "gzip"]) {
    await httpsViaProxy(proxy.port, { target: `127.0.0.1:${plain.port}`, servername: "app.test", path: `/${te}`, headers: { te } });
  }
  assert.equal(h1[0]?.["te"], "trailers");
  assert.equal(h1[1]?.["te"], undefined, "TE naming a transfer coding is for the hop to pryx");
});

test("request and response hooks change HTTP/2 traffic as they do HTTP/1", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`hello; x-added=${String(req.headers["x-added"])}`);
  }, "h2");
  const rewriter: Addon = {
    name: "rewriter",
    request(flow: HTTPFlow) {
      flow.request.headers.set("X-Added", "by-addon");
    },
    response(flow: HTTPFlow) {
      if (flow.response) flow.response.text = `${flow.response.text ?? ""} (and a longer rewritten tail)`;
    },
  };
  const { session } = await h2SessionVia(t, origin, [rewriter]);
  const res = await h2Request(session, { path: "/hooked" });
  const expected = "hello; x-added=by-addon (and a longer rewritten tail)";
  assert.equal(res.body.toString(), expected);
  assert.equal(res.headers["content-length"], String(Buffer.byteLength(expected)));
  assert.equal(origin.requests[0]?.httpVersion, "2.0");
});

test("curl --http2 through the proxy gets the body over HTTP/2", { timeout: 15_000, skip: fs.existsSync(CURL) ? false : "no /usr/bin/curl" }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("hello curl"), "both");
  const proxy = await startProxy({ options: insecure });
  closeAfter(t, proxy, origin);
  // Async: the proxy runs in this process, so a blocking spawn would starve it.
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      CURL,
      ["-sS", "--http2", "--cacert", path.join(testConfdir(), "pryx-ca-cert.pem"), "-x", `http://127.0.0.1:${proxy.port}`, "-w", "\n%{http_version}", `https://localhost:${origin.port}/c`],
      { timeout: 10_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`curl failed: ${stderr}`)) : resolve(stdout)),
    );
  });
  assert.equal(out, "hello curl\n2");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.httpVersion, "HTTP/2.0");
  assert.equal(flow?.url, `https://localhost:${origin.port}/c`);
  assert.equal(origin.requests[0]?.httpVersion, "2.0");
});

test("streams of one h2 connection are independent: a request held 1 s does not hold up the next", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`done ${req.path}`), "h2");
  const holder: Addon = {
    name: "holder",
    async request(flow: HTTPFlow) {
      if (flow.request.path === "/slow") await new Promise((r) => setTimeout(r, 1000));
    },
  };
  const { session } = await h2SessionVia(t, origin, [holder]);
  const order: string[] = [];
  const started = Date.now();
  const track = (p: string): Promise<number> =>
    h2Request(session, { path: p }).then((r) => {
      assert.equal(r.body.toString(), `done ${p}`);
      order.push(p);
      return Date.now() - started;
    });
  const slow = track("/slow");
  const fast = track("/fast");
  const [slowMs, fastMs] = await Promise.all([slow, fast]);
  assert.deepEqual(order, ["/fast", "/slow"]);
  assert.ok(fastMs < 800, `the other stream finished in ${fastMs} ms`);
  assert.ok(slowMs >= 950, `the held stream took ${slowMs} ms`);
});

test("a streamed h2 response its client does not read holds up only its own stream upstream", { timeout: 15_000 }, async (t) => {
  const big = randomBytes(4 * 1024 * 1024);
  const origin = await startTlsOrigin((req, res) => res.end(req.path === "/big" ? big : "small answer"), "h2");
  const streamer: Addon = {
    name: "streamer",
    responseheaders(flow: HTTPFlow) {
      if (flow.response) flow.response.stream = true;
    },
  };
  const { session } = await h2SessionVia(t, origin, [streamer]);
  const slow = session.request({ ":path": "/big" });
  slow.on("error", () => undefined);
  const slowChunks: Buffer[] = [];
  // The client reads one chunk, then stops: pryx's writes to it back up, and pryx holds the server's stream.
  await new Promise<void>((resolve) => slow.once("data", (c: Buffer) => (slowChunks.push(c), slow.pause(), resolve())));
  await new Promise((r) => setTimeout(r, 300));
  const other = await Promise.race([h2Request(session, { path: "/small" }), new Promise<"stuck">((r) => setTimeout(() => r("stuck"), 3000))]);
  assert.notEqual(other, "stuck", "a stream of the same upstream session answered while the other was held");
  assert.equal(other !== "stuck" && other.body.toString(), "small answer");
  slow.on("data", (c: Buffer) => slowChunks.push(c));
  slow.resume();
  await new Promise((r) => slow.once("end", r));
  assert.equal(sha256(Buffer.concat(slowChunks)), sha256(big), "the held stream's body arrived whole once read");
});

test("an h2 client resetting a stream resets the server's stream too; the flow says the client reset it", { timeout: 15_000 }, async (t) => {
  let originSawClose: (() => void) | undefined;
  const originClosed = new Promise<void>((r) => (originSawClose = r));
  // An endless response (a stream of events): only a reset ends it.
  const origin = await startTlsOrigin((_req, res) => {
    res.on("close", () => originSawClose?.());
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: first\n\n");
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const stream = session.request({ ":path": "/events" });
  stream.on("error", () => undefined);
  // pryx buffers the response, so the client sees nothing yet: it gives up once the origin answered.
  while (origin.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  stream.close(0x8); // CANCEL
  const closedInTime = await Promise.race([originClosed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  assert.ok(closedInTime, "the origin's stream was reset within 3 s, not kept open");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.error, "client reset the stream");
  // The session's other streams still work.
  const res = await h2Request(session, { path: "/events-again" }).catch((e: Error) => e);
  assert.ok(!(res instanceof Error));
});

test("an h2 client that goes away with a request in progress: the flow's error hook, then client_disconnected, as over HTTP/1 and in mitmproxy", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => {
    res.writeHead(200);
    res.write("never ends");
  }, "h2");
  const { addon, hooks } = hookRecorder("error", "client_disconnected");
  const { proxy, session } = await h2SessionVia(t, origin, [addon]);
  session.request({ ":path": "/slow" }).on("error", () => undefined);
  while (origin.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  session.destroy();
  await waitUntil(() => hooks.length === 2, "both hooks");
  assert.deepEqual(hooks, ["error", "client_disconnected"]);
  assert.equal((await proxy.waitFinished(1))[0]?.error, "client reset the stream");
});

test("headers an addon builds from bytes, as a script ported from mitmproxy does (Headers([(b\"x-tr\", b\"v\")])), reach the h2 client: response trailers here; they crashed the stream, which then hung", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("body"), "h2");
  const addon: Addon = {
    response(f: HTTPFlow) {
      if (f.response) f.response.trailers = new Headers(f.request.path === "/bad" ? [["bad name", "v"]] : [[Buffer.from("x-tr"), Buffer.from("v\xff", "latin1")]]);
    },
  };
  const { session } = await h2SessionVia(t, origin, [addon]);
  const stream = session.request({ ":path": "/t" });
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "body");
  assert.equal(Buffer.from(String((await trailers)["x-tr"]), "latin1").toString("latin1"), "v\xff");
  // A trailer that cannot be sent (its name is no token) fails the flow with a 502 naming it, rather than leaving the stream open.
  const bad = await h2Request(session, { path: "/bad" });
  assert.equal(bad.status, 502);
  assert.match(bad.body.toString(), /a field name in flow\.response\.trailers is "bad name", which cannot be sent/);
});

test("a request trailer that cannot be sent to an h2 server (an addon's, its name no token) fails the flow with a 502 naming it, not a request left open", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`got ${req.body.length}`), "h2");
  const addon: Addon = { request: (f: HTTPFlow) => void (f.request.trailers = new Headers([["bad name", "v"]])) };
  const { proxy, session } = await h2SessionVia(t, origin, [addon]);
  const res = await h2Request(session, { path: "/up", method: "POST", body: Buffer.from("abc") });
  assert.equal(res.status, 502);
  assert.match((await proxy.waitFinished(1))[0]?.error ?? "", /a field name in flow\.request\.trailers is "bad name", which cannot be sent/);
});

test("a stream reset before any response, by the client or by the server, ends the flow with an error", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => {
    const h2res = res as unknown as { stream: { close(code: number): void } };
    if (req.path === "/server-resets") h2res.stream.close(0x8);
    else setTimeout(() => res.end("too late"), 1500);
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const byServer = await h2Request(session, { path: "/server-resets" }).catch((e: Error) => e);
  assert.ok(byServer instanceof Error || byServer.status === 502, "the client learns the server reset the stream");
  const stream = session.request({ ":path": "/client-resets" });
  stream.on("error", () => undefined);
  stream.end();
  setTimeout(() => stream.close(0x8), 300);
  const flows = await proxy.waitFinished(2, 1200);
  const byPath = new Map(flows.map((f) => [f.path, f.error]));
  assert.match(byPath.get("/server-resets") ?? "", /reset the HTTP\/2 stream \(CANCEL\)/, "the server's own code, by its name");
  assert.equal(byPath.get("/client-resets"), "client reset the stream", "finished at the reset, not when the server answers");
});

test("a server resetting one stream fails that flow alone: the other streams of the session go on, and a PUT beside it reaches the server once", { timeout: 15_000 }, async (t) => {
  const puts: string[] = [];
  const origin = await startTlsOrigin((req, res) => {
    if (req.path === "/reset") return (res as unknown as { stream: { close(code: number): void } }).stream.close(0x2);
    if (req.method === "PUT") puts.push(req.path);
    setTimeout(() => res.end(`done ${req.path}`), req.path === "/slow" ? 400 : 0);
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  // One session to the server first, for the streams that follow to share.
  assert.equal((await h2Request(session, { path: "/warm" })).status, 200);
  const slow = h2Request(session, { path: "/slow", method: "PUT", body: "payload" });
  await new Promise((r) => setTimeout(r, 50));
  const reset = await h2Request(session, { path: "/reset" }).catch((e: Error) => e);
  assert.ok(reset instanceof Error || reset.status === 502, "the reset stream fails");
  const answered = await slow;
  assert.equal(answered.status, 200);
  assert.equal(answered.body.toString(), "done /slow");
  assert.deepEqual(puts, ["/slow"], "the PUT reached the server once, not again on a new connection");
  const flows = await proxy.waitFinished(3);
  assert.match(flows.find((f) => f.path === "/reset")?.error ?? "", /INTERNAL_ERROR/);
  assert.equal(flows.find((f) => f.path === "/slow")?.error, undefined);
});

test("a burst of streams on a new client connection shares one HTTP/2 connection to the server, as a browser's page load needs", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`ok ${req.path}`), "h2");
  const { session } = await h2SessionVia(t, origin);
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => h2Request(session, { path: `/burst/${i}` })));
  assert.deepEqual(answers.map((a) => a.body.toString()), Array.from({ length: 30 }, (_, i) => `ok /burst/${i}`));
  assert.equal(origin.connections, 1, "one connection to the server for the 30 streams");
});

test("HTTP/2 messages with hundreds of header fields pass both ways, as mitmproxy passes them (Node's default refused more than ~125)", { timeout: 15_000 }, async (t) => {
  // The origin and the client take as many fields as pryx now does, so only pryx's limit is tested.
  const limits = { maxHeaderListPairs: 2000 };
  const cert = originCertificate();
  const origin = http2.createSecureServer({ key: cert.keyPem, cert: cert.certPem, ...limits });
  origin.on("stream", (stream, headers) => {
    const fields: Record<string, string | number> = { ":status": 200 };
    for (let i = 0; i < 300; i++) fields[`x-res-${i}`] = `v${i}`;
    stream.respond(fields);
    stream.end(`${Object.keys(headers).filter((k) => k.startsWith("x-req-")).length} fields came`);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ options: insecure });
  const socket = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${(origin.address() as AddressInfo).port}`, servername: "app.test", alpn: ["h2"] });
  const session = http2.connect("https://app.test", { createConnection: () => socket, ...limits });
  session.on("error", () => undefined);
  t.after(async () => {
    session.destroy();
    await proxy.stop();
    await new Promise<void>((r) => origin.close(() => r()));
  });
  const headers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-req-${i}`, `v${i}`]));
  const res = await h2Request(session, { path: "/many", headers });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "300 fields came");
  assert.equal(Object.keys(res.headers).filter((k) => k.startsWith("x-res-")).length, 300);
});

test("pryx asks servers for no HTTP/2 server push (as mitmproxy does): pushed responses would be fetched for no client and dropped", { timeout: 15_000 }, async (t) => {
  let push: boolean | undefined;
  const origin = await startTlsOrigin((_req, res) => {
    push = (res as unknown as http2.Http2ServerResponse).stream.session?.remoteSettings.enablePush;
    res.end("ok");
  }, "h2");
  const { session } = await h2SessionVia(t, origin);
  assert.equal((await h2Request(session, { path: "/" })).status, 200);
  assert.equal(push, false);
});

test("Expect: 100-continue over HTTP/2 is answered, so a client that waits for it (curl does, a second) sends its body at once; the server sees no Expect", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`${req.body.toString()} expect=${String(req.headers["expect"])}`), "h2");
  const { session } = await h2SessionVia(t, origin);
  const stream = session.request({ ":method": "POST", ":path": "/upload", expect: "100-continue" }, { endStream: false });
  const continued = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    stream.once("continue", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  assert.equal(continued, true, "a 100 Continue came");
  stream.end("the body");
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "the body expect=undefined");
});

test("an h2 client gets a 103 Early Hints with its Link header before the final response, from an HTTP/1.1 origin and from an h2 one", { timeout: 15_000 }, async (t) => {
  const link = "</style.css>; rel=preload; as=style";
  for (const protocols of ["h1", "h2"] as const) {
    const origin = await startTlsOrigin((_req, res) => {
      res.writeEarlyHints({ link });
      res.end("final");
    }, protocols);
    const { session } = await h2SessionVia(t, origin);
    const stream = session.request({ ":path": "/page" });
    const interim: http2.IncomingHttpHeaders[] = [];
    stream.on("headers", (h) => interim.push(h));
    const final = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.equal(final[":status"], 200, protocols);
    assert.equal(Buffer.concat(chunks).toString(), "final", protocols);
    assert.deepEqual(interim.map((h) => [h[":status"], h["link"]]), [[103, link]], `${protocols} origin`);
  }
});

test("a server that resets its stream right after the response's headers leaves an error, never a whole empty response", { timeout: 20_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => {
    const h2res = res as unknown as { stream: { respond(h: Record<string, string | number>): void; close(code: number): void } };
    h2res.stream.respond({ ":status": 200, "content-length": "5000" });
    h2res.stream.close(0x8);
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const runs = 10;
  for (let i = 0; i < runs; i++) {
    const got = await h2Request(session, { path: `/cut/${i}` }).catch((e: Error) => e);
    assert.ok(got instanceof Error || got.status === 502, `run ${i}: the client is not handed an empty 200 (${got instanceof Error ? got.message : got.status})`);
  }
  const flows = await proxy.waitFinished(runs);
  for (const f of flows) {
    assert.match(f.error ?? "", /reset the HTTP\/2 stream|ended the HTTP\/2 stream after 0 of the 5000 bytes/);
  }
});

/** An HTTP/2 flow from an h2 client to `origin`, then its replay: the replayed flow and what the origin saw of each. */
async function replayH2(t: TestContext, origin: TlsOrigin) {
  const { proxy, session } = await h2SessionVia(t, origin);
  await h2Request(session, { path: "/again" });
  const [first] = await proxy.waitFinished(1);
  const original = proxy.engine.store.get(first?.id ?? "") as HTTPFlow;
  assert.equal(original.request.http_version, "HTTP/2.0");
  await proxy.engine.handle({ op: "command", line: "replay.client @all" });
  await proxy.waitFinished(2);
  const replayed = proxy.engine.store.all().find((f) => f.is_replay === "request") as HTTPFlow;
  assert.equal(replayed.response?.status_code, 200, replayed.error?.msg);
  return { replayed, seen: origin.requests.map((r) => r.httpVersion) };
}

test("replaying an HTTP/2 flow to an h2 origin goes out over h2 and says HTTP/2.0", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h2");
  const { replayed, seen } = await replayH2(t, origin);
  assert.deepEqual(seen, ["2.0", "2.0"]);
  assert.equal(replayed.request.http_version, "HTTP/2.0");
  assert.equal(replayed.response?.http_version, "HTTP/2.0");
});

test("replaying an HTTP/2 flow to an HTTP/1.1-only origin says HTTP/1.1, what went on the wire, with the Host it sent", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h1");
  const { replayed, seen } = await replayH2(t, origin);
  assert.deepEqual(seen, ["1.1", "1.1"]);
  assert.equal(replayed.request.http_version, "HTTP/1.1");
  assert.equal(replayed.response?.http_version, "HTTP/1.1");
  const authority = `app.test:${origin.port}`;
  assert.deepEqual(origin.requests.map((r) => hostFields(r.rawHeaders)), [[authority], [authority]], "one Host each time, the authority");
  // Made HTTP/1.1 as mitmproxy's Http1Client makes it: the Host it sent in place of the authority.
  assert.equal(replayed.request.plainHeaders.get("host"), authority);
  assert.equal(replayed.request.authority, "");
  assert.equal(replayed.request.pretty_url, `https://${authority}/again`);
});

test("http2_ping_keepalive: an idle h2 session to a server gets a PING every period; 0 sends none", { timeout: 15_000 }, async (t) => {
  for (const [seconds, expectPings] of [[1, true], [0, false]] as const) {
    const origin = await startTlsOrigin((_req, res) => res.end("pong?"), "h2");
    const proxy = await startProxy({ options: { ...insecure, http2_ping_keepalive: String(seconds) } });
    const { session } = await h2ViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test" });
    assert.equal((await h2Request(session, { method: "GET", path: "/" })).status, 200);
    const start = Date.now();
    if (expectPings) await waitUntil(() => origin.pings >= 2 || undefined, `two PINGs from pryx (got ${origin.pings})`, 5000, 50);
    else await new Promise((r) => setTimeout(r, 2500));
    if (expectPings) assert.ok(Date.now() - start >= 1500, "one PING per idle second, not a flood");
    else assert.equal(origin.pings, 0);
    session.destroy();
    await proxy.stop();
    await origin.close();
  }
});

test("tcp_timeout closes an HTTP/2 connection with no stream and no frame for that long", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h2");
  const proxy = await startProxy({ options: { ...insecure, tcp_timeout: "1" } });
  const { session } = await h2ViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test" });
  t.after(async () => {
    session.destroy();
    await proxy.stop();
    await origin.close();
  });
  const closed = new Promise<number>((r) => session.once("close", () => r(Date.now())));
  const start = Date.now();
  // A request every 500 ms keeps it open past the timeout...
  for (let i = 0; i < 4; i++) {
    assert.equal((await h2Request(session, { path: `/r/${i}` })).status, 200);
    await new Promise((r) => setTimeout(r, 500));
  }
  // ...then a second with nothing closes it, with a GOAWAY and a line in the event log.
  const at = await closed;
  assert.ok(at - start >= 2000, `closed after ${at - start} ms, not before the silence`);
  await proxy.waitLog(/: closing the HTTP\/2 connection, idle for 1 s \(tcp_timeout\)$/);
  assert.equal(proxy.finished().length, 4, "every request answered");
});

test("an h2 client gets the response's headers as the flow has them: no date the server never sent", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => {
    res.sendDate = false;
    res.setHeader("x-origin", "1");
    res.end("no date here");
  }, "h1");
  const { proxy, session } = await h2SessionVia(t, origin);
  const res = await h2Request(session, { path: "/nodate" });
  assert.equal(res.body.toString(), "no date here");
  assert.equal(res.headers["x-origin"], "1");
  assert.equal(res.headers["date"], undefined);
  const [flow] = await proxy.waitFinished(1);
  assert.equal((proxy.engine.store.get(flow!.id) as HTTPFlow).response?.headers.get("date"), undefined);
});

test("an h2 server that answers and closes its stream before a streamed upload ends: the client's stream still ends (what is left of the body is dropped, not stalled)", { timeout: 15_000 }, async (t) => {
  // Answers at once and never reads the body, as a server refusing an upload (401, 413) does.
  const { session } = await rawH2Via(t, (stream) => {
    stream.respond({ ":status": 401, "content-type": "text/plain" });
    stream.end("no");
  }, { stream_large_bodies: "10k" });
  const res = await h2Request(session, { method: "POST", path: "/upload", body: Buffer.alloc(3_000_000, 1) });
  assert.equal(res.status, 401, res.body.toString());
  assert.equal(res.body.toString(), "no");
});

test("a gRPC response's trailers are in the flow's detail (the console's Response tab, dump -d 3), and in a -w file read back", { timeout: 15_000 }, async (t) => {
  const { formatDetail } = await import("../../src/dump.ts");
  const file = path.join(tempDir("pryx-trailers-"), "g.pryx");
  const origin = await startTlsOrigin((_req, res) => {
    res.setHeader("content-type", "application/grpc");
    res.addTrailers({ "grpc-status": "0", "grpc-message": "ok" });
    res.end(Buffer.from([0, 0, 0, 0, 0]));
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin, [], { save_stream_file: file });
  const res = await h2Request(session, { method: "POST", path: "/pkg.Svc/Call", headers: { "content-type": "application/grpc" }, body: Buffer.from([0, 0, 0, 0, 0]) });
  assert.equal(res.status, 200);
  const [summary] = await proxy.waitFinished(1);
  const { detail, tab } = await responseViews(proxy, summary!);
  assert.deepEqual(detail.response?.trailers, [["grpc-status", "0"], ["grpc-message", "ok"]]);
  assert.match(tab.join("\n"), /Trailers\ngrpc-status: 0\ngrpc-message: ok/);
  assert.match(formatDetail(detail, 3).join("\n"), /--- HTTP Trailers\n {4}grpc-status: 0\n {4}grpc-message: ok/);
  // With the headers at --flow-detail 2 too, as mitmdump prints them: a failed call's grpc-status is seen without the bodies.
  assert.match(formatDetail(detail, 2).join("\n"), /--- HTTP Trailers\n {4}grpc-status: 0\n {4}grpc-message: ok/);
  assert.equal((await savedFlow(file)).response?.trailers?.get("grpc-status"), "0");
});

test("server replay of a recorded gRPC call sends its trailers (grpc-status), as the server did", { timeout: 15_000 }, async (t) => {
  const file = path.join(tempDir("pryx-replay-trailers-"), "g.pryx");
  const origin = await startTlsOrigin((_req, res) => {
    res.setHeader("content-type", "application/grpc");
    res.addTrailers({ "grpc-status": "0" });
    res.end(Buffer.from([0, 0, 0, 0, 0]));
  }, "h2");
  const call = async (session: import("node:http2").ClientHttp2Session): Promise<unknown> => {
    const s = session.request({ ":method": "POST", ":path": "/pkg.Svc/Call", "content-type": "application/grpc" });
    s.end(Buffer.from([0, 0, 0, 0, 0]));
    let trailers: unknown;
    s.on("trailers", (h) => (trailers = h["grpc-status"]));
    s.resume();
    await new Promise((r) => s.on("end", r));
    return trailers;
  };
  const recording = await h2SessionVia(t, origin, [], { save_stream_file: file });
  assert.equal(await call(recording.session), "0");
  await recording.proxy.waitFinished(1);
  await waitUntil(() => fs.existsSync(file) && fs.statSync(file).size > 0, "the recording");
  const replaying = await h2SessionVia(t, origin, [], { server_replay: file, server_replay_kill_extra: "true" });
  const before = origin.requests.length;
  assert.equal(await call(replaying.session), "0", "the replayed answer carries the recorded status");
  assert.equal(origin.requests.length, before, "answered from the recording, not the server");
});

test("an h2 request whose Host header names another authority than :authority is refused with 400 (RFC 9113 8.3.1), not sent on under the Host's name", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("reached"), "h2");
  const { session } = await h2SessionVia(t, origin);
  const bad = await h2Request(session, { path: "/headers", headers: { ":authority": `localhost:${origin.port}`, host: "evil.example" } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.toString(), /names another authority than :authority/);
  assert.equal(origin.requests.length, 0);
  const ok = await h2Request(session, { path: "/fine" });
  assert.equal(ok.body.toString(), "reached");
});

test("an h2 request's trailers reach an h2 server after the body, buffered or streamed", { timeout: 15_000 }, async (t) => {
  const { proxy, session } = await rawH2Via(t, (stream) => {
    let trailers: Record<string, unknown> = {};
    let size = 0;
    stream.on("trailers", (h) => (trailers = h));
    stream.on("data", (d: Buffer) => (size += d.length));
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/json" });
      stream.end(JSON.stringify({ size, trailer: trailers["x-req-trailer"] ?? null }));
    });
  });
  for (const streamed of [false, true]) {
    proxy.engine.options.setText("stream_large_bodies", streamed ? "1k" : "");
    const s = session.request({ ":method": "POST", ":path": "/up" }, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "x-req-trailer": "rt1" }));
    s.end(Buffer.alloc(streamed ? 5000 : 17, 1));
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    await new Promise((r) => s.on("end", r));
    assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { size: streamed ? 5000 : 17, trailer: "rt1" }, streamed ? "streamed" : "buffered");
  }
});

test("an h2 request's trailers reach an HTTP/1.1 server too: the body goes chunked, with or without the client's Content-Length", { timeout: 15_000 }, async (t) => {
  // An HTTP/1.1 server that reads the request's trailers (the test origin helper keeps none).
  const { keyPem, certPem } = originCertificate();
  const origin = https.createServer({ key: keyPem, cert: certPem }, (req, res) => {
    let size = 0;
    req.on("data", (d: Buffer) => (size += d.length));
    req.on("end", () => res.end(JSON.stringify({ size, trailer: req.trailers["x-req-trailer"] ?? null, te: req.headers["transfer-encoding"] ?? null })));
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ options: insecure });
  const { session } = await h2ViaProxy(proxy.port, { target: `127.0.0.1:${portOf(origin)}`, servername: "localhost" });
  t.after(async () => {
    session.close();
    await proxy.stop();
    await new Promise<void>((r) => origin.close(() => r()));
  });
  for (const withLength of [false, true]) {
    const s = session.request({ ":method": "POST", ":path": "/up", ...(withLength ? { "content-length": "17" } : {}) }, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "x-req-trailer": "rt1" }));
    s.end(Buffer.alloc(17, 1));
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    await new Promise((r) => s.on("end", r));
    assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { size: 17, trailer: "rt1", te: "chunked" }, withLength ? "with Content-Length" : "without");
  }
});

/** Each Host field of a request as its server received it (node:http keeps repeated ones apart in rawHeaders). */
const hostFields = (raw: readonly string[]): string[] => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === "host");

test("an h2 request to an HTTP/1.1-only origin: the origin gets one Host, the authority; the flow's headers, as an addon and a saved .mitm file have them, carry none (as mitmproxy's)", { timeout: 15_000 }, async (t) => {
  const file = path.join(tempDir("pryx-h2-host-"), "h2.mitm");
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h1");
  const seen: { fields: [string, string][]; host_header: string | undefined; pretty_host: string; pretty_url: string }[] = [];
  const addon: Addon = {
    request(flow: HTTPFlow) {
      const r = flow.request;
      seen.push({ fields: r.headers.fields.map(([n, v]): [string, string] => [n, v]), host_header: r.host_header, pretty_host: r.pretty_host, pretty_url: r.pretty_url });
    },
  };
  const { proxy, session } = await h2SessionVia(t, origin, [addon], { save_stream_file: file });
  const res = await h2Request(session, { path: "/p?q=1", headers: { "x-test": "1" } });
  assert.equal(res.status, 200);
  const authority = `app.test:${origin.port}`;
  assert.deepEqual(hostFields(origin.requests[0]?.rawHeaders ?? []), [authority], "exactly one Host, from :authority");
  assert.deepEqual(seen, [{ fields: [["x-test", "1"]], host_header: authority, pretty_host: "app.test", pretty_url: `https://${authority}/p?q=1` }]);
  const [summary] = await proxy.waitFinished(1);
  assert.equal(summary?.url, `https://${authority}/p?q=1`);
  const stored = proxy.engine.store.get(summary?.id ?? "") as HTTPFlow;
  assert.ok(!stored.request.plainHeaders.has("host"), "no Host in the stored flow");
  assert.equal(stored.request.authority, authority);
  const back = await savedFlow(file);
  assert.deepEqual(back.request.headers.fields, [["x-test", "1"]], "the saved flow has the headers the client sent");
  assert.equal(back.request.authority, authority);
  assert.equal(back.request.pretty_url, `https://${authority}/p?q=1`);
});

test("a Host header an addon sets on an h2 request is the one an HTTP/1.1 origin gets, once", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h1");
  const addon: Addon = {
    request(flow: HTTPFlow) {
      flow.request.headers.set("Host", "vhost.test");
    },
  };
  const { session } = await h2SessionVia(t, origin, [addon]);
  assert.equal((await h2Request(session, { path: "/" })).status, 200);
  assert.deepEqual(hostFields(origin.requests[0]?.rawHeaders ?? []), ["vhost.test"]);
});

test("an h2 request to an h2 origin: :authority is the client's, and no Host field goes with it or into the flow", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  assert.equal((await h2Request(session, { path: "/a" })).status, 200);
  const raw = origin.requests[0]?.rawHeaders ?? [];
  const authority = `app.test:${origin.port}`;
  assert.deepEqual(raw.filter((_, i) => i % 2 === 1 && raw[i - 1] === ":authority"), [authority]);
  assert.deepEqual(hostFields(raw), []);
  const [summary] = await proxy.waitFinished(1);
  const stored = proxy.engine.store.get(summary?.id ?? "") as HTTPFlow;
  assert.ok(!stored.request.plainHeaders.has("host"), "no Host in the flow");
  assert.equal(stored.request.host_header, authority);
});

/** How an h2 request through the proxy ended: its status, the body bytes, and the stream's RST_STREAM code (0 for a clean end). */
function h2Outcome(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; bytes: number; rstCode: number }> {
  return new Promise((resolve) => {
    const stream = session.request({ ":path": path });
    let status = 0;
    let bytes = 0;
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (c: Buffer) => (bytes += c.length));
    stream.on("error", () => undefined);
    stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on("close", () => resolve({ status, bytes, rstCode: stream.rstCode ?? 0 }));
  });
}

for (const [code, name] of [[http2.constants.NGHTTP2_NO_ERROR, "NO_ERROR"], [http2.constants.NGHTTP2_INTERNAL_ERROR, "INTERNAL_ERROR"]] as const) {
  for (const streamed of [false, true]) {
    test(`an h2 server resetting its stream with ${name} mid-response (headers and part of the body, no END_STREAM): the flow fails naming the reset, the error hook fires, and the client ${streamed ? "(the response streamed) sees its stream reset" : "gets a 502"}, not a cut-off body as whole`, { timeout: 15_000 }, async (t) => {
      const { proxy, session, errors } = await rawH2Via(t, (stream) => {
        stream.on("error", () => undefined);
        stream.respond({ ":status": 200, "content-type": "text/plain" });
        // Node's close() sends END_STREAM first when it can (the response would then be whole):
        // 1 MiB is past the flow-control window, so the RST_STREAM goes with the rest unsent.
        stream.write(Buffer.alloc(1 << 20, 0x61));
        stream.close(code);
      }, streamed ? { stream_large_bodies: "1k" } : {});
      const got = await h2Outcome(session, "/cut");
      if (streamed) {
        assert.equal(got.status, 200, "the head went on before the reset");
        assert.notEqual(got.rstCode, http2.constants.NGHTTP2_NO_ERROR, `the client's stream is reset, not ended as whole after ${got.bytes} bytes`);
      } else assert.equal(got.status, 502, "nothing of the cut-off response was sent: the client gets pryx's error");
      const [summary] = await proxy.waitFinished(1);
      const reset = name === "NO_ERROR" ? /reset the HTTP\/2 stream \(NO_ERROR\)/ : /INTERNAL_ERROR/;
      assert.match(summary?.error ?? "", reset);
      assert.deepEqual(errors, [summary?.error]);
      const stored = proxy.engine.store.get(summary?.id ?? "") as HTTPFlow;
      assert.equal(stored.response?.raw_content, undefined, "no body recorded as the response's whole content");
    });
  }
}

test("an h2 server that ends its whole response and then resets the stream with NO_ERROR, to stop an upload it needs no more of (RFC 9113 8.1), leaves a normal flow", { timeout: 15_000 }, async (t) => {
  const { proxy, session, errors } = await rawH2Via(t, (stream) => {
    stream.on("error", () => undefined);
    stream.respond({ ":status": 200, "content-type": "text/plain" });
    stream.end("whole", () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
  }, { stream_large_bodies: "10k" });
  const res = await h2Request(session, { method: "POST", path: "/upload", body: Buffer.alloc(3_000_000, 1) });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "whole");
  const [summary] = await proxy.waitFinished(1);
  assert.equal(summary?.error, undefined);
  assert.deepEqual(errors, []);
  const stored = proxy.engine.store.get(summary?.id ?? "") as HTTPFlow;
  assert.equal(Buffer.from(stored.response?.raw_content ?? []).toString(), "whole");
});

test("an HTTP/2 response's flow has reason \"\" (HTTP/2 has no reason phrase), as mitmproxy's: in an addon, the store and a saved .mitm file; the dump line and the Response tab show the standard phrase, as mitmdump does", { timeout: 15_000 }, async (t) => {
  const { formatFlowLine, formatDetail } = await import("../../src/dump.ts");
  const file = path.join(tempDir("pryx-h2-reason-"), "h2.mitm");
  const origin = await startTlsOrigin((_req, res) => res.end("ok"), "h2");
  const seen: string[] = [];
  const { proxy, session } = await h2SessionVia(t, origin, [{ response: (f: HTTPFlow) => void seen.push(f.response?.reason ?? "(none)") }], { save_stream_file: file });
  assert.equal((await h2Request(session, { path: "/r" })).status, 200);
  const [summary] = await proxy.waitFinished(1);
  assert.deepEqual(seen, [""]);
  const stored = proxy.engine.store.get(summary?.id ?? "") as HTTPFlow;
  assert.equal(stored.response?.reason, "");
  assert.equal((await savedFlow(file)).response?.reason, "");
  assert.match(formatFlowLine(summary!), / << HTTP\/2\.0 200 OK 2b /);
  const { detail, tab } = await responseViews(proxy, summary!);
  assert.equal(formatDetail(detail, 2).find((l) => l.startsWith(" << ")), " << 200 OK");
  assert.equal(tab[0], "HTTP/2.0 200 OK");
});

test("an HTTP/2 response's dump line names the standard phrase of codes beyond the common few (410 Gone, 422, 451), as mitmdump names them", { timeout: 15_000 }, async (t) => {
  const { formatFlowLine } = await import("../../src/dump.ts");
  const origin = await startTlsOrigin((req, res) => {
    res.statusCode = Number(req.path.slice(1));
    res.end();
  }, "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const codes = [410, 422, 451];
  for (const code of codes) assert.equal((await h2Request(session, { path: `/${code}` })).status, code);
  const lines = (await proxy.waitFinished(codes.length)).map((f) => formatFlowLine(f).replace(/ 0b .*/, ""));
  assert.deepEqual(lines.map((l) => l.slice(l.indexOf("<< "))).sort(), ["<< HTTP/2.0 410 Gone", "<< HTTP/2.0 422 Unprocessable Content", "<< HTTP/2.0 451 Unavailable For Legal Reasons"]);
});

test("an HTTP/1.1 response keeps the reason its server sent, exactly: its own phrase, and an empty one stays empty (no \"OK\" put in)", { timeout: 15_000 }, async (t) => {
  const { startRawOrigin, viaProxy } = await import("../helpers/origin.ts");
  const origin = await startRawOrigin((req) => (req.startsWith("GET /empty") ? "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok" : "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 2\r\n\r\nok"));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  for (const p of ["/own", "/empty"]) assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${p}`)).status, 200);
  const flows = await proxy.waitFinished(2);
  const reasons = Object.fromEntries(flows.map((f) => [f.path, (proxy.engine.store.get(f.id) as HTTPFlow).response?.reason]));
  assert.deepEqual(reasons, { "/own": "Fine Thanks", "/empty": "" });
});

test("a status an HTTP/2 client cannot be sent (an addon's 799, past HTTP/2's 599) fails the flow naming it with a 502, not a reset stream; the session goes on", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("body"), "h2");
  const addon: Addon = { response: (f: HTTPFlow) => void (f.request.path === "/799" && f.response && (f.response.status_code = 799)) };
  const { proxy, session } = await h2SessionVia(t, origin, [addon]);
  const res = await h2Request(session, { path: "/799" });
  assert.equal(res.status, 502);
  assert.match(res.body.toString(), /flow\.response\.status_code is 799, which cannot be sent: a status code is an integer from 100 to 599 for an HTTP\/2 client/);
  assert.equal((await h2Request(session, { path: "/ok" })).status, 200);
  assert.match((await proxy.waitFinished(2)).find((f) => f.path === "/799")?.error ?? "", /status_code is 799/);
});

test("a status past 599 that an HTTP/1 server sent to an HTTP/2 client is said to be the server's, not an addon's; an addon's is still the addon's", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => {
    res.writeHead(req.path === "/server-799" ? 799 : 200);
    res.end("body");
  }, "h1");
  const addon: Addon = { response: (f: HTTPFlow) => void (f.request.path === "/addon-798" && f.response && (f.response.status_code = 798)) };
  const { proxy, session } = await h2SessionVia(t, origin, [addon]);
  const fromServer = await h2Request(session, { path: "/server-799" });
  assert.equal(fromServer.status, 502);
  assert.match(fromServer.body.toString(), /status_code is 799, which cannot be sent: a status code is an integer from 100 to 599 for an HTTP\/2 client \(as the server sent it\)/);
  const fromAddon = await h2Request(session, { path: "/addon-798" });
  assert.match(fromAddon.body.toString(), /status_code is 798, .*\(set by an addon or an edit\?\)/);
  const flows = await proxy.waitFinished(2);
  assert.match(flows.find((f) => f.path === "/server-799")?.error ?? "", /\(as the server sent it\)$/);
});

test("a CONNECT inside an HTTP/2 connection is refused at once with a 501 and its flow, not left waiting for a body a tunnel never ends; the session goes on", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("fine"), "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const answer = await new Promise<{ status: number; body: string; rst: number | undefined }>((resolve, reject) => {
    // A tunnel's stream stays open for the bytes the client would send through it.
    const stream = session.request({ ":method": "CONNECT", ":authority": "inner.test:443" }, { endStream: false });
    let status = 0;
    let body = "";
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (d: Buffer) => (body += d.toString()));
    stream.on("error", () => undefined);
    stream.on("close", () => resolve({ status, body, rst: stream.rstCode }));
    setTimeout(() => reject(new Error(`no answer to the CONNECT in 5 s (status ${status})`)), 5000).unref();
  });
  assert.equal(answer.status, 501);
  assert.match(answer.body, /CONNECT inner\.test:443 inside an HTTP\/2 connection is not supported/);
  assert.equal(answer.rst, http2.constants.NGHTTP2_NO_ERROR);
  assert.equal((await h2Request(session, { path: "/after" })).status, 200);
  const flows = await proxy.waitFinished(2);
  assert.match(flows.find((f) => f.method === "CONNECT")?.error ?? "", /not supported/);
});

test("fields Node sends once (Content-Type, User-Agent) that a peer repeated go on folded into one line, not failing the flow with Node's words, both ways", { timeout: 15_000, skip: fs.existsSync(CURL) ? false : "no /usr/bin/curl" }, async (t) => {
  // An HTTP/1 server's repeats, to an HTTP/2 client.
  const h1 = await startTlsOrigin((_req, res) => {
    res.setHeader("Content-Type", ["text/plain", "text/html"]);
    res.setHeader("ETag", ['"v1"', '"v1"']);
    res.end("ok");
  }, "h1");
  const { proxy, session } = await h2SessionVia(t, h1);
  const res = await h2Request(session, { path: "/repeats" });
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-type"], "text/plain, text/html");
  assert.equal(res.headers["etag"], '"v1"');
  // An HTTP/2 client's repeats (curl sends both), to an HTTP/2 server.
  const h2 = await startTlsOrigin((_req, res) => res.end("seen"), "h2");
  t.after(() => h2.close());
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      CURL,
      ["-sS", "--http2", "--cacert", path.join(testConfdir(), "pryx-ca-cert.pem"), "-x", `http://127.0.0.1:${proxy.port}`, "-H", "User-Agent: one", "-H", "User-Agent: two", `https://localhost:${h2.port}/ua`],
      { timeout: 10_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`curl failed: ${stderr}`)) : resolve(stdout)),
    );
  });
  assert.equal(out, "seen");
  assert.equal(h2.requests[0]?.headers["user-agent"], "one, two");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.error), [undefined, undefined]);
});

test("an h2 server that drops its connection mid-response, or leaves with a GOAWAY's error, is said to have closed it, not to have reset the stream with CANCEL (Node's own code for streams of a session gone)", { timeout: 15_000 }, async (t) => {
  let streams = 0;
  const { proxy, session, errors } = await rawH2Via(t, (stream) => {
    stream.on("error", () => undefined);
    const first = ++streams === 1;
    stream.respond({ ":status": 200, "content-length": "100" });
    stream.write("partial");
    setTimeout(() => (first ? stream.session?.destroy() : stream.session?.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR)), 50);
  });
  const dropped = await h2Request(session, { path: "/dropped" });
  assert.equal(dropped.status, 502);
  assert.match(dropped.body.toString(), /server 127\.0\.0\.1:\d+ closed the connection before the response was complete/);
  const left = await h2Request(session, { path: "/goaway" });
  assert.match(left.body.toString(), /closed the HTTP\/2 connection with GOAWAY \(INTERNAL_ERROR\)/);
  await proxy.waitFinished(2);
  assert.equal(errors.filter((e) => /CANCEL|error code/.test(e)).length, 0, errors.join("\n"));
});

test("an h2 server that takes a request and sends nothing for tcp_timeout seconds is given up with a 504 saying so, as an HTTP/1 one is; a response intercepted for longer is not cut", { timeout: 15_000 }, async (t) => {
  let streams = 0;
  const { proxy, session } = await rawH2Via(
    t,
    (stream) => {
      stream.on("error", () => undefined);
      // The session answers PINGs, so only the stream is silent: the first gets nothing at all.
      if (++streams === 1) return;
      stream.respond({ ":status": 200 });
      stream.end("late but fine");
    },
    { tcp_timeout: "1" },
  );
  const started = Date.now();
  const res = await h2Request(session, { path: "/never" });
  assert.equal(res.status, 504);
  assert.match(res.body.toString(), /server 127\.0\.0\.1:\d+ sent nothing for 1 s after the request \(tcp_timeout\)/);
  assert.ok(Date.now() - started < 4000, `given up after ${Date.now() - started} ms`);
  proxy.engine.options.setText("intercept", "~s & ~u /held");
  const answer = h2Request(session, { path: "/held" });
  let flow: HTTPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as HTTPFlow | undefined) !== undefined, "the response paused");
  await new Promise((r) => setTimeout(r, 2200));
  proxy.engine.options.setText("intercept", "");
  flow!.resume();
  const held = await answer;
  assert.equal(held.status, 200);
  assert.equal(held.body.toString(), "late but fine");
});

test("an h2 request whose body does not add up to its content-length (nghttp2 resets the stream, PROTOCOL_ERROR) is said so, not taken for the client's own reset; the session goes on", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("fine"), "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const reset = await new Promise<number | undefined>((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": "/short", "content-length": "10" });
    stream.on("error", () => undefined);
    stream.on("close", () => resolve(stream.rstCode));
    stream.resume();
    stream.end("12345");
  });
  assert.equal(reset, http2.constants.NGHTTP2_PROTOCOL_ERROR);
  assert.equal((await h2Request(session, { path: "/after" })).status, 200);
  const flows = await proxy.waitFinished(2);
  assert.equal(flows.find((f) => f.path === "/short")?.error, "the client's request body did not match its Content-Length (10; 5 bytes came before the stream was reset, PROTOCOL_ERROR, as RFC 9113 8.1.1 has it)");
});

test("an h2 request nghttp2 refuses before pryx sees it (a :path with a space, PROTOCOL_ERROR) is named in the event log with its client, never lost silently; the session goes on", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("fine"), "h2");
  const { proxy, session } = await h2SessionVia(t, origin);
  const reset = await new Promise<number | undefined>((resolve) => {
    const stream = session.request({ ":path": "/a b" });
    stream.on("error", () => undefined);
    stream.on("close", () => resolve(stream.rstCode));
    stream.end();
  });
  assert.equal(reset, http2.constants.NGHTTP2_PROTOCOL_ERROR);
  assert.equal((await h2Request(session, { path: "/after" })).status, 200);
  const line = await proxy.waitLog(/HTTP\/2 stream 1 was refused \(PROTOCOL_ERROR\) before pryx saw it/);
  assert.match(line.msg, /^127\.0\.0\.1:\d+: .*malformed request.*no flow was recorded/);
  assert.equal(proxy.logs.filter((l) => /was refused/.test(l.msg)).length, 1, "the stream pryx saw and answered is not named");
});

test("a stream an h2 server refuses (REFUSED_STREAM: not processed, RFC 9113 8.7) is sent once more, a POST too, and the event log says so; refused again, the flow's error names REFUSED_STREAM", { timeout: 15_000 }, async (t) => {
  const seen: string[] = [];
  // node:http2's "stream" event passes the request's headers after the stream.
  const { proxy, session, errors } = await rawH2Via(t, (stream, headers?: http2.IncomingHttpHeaders) => {
    const path = String(headers?.[":path"] ?? "");
    const method = String(headers?.[":method"] ?? "");
    seen.push(`${method} ${path}`);
    stream.on("error", () => undefined);
    // The first stream of /once is refused; /always's every time.
    if (path === "/always" || (path === "/once" && seen.filter((s) => s.endsWith(" /once")).length === 1)) return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    const parts: Buffer[] = [];
    stream.on("data", (c: Buffer) => parts.push(c));
    stream.on("end", () => {
      stream.respond({ ":status": 200 });
      stream.end(`got ${Buffer.concat(parts).toString()}`);
    });
  });
  const once = await h2Request(session, { path: "/once", method: "POST", body: "order" });
  assert.equal(once.status, 200);
  assert.equal(once.body.toString(), "got order");
  const line = await proxy.waitLog(/refused the HTTP\/2 stream \(REFUSED_STREAM\).*sending POST .*\/once again on a new connection/);
  assert.match(line.msg, /^127\.0\.0\.1:\d+: /);
  const always = await h2Request(session, { path: "/always" });
  assert.equal(always.status, 502);
  assert.deepEqual(seen, ["POST /once", "POST /once", "GET /always", "GET /always"], "each refused request sent once more, and no more");
  const flows = await proxy.waitFinished(2);
  assert.equal(flows.find((f) => f.path === "/once")?.error, undefined);
  assert.match(flows.find((f) => f.path === "/always")?.error ?? "", /refused the HTTP\/2 stream \(REFUSED_STREAM\): it did not process the request/);
  assert.equal(errors.length, 1);
});

test("a client that negotiates h2 and then speaks HTTP/1.1 gets a GOAWAY and its connection closed at once; the event log says it sent no HTTP/2 connection preface", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("fine"), "h2");
  const proxy = await startProxy({ options: insecure });
  const socket = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", alpn: ["h2"] });
  t.after(async () => {
    socket.destroy();
    await proxy.stop();
    await origin.close();
  });
  const received: Buffer[] = [];
  socket.on("data", (c: Buffer) => received.push(c));
  const started = Date.now();
  await new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.write("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
  });
  assert.ok(Date.now() - started < 1000, "closed promptly, not left open");
  assert.ok(Buffer.concat(received).includes(Buffer.from([0, 0, 8, 7])), "a GOAWAY came first");
  const line = await proxy.waitLog(/GOAWAY/);
  assert.match(line.msg, /^127\.0\.0\.1:\d+: closed the HTTP\/2 connection with GOAWAY \(\w+\): the client negotiated HTTP\/2 \(ALPN h2\) but did not begin with its connection preface/);
});
