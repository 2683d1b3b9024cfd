import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import { ctx } from "../../src/engine/hooks/ctx.ts";
import type { HTTPFlow, Response } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("an HTTP flow fires the seed's hooks in the seed's order", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("hi"));
  const seen: string[] = [];
  const recorder: Addon = {
    name: "recorder",
    client_connected: () => void seen.push("client_connected"),
    requestheaders: () => void seen.push("requestheaders"),
    request: () => void seen.push("request"),
    server_connect: () => void seen.push("server_connect"),
    server_connected: () => void seen.push("server_connected"),
    responseheaders: () => void seen.push("responseheaders"),
    response: (f: HTTPFlow) => {
      seen.push("response");
      serverSni = f.server_conn.sni;
    },
    client_disconnected: () => void seen.push("client_disconnected"),
  };
  let serverSni: string | undefined = "not set by the hook";
  const proxy = await startProxy({ addons: [recorder] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/x`);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "hi");
  await proxy.waitFinished(1);
  const deadline = Date.now() + 2000;
  while (!seen.includes("client_disconnected") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, ["client_connected", "requestheaders", "request", "server_connect", "server_connected", "responseheaders", "response", "client_disconnected"]);
  // A plain connection sends no server name (only TLS has SNI).
  assert.equal(serverSni, undefined);
});

test("setting flow.response in request answers without contacting the server", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const { Response } = await import("../../src/engine/flow/http.ts");
  const blocker: Addon = {
    name: "blocker",
    request(flow: HTTPFlow) {
      flow.response = Response.make(403, "blocked", { "content-type": "text/plain" });
    },
  };
  const proxy = await startProxy({ addons: [blocker] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/x`);
  assert.equal(res.status, 403);
  assert.equal(res.body.toString(), "blocked");
  assert.equal(origin.connections, 0);
});

/** Records hook names (and, for some, a detail) in the order they fire. */
function recorder(name = "recorder"): Addon & { seen: string[] } {
  const seen: string[] = [];
  const rec = (hook: string) => () => void seen.push(hook);
  return {
    name,
    seen,
    client_connected: rec("client_connected"),
    requestheaders: rec("requestheaders"),
    request: rec("request"),
    server_connect: rec("server_connect"),
    server_connected: rec("server_connected"),
    server_connect_error: rec("server_connect_error"),
    responseheaders: rec("responseheaders"),
    response: rec("response"),
    error: rec("error"),
    server_disconnected: rec("server_disconnected"),
    client_disconnected: rec("client_disconnected"),
  };
}

test("server_disconnected fires once, after the response, when the server closes", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.setHeader("Connection", "close").end("bye"));
  const rec = recorder();
  let closedServer: [string, number] | undefined;
  const proxy = await startProxy({ addons: [rec, { name: "addr", server_disconnected: (d) => void (closedServer = d.server.address) }] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.body.toString(), "bye");
  await waitUntil(() => rec.seen.includes("server_disconnected") && rec.seen.includes("client_disconnected"), "both disconnects");
  assert.equal(rec.seen.filter((h) => h === "server_disconnected").length, 1);
  assert.ok(rec.seen.indexOf("server_disconnected") > rec.seen.indexOf("response"), rec.seen.join(","));
  assert.deepEqual(closedServer, ["127.0.0.1", origin.port]);
});

test("a dead upstream fires server_connect, server_connect_error and error, never response", { timeout: 10_000 }, async (t) => {
  const rec = recorder();
  let connectError: string | undefined;
  let flowError: string | undefined;
  const proxy = await startProxy({
    addons: [rec, { name: "why", server_connect_error: (d) => void (connectError = d.server.error), error: (f) => void (flowError = f.error?.msg) }],
  });
  t.after(() => proxy.stop());
  const port = await deadPort();
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${port}/`);
  assert.equal(res.status, 502);
  await waitUntil(() => rec.seen.includes("client_disconnected"), "client_disconnected");
  assert.deepEqual(rec.seen, ["client_connected", "requestheaders", "request", "server_connect", "server_connect_error", "error", "client_disconnected"]);
  assert.match(connectError ?? "", /refused/);
  assert.match(flowError ?? "", /refused/);
});

test("async hooks are awaited: a header set after a 50 ms sleep reaches the origin", { timeout: 10_000 }, async (t) => {
  let seenByOrigin: string | undefined;
  const origin = await startHttpOrigin((req, res) => {
    seenByOrigin = req.headers["x-late"] as string | undefined;
    res.end("ok");
  });
  const slow: Addon = {
    name: "slow",
    async request(flow) {
      await new Promise((r) => setTimeout(r, 50));
      flow.request.headers.set("X-Late", "yes");
    },
    async response(flow) {
      await new Promise((r) => setTimeout(r, 50));
      (flow.response as Response).text = "changed late";
    },
  };
  const proxy = await startProxy({ addons: [slow] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(seenByOrigin, "yes");
  assert.equal(res.body.toString(), "changed late");
});

test("a throwing hook is logged with the addon's name; later addons and the flow go on", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("fine"));
  let laterRan = false;
  const proxy = await startProxy({
    addons: [
      { name: "broken-addon", request: () => { throw new Error("kaboom"); }, response: async () => { throw new Error("async kaboom"); } },
      { name: "later", request: () => void (laterRan = true) },
    ],
  });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "fine");
  assert.ok(laterRan);
  const log = await proxy.waitLog(/broken-addon.*kaboom/);
  assert.equal(log.level, "error");
  assert.match(log.msg, /\(request\)/);
  await proxy.waitLog(/broken-addon.*\(response\).*async kaboom/);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.status, 200);
  assert.equal(flow?.error, undefined);
});

test("client.error set in client_connected closes the connection before any request", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const rec = recorder();
  const proxy = await startProxy({ addons: [{ name: "refuse", client_connected: (c) => void (c.error = "not welcome") }, rec] });
  closeAfter(t, proxy, origin);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  await client.whenClosed(2000);
  assert.equal(client.pending.length, 0, "nothing is answered");
  await waitUntil(() => rec.seen.includes("client_disconnected"), "client_disconnected");
  assert.deepEqual(rec.seen, ["client_connected", "client_disconnected"]);
  assert.equal(origin.connections, 0);
  assert.equal(proxy.finished().length, 0);
});

test("data.server.address rewritten in server_connect sends the request to another origin", { timeout: 10_000 }, async (t) => {
  const named = await startHttpOrigin((_req, res) => res.end("named"));
  const other = await startHttpOrigin((req, res) => res.end(`other saw ${req.headers.host}`));
  const proxy = await startProxy({
    addons: [{ name: "redirect", server_connect: (d) => void (d.server.address = ["127.0.0.1", other.port]) }],
  });
  t.after(async () => {
    await proxy.stop();
    await named.close();
    await other.close();
  });
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${named.port}/`);
  // The request is unchanged (Host still names the first origin); only the connection moved.
  assert.equal(res.body.toString(), `other saw 127.0.0.1:${named.port}`);
  assert.equal(named.connections, 0);
  assert.equal(other.connections, 1);
});

test("flow.request.host and .port set in request move the Host header with them, as mitmproxy's do; a request without one gets none", { timeout: 10_000 }, async (t) => {
  const first = await startHttpOrigin((_req, res) => res.end("first"));
  const other = await startHttpOrigin((req, res) => res.end(`other saw ${req.headers.host ?? "no host"}`));
  const proxy = await startProxy({
    addons: [
      {
        name: "move",
        request: (f: HTTPFlow) => {
          f.request.host = "localhost";
          f.request.port = other.port;
        },
      },
    ],
  });
  closeAfter(t, proxy, first, other);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${first.port}/`);
  assert.equal(res.body.toString(), `other saw localhost:${other.port}`);
  assert.equal(first.connections, 0);

  const raw = await RawClient.connect(proxy.port);
  t.after(() => raw.close());
  raw.send(`GET http://127.0.0.1:${first.port}/ HTTP/1.0\r\n\r\n`);
  await raw.whenClosed();
  assert.match(raw.pending.toString(), /\r\n\r\nother saw no host$/);
});

test("data.server.error set in server_connect refuses the connection: 502 and server_connect_error", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("origin"));
  const rec = recorder();
  const proxy = await startProxy({ addons: [{ name: "deny", server_connect: (d) => void (d.server.error = "policy says no") }, rec] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.status, 502);
  assert.match(res.body.toString(), /policy says no/);
  assert.equal(origin.connections, 0);
  assert.ok(rec.seen.includes("server_connect_error"));
  assert.ok(!rec.seen.includes("server_connected"));
});

test("flow.response.stream set in responseheaders sends the body on before the server finishes", { timeout: 10_000 }, async (t) => {
  let releaseRest!: () => void;
  const restReleased = new Promise<void>((r) => (releaseRest = r));
  const origin = await startHttpOrigin((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.write("first part;");
    // The rest comes only after the client has seen the first part: a buffering proxy would stall here.
    void restReleased.then(() => res.end("second part"));
  });
  let contentInResponseHook: Uint8Array | undefined | null = null;
  const proxy = await startProxy({
    addons: [{
      name: "streamer",
      responseheaders: (f) => void ((f.response as Response).stream = true),
      response: (f) => void (contentInResponseHook = f.response?.raw_content),
    }],
  });
  t.after(async () => {
    releaseRest();
    await proxy.stop();
    await origin.close();
  });
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  const head = await client.head();
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /Transfer-Encoding: chunked/i);
  await client.take((b) => (b.includes("first part;") ? b.length : undefined), "the first part, before the server finished");
  releaseRest();
  await client.take((b) => (b.includes("\r\n0\r\n\r\n") ? b.length : undefined), "the last chunk");
  await proxy.waitFinished(1);
  assert.equal(contentInResponseHook, undefined, "a streamed body is not kept");
  // mitmproxy's line for it, so a log shows that a body went through unkept.
  assert.match((await proxy.waitLog(/Streaming response from/)).msg, /^127\.0\.0\.1:\d+: Streaming response from 127\.0\.0\.1\.$/);
});

test("flow.request.stream set in requestheaders sends the body to the server as it arrives", { timeout: 10_000 }, async (t) => {
  let firstAtOrigin!: (s: string) => void;
  const gotFirst = new Promise<string>((r) => (firstAtOrigin = r));
  let wholeBody = "";
  const origin = await startHttpOrigin((req, res) => {
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      if (!wholeBody) firstAtOrigin(d);
      wholeBody += d;
    });
    req.on("end", () => res.end(`got ${wholeBody.length}`));
  });
  const proxy = await startProxy({ addons: [{ name: "streamer", requestheaders: (f) => void (f.request.stream = true) }] });
  closeAfter(t, proxy, origin);
  const client = await RawClient.connect(proxy.port);
  t.after(() => client.close());
  client.send(`POST http://127.0.0.1:${origin.port}/up HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst;\r\n`);
  // The client has not finished its body: only a streaming proxy lets the origin see the start.
  assert.equal(await gotFirst, "first;");
  client.send("6\r\nsecond\r\n0\r\n\r\n");
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "got 12");
  assert.equal(wholeBody, "first;second");
  await proxy.waitLog(/: Streaming request to 127\.0\.0\.1\.$/);
});

test("flow.kill() in a hook ends the flow there: the server is not asked, the client gets no response, and error fires", { timeout: 15_000 }, async (t) => {
  let served = 0;
  const origin = await startHttpOrigin((_req, res) => {
    served++;
    res.end("origin");
  });
  const errors: string[] = [];
  const killer: Addon = {
    name: "killer",
    requestheaders: (f: HTTPFlow) => void (f.request.path === "/requestheaders" && f.kill()),
    request: (f: HTTPFlow) => void (f.request.path === "/request" && f.kill()),
    responseheaders: (f: HTTPFlow) => void (f.request.path === "/responseheaders" && f.kill()),
    response: (f: HTTPFlow) => void (f.request.path === "/response" && f.kill()),
    error: (f: HTTPFlow) => void errors.push(`${f.request.path}:${f.error?.msg}`),
  };
  const proxy = await startProxy({ addons: [killer] });
  closeAfter(t, proxy, origin);
  for (const hook of ["requestheaders", "request", "responseheaders", "response"]) {
    await assert.rejects(viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${hook}`), /socket hang up|ECONNRESET/, `killed in ${hook}: the client's connection is closed`);
  }
  assert.equal(served, 2, "only the flows killed after the request was sent reached the server");
  const ok = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/fine`);
  assert.equal(ok.body.toString(), "origin", "the proxy keeps serving");
  const flows = await proxy.waitFinished(5);
  assert.deepEqual(flows.filter((f) => f.error).map((f) => f.error), Array(4).fill("Connection killed."));
  assert.deepEqual(errors, ["requestheaders", "request", "responseheaders", "response"].map((h) => `/${h}:Connection killed.`));
});

test("add_log gets each event-log entry; what its handler logs, before or after an await, is not handed back to it", { timeout: 10_000 }, async (t) => {
  const got: string[] = [];
  const addon: Addon = {
    async add_log(entry) {
      got.push(`${entry.level} ${entry.msg}`);
      ctx.log.info("from add_log, at once");
      await new Promise((r) => setTimeout(r, 5));
      ctx.log.info("from add_log, after an await");
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  t.after(() => proxy.stop());
  const dead = await deadPort();
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${dead}/`);
  assert.equal(res.status, 502);
  await proxy.waitLog(/from add_log, after an await/);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(got.some((g) => /^(error|info) .*127\.0\.0\.1/.test(g)), got.join(" | "));
  assert.ok(!got.some((g) => g.includes("from add_log")), "its own lines did not come back to it");
  // Shown all the same.
  assert.ok(proxy.logs.some((l) => l.msg === "from add_log, at once"));
});

test("stream_large_bodies by a declared length is set before requestheaders and responseheaders, as mitmproxy's StreamBodies sets it: an addon sees stream true there", { timeout: 10_000 }, async (t) => {
  const big = "x".repeat(4096);
  const origin = await startHttpOrigin((req, res) => {
    req.resume();
    req.on("end", () => res.end(req.url === "/big" ? big : "small"));
  });
  const seen: string[] = [];
  const proxy = await startProxy({
    options: { stream_large_bodies: "1k" },
    addons: [{
      name: "watch",
      requestheaders: (f) => void seen.push(`request ${f.request.path} ${String(f.request.stream)}`),
      responseheaders: (f) => void seen.push(`response ${f.request.path} ${String(f.response?.stream)}`),
    }],
  });
  closeAfter(t, proxy, origin);
  const up = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/big`, { method: "POST", body: big });
  assert.equal(up.body.toString(), big);
  const small = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/small`, { method: "POST", body: "tiny" });
  assert.equal(small.body.toString(), "small");
  assert.deepEqual(seen, ["request /big true", "response /big true", "request /small false", "response /small false"]);
});

test("an addon's header values beyond Latin-1 reach the server and the client as UTF-8, as mitmproxy sends them", { timeout: 10_000 }, async (t) => {
  let seen: string | undefined;
  const origin = await startHttpOrigin((req, res) => {
    seen = req.headers["x-name"] as string | undefined;
    res.end("ok");
  });
  const addon = {
    name: "names",
    request: (f: HTTPFlow) => void f.request.headers.set("X-Name", "山田 café"),
    response: (f: HTTPFlow) => void (f.response!.headers["X-Reply"] = "日本 🎉"),
  };
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  // Node gives header bytes as Latin-1 text: read back as bytes, they are the UTF-8 of what the addon set.
  assert.equal(Buffer.from(seen ?? "", "latin1").toString("utf8"), "山田 café");
  assert.equal(Buffer.from(res.headers["x-reply"] as string, "latin1").toString("utf8"), "日本 🎉");
});

test("a client that leaves while a malformed head's flow is in its hooks gets client_disconnected after the flow's error, as mitmproxy orders them; one an addon paused is let go", { timeout: 10_000 }, async (t) => {
  const seen: string[] = [];
  const slow: Addon = {
    name: "slow",
    requestheaders: async (f) => {
      seen.push(`requestheaders ${f.request.path}`);
      if (f.request.path === "/held") f.intercept();
      else await new Promise((r) => setTimeout(r, 200));
    },
    error: (f) => void seen.push(`error ${f.request.path}`),
    client_disconnected: () => void seen.push("client_disconnected"),
  };
  const proxy = await startProxy({ addons: [slow] });
  t.after(() => proxy.stop());
  for (const path of ["/slow", "/held"]) {
    seen.length = 0;
    const client = await RawClient.connect(proxy.port);
    client.send(`GET http://a.test${path} HTTP/1.1\r\nHost: a.test\r\nBad Name: x\r\n\r\n`);
    await waitUntil(() => seen.length > 0, "requestheaders");
    client.close();
    await waitUntil(() => seen.includes("client_disconnected"), `${path}: client_disconnected`);
    assert.deepEqual(seen, [`requestheaders ${path}`, `error ${path}`, "client_disconnected"]);
  }
});
