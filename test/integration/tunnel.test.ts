import { test, type TestContext } from "node:test";
import { flowDetail } from "../../src/engine/flow/detail.ts";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import http2 from "node:http2";
import { startProxy, portOf } from "../helpers/proxy.ts";
import { rawExchange, startHttpOrigin } from "../helpers/origin.ts";
import { ConnectRefused, connectTunnel, httpsViaProxy, originCertificate, pryxCaPem, startTlsOrigin, tlsViaProxy } from "../helpers/tls-origin.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import fs from "node:fs";
import path from "node:path";
import { deadPort, waitUntil } from "../helpers/wait.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { TCPFlow } from "../../src/engine/flow/tcp.ts";
import { Response } from "../../src/engine/flow/http.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { hookRecorder } from "../helpers/hook-recorder.ts";
import { readBytes } from "../helpers/read-bytes.ts";

/** A TCP server that echoes every byte and ends when the client ends. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: portOf(server),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test("bytes that are neither TLS nor HTTP after CONNECT are relayed raw and recorded as a TCP flow", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const hooks: string[] = [];
  const tcpHooks: Addon = {
    name: "tcp-recorder",
    tcp_start: () => void hooks.push("tcp_start"),
    tcp_message: (f: TCPFlow) => void hooks.push(`tcp_message:${f.messages.at(-1)?.from_client ? "client" : "server"}`),
    tcp_end: () => void hooks.push("tcp_end"),
    tcp_error: (f: TCPFlow) => void hooks.push(`tcp_error:${f.error?.msg}`),
    client_disconnected: () => void hooks.push("client_disconnected"),
  };
  const proxy = await startProxy({ addons: [tcpHooks], keepFlows: true });
  t.after(async () => {
    await proxy.stop();
    await echo.close();
  });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  const payload = Buffer.from([0x00, 0x01, 0xfe, 0xff, ...Buffer.from(" raw bytes")]);
  socket.write(payload);
  const back = await readBytes(socket, payload.length);
  assert.deepEqual(back, payload);
  socket.end();
  await waitUntil(() => hooks.includes("client_disconnected") || hooks.some((h) => h.startsWith("tcp_error")), "client_disconnected");
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(hooks, ["tcp_start", "tcp_message:client", "tcp_message:server", "tcp_end", "client_disconnected"]);
  const flows = await proxy.waitFinished(1);
  const tcp = flows.find((f) => f.type === "tcp");
  assert.ok(tcp, "a TCP flow was recorded");
  assert.equal(tcp.url, `tcp://127.0.0.1:${echo.port}`);
  assert.equal(tcp.messages, 2);
  const flow = proxy.engine.store.get(tcp.id) as TCPFlow;
  assert.deepEqual(
    flow.messages.map((m) => [m.from_client, Buffer.from(m.content).toString("hex")]),
    [
      [true, payload.toString("hex")],
      [false, payload.toString("hex")],
    ],
  );
});

test("h2c with prior knowledge in a tunnel (a plaintext gRPC client's) is relayed as TCP, as mitmproxy does: the client's call works, and the flow is a TCP one", { timeout: 10_000 }, async (t) => {
  const h2c = http2.createServer();
  h2c.on("stream", (stream) => {
    stream.respond({ ":status": 200 });
    stream.end("over h2c");
  });
  await new Promise<void>((r) => h2c.listen(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ keepFlows: true });
  t.after(async () => {
    await proxy.stop();
    await new Promise((r) => h2c.close(r));
  });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(h2c)}`);
  const session = http2.connect(`http://127.0.0.1:${portOf(h2c)}`, { createConnection: () => socket });
  t.after(() => session.destroy());
  const body = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ":path": "/" });
    let got = "";
    req.on("data", (d: Buffer) => (got += d.toString()));
    req.on("end", () => resolve(got));
    req.on("error", reject);
  });
  assert.equal(body, "over h2c");
  session.close();
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.type, "tcp");
});

test("D (view.flows.duplicate) on a TCP flow adds a copy with its messages, a new id, not live", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const proxy = await startProxy({ keepFlows: true });
  t.after(async () => {
    await proxy.stop();
    await echo.close();
  });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  socket.write("ping");
  await readBytes(socket, 4);
  socket.end();
  const [tcp] = await proxy.waitFinished(1);
  assert.equal(tcp?.type, "tcp");
  const said = await proxy.engine.handle({ op: "command", line: `view.flows.duplicate ${tcp!.id}` });
  assert.match(JSON.stringify(said), /duplicated 1 flow/);
  assert.equal(proxy.engine.store.size, 2);
  const copy = proxy.engine.store.all().find((f) => f.id !== tcp!.id) as TCPFlow;
  assert.equal(copy.type, "tcp");
  assert.equal(copy.live, false);
  assert.deepEqual(copy.messages.map((m) => [m.from_client, Buffer.from(m.content).toString()]), [[true, "ping"], [false, "ping"]]);
  const original = proxy.engine.store.get(tcp!.id) as TCPFlow;
  copy.messages[0]!.content = Buffer.from("edit");
  assert.equal(Buffer.from(original.messages[0]!.content).toString(), "ping", "the original keeps its own bytes");
});

test("rawtcp off (mitmproxy's option): bytes that are neither TLS nor HTTP are taken for HTTP and refused with a 400, and nothing reaches the server", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const proxy = await startProxy({ options: { rawtcp: "false" } });
  closeAfter(t, proxy, echo);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  socket.write(Buffer.from([0x00, 0x01, 0xfe, 0xff, ...Buffer.from(" raw bytes\r\n\r\n")]));
  const answer = await new Promise<string>((resolve) => {
    let got = "";
    socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
    socket.on("close", () => resolve(got));
  });
  assert.match(answer, /^HTTP\/1\.1 400 [\s\S]*malformed/);
  await proxy.waitLog(/malformed/);
  assert.equal(proxy.engine.store.size, 0, "no TCP flow");
});

test("show_ignored_hosts off: an ignored host's bytes pass untouched with no flow and no TCP hooks; a dead one is still a 502; tcp_hosts still record", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const { addon: recorder, hooks } = hookRecorder("tcp_start", "server_connected", "client_disconnected");
  const proxy = await startProxy({ addons: [recorder], keepFlows: true, options: { ignore_hosts: `:${echo.port}$`, show_ignored_hosts: "false" } });
  closeAfter(t, proxy, echo);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  const payload = Buffer.from([0x16, 0x03, 0x01, 0x00, ...Buffer.from(" looks like TLS, is not")]);
  socket.write(payload);
  assert.deepEqual(await readBytes(socket, payload.length), payload);
  socket.end();
  await waitUntil(() => hooks.includes("client_disconnected") || undefined, `client_disconnected in ${hooks.join(",")}`);
  assert.deepEqual(hooks, ["server_connected", "client_disconnected"]);
  assert.equal(proxy.engine.store.size, 0, "no flow recorded");

  const dead = await deadPort();
  proxy.engine.options.setText("ignore_hosts", "^127\\.0\\.0\\.1:");
  const refused = await connectTunnel(proxy.port, `127.0.0.1:${dead}`).then(
    () => assert.fail("the tunnel to a dead port was opened"),
    (err: unknown) => err,
  );
  assert.ok(refused instanceof ConnectRefused && refused.status === 502, String(refused));

  proxy.engine.options.setText("ignore_hosts", "");
  proxy.engine.options.setText("tcp_hosts", `:${echo.port}$`);
  const recorded = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  recorded.write("x");
  await readBytes(recorded, 1);
  recorded.end();
  await proxy.waitFinished(1);
  assert.ok(hooks.includes("tcp_start"), "tcp_hosts relays are recorded whatever show_ignored_hosts says");
});

test("connection_strategy=eager: a dead server is the CONNECT's 502; a live one is connected before the 200 and serves the tunnel's first request; a server that greets first is relayed; an unused one closes with the client", { timeout: 15_000 }, async (t) => {
  const { addon: recorder, hooks } = hookRecorder("http_connect", "server_connect", "server_connected", "server_connect_error", "request", "tcp_start");
  const proxy = await startProxy({ addons: [recorder], keepFlows: true, options: { connection_strategy: "eager", ssl_insecure: "true" } });
  const origin = await startTlsOrigin((_req, res) => res.end("eager"));
  // A server that speaks first, and counts the connections it gets and sees closed.
  let greeterOpen = 0;
  const greeter = net.createServer((s) => {
    greeterOpen++;
    s.on("close", () => greeterOpen--);
    s.on("error", () => undefined);
    s.write("220 ready\r\n");
    s.on("data", (d: Buffer) => s.write(d));
  });
  await new Promise<void>((r) => greeter.listen(0, "127.0.0.1", r));
  closeAfter(t, proxy, origin, { close: () => new Promise<void>((r) => greeter.close(() => r())) });

  const dead = await deadPort();
  const refused = await connectTunnel(proxy.port, `127.0.0.1:${dead}`).then(
    () => assert.fail("a tunnel to a dead port was opened"),
    (err: unknown) => err,
  );
  assert.ok(refused instanceof ConnectRefused && refused.status === 502, String(refused));
  assert.match(refused.body, /connection refused/);
  assert.deepEqual(hooks, ["http_connect", "server_connect", "server_connect_error"]);

  hooks.length = 0;
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", path: "/first", headers: { connection: "close" } });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "eager");
  assert.equal(origin.connections, 1, "the eager connection carried the request: no second one");
  assert.deepEqual(hooks.slice(0, 4), ["http_connect", "server_connect", "server_connected", "request"]);

  hooks.length = 0;
  const smtp = await connectTunnel(proxy.port, `127.0.0.1:${portOf(greeter)}`);
  smtp.setTimeout(3000, () => smtp.destroy());
  assert.equal((await readBytes(smtp, 11)).toString(), "220 ready\r\n", "the greeting came without the client sending a byte");
  smtp.write("EHLO x\r\n");
  assert.equal((await readBytes(smtp, 8)).toString(), "EHLO x\r\n");
  smtp.destroy();
  assert.ok(hooks.includes("tcp_start"), hooks.join(","));
  await waitUntil(() => greeterOpen === 0 || undefined, "the relayed connection closed");

  // A server that waits for the client, and a client that leaves without a byte.
  let silentOpen = 0;
  const silent = net.createServer((s) => {
    silentOpen++;
    s.on("close", () => silentOpen--);
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  const unused = await connectTunnel(proxy.port, `127.0.0.1:${portOf(silent)}`);
  await waitUntil(() => silentOpen === 1 || undefined, "the eager connection");
  unused.destroy();
  await waitUntil(() => silentOpen === 0 || undefined, `the unused eager connection closed with its client (open: ${silentOpen})`);
});

test("connection_strategy=eager: the server's TLS handshake begins at the client's ClientHello, beside the client's own, and serves the first request; one that fails is that request's 502", { timeout: 15_000 }, async (t) => {
  const { addon: recorder, hooks } = hookRecorder("tls_start_server", "tls_established_server", "tls_failed_server", "tls_established_client", "request");
  // The TLS hooks' context.server is the eager connection itself: connected, with its peer.
  const peers: string[] = [];
  const contexts: Addon = { name: "contexts", tls_clienthello: (d) => void peers.push(String(d.context.server.peername?.[1])) };
  const proxy = await startProxy({ addons: [recorder, contexts], options: { connection_strategy: "eager", ssl_insecure: "true" } });
  const strict = await startProxy({ addons: [recorder], options: { connection_strategy: "eager" } });
  const origin = await startTlsOrigin((_req, res) => res.end("early"));
  closeAfter(t, proxy, strict, origin);

  const viaH1 = async (): Promise<string> => {
    const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "early.test", path: "/", headers: { connection: "close" } });
    assert.equal(res.status, 200);
    return res.body.toString();
  };
  // A client that speaks h2 has the server offered h2 too: the early handshake offers what its request will.
  const viaH2 = async (): Promise<string> => {
    const socket = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "early.test", alpn: ["h2"] });
    const session = http2.connect("https://early.test", { createConnection: () => socket });
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/" });
        let got = "";
        req.on("data", (d: Buffer) => (got += d.toString()));
        req.on("end", () => resolve(got));
        req.on("error", reject);
      });
    } finally {
      session.destroy();
    }
  };
  for (const fetch of [viaH1, viaH2]) {
    hooks.length = 0;
    const before = origin.connections;
    assert.equal(await fetch(), "early");
    assert.equal(origin.connections - before, 1, "the handshake begun early carried the request: no second connection");
    assert.equal(origin.servernames.at(-1), "early.test");
    // Begun before the client's handshake was done (the request's hooks need not wait for it).
    assert.ok(hooks.indexOf("tls_start_server") < hooks.indexOf("tls_established_client"), hooks.join(","));
    assert.equal(hooks.filter((h) => h === "tls_established_server").length, 1, hooks.join(","));
  }

  assert.deepEqual(peers, [String(origin.port), String(origin.port)]);
  hooks.length = 0;
  const refused = await httpsViaProxy(strict.port, { target: `127.0.0.1:${origin.port}`, servername: "early.test", path: "/", headers: { connection: "close" } });
  assert.equal(refused.status, 502);
  assert.match(refused.body.toString(), /certificate/);
  assert.deepEqual(hooks.filter((h) => h.startsWith("tls_") && h.endsWith("_server")), ["tls_start_server", "tls_failed_server"]);
});

test("i ~tcp holds each TCP message until it is resumed; a kill closes the connection", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const proxy = await startProxy({ options: { intercept: "~tcp" } });
  closeAfter(t, proxy, echo);
  const held = async (what: string): Promise<TCPFlow> => {
    let flow: TCPFlow | undefined;
    await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as TCPFlow | undefined) !== undefined, what);
    return flow as TCPFlow;
  };
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  const received: Buffer[] = [];
  socket.on("data", (d: Buffer) => received.push(d));
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  socket.write("\x00held bytes");
  const flow = await held("the client's message held");
  flow.resume();
  // The echo comes back and is held in its turn, before the client sees it.
  await held("the server's echo held");
  assert.equal(flow.messages.length, 2);
  assert.deepEqual(received, []);
  flow.resume();
  await waitUntil(() => Buffer.concat(received).length === 11, "the echo delivered");
  assert.equal(Buffer.concat(received).toString("latin1"), "\x00held bytes");
  socket.write("\x00never relayed");
  (await held("the second message held")).kill();
  await closed;
  // X on an open relay with nothing held drops it too.
  proxy.engine.options.setText("intercept", "");
  const again = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  const againClosed = new Promise<void>((r) => again.once("close", () => r()));
  again.resume();
  again.write("\x00open");
  await waitUntil(() => proxy.engine.store.all().some((f) => f.type === "tcp" && f.live && f !== flow), "the second relay's flow");
  await proxy.engine.handle({ op: "command", line: "flow.kill @all" });
  await againClosed;
  await waitUntil(() => !flow.live, "the flow ended");
  assert.equal(flow.messages.filter((m) => !m.from_client).length, 1, "the killed message never reached the server");
});

test("while the intercept filter holds the client's TCP message, bytes the server sends wait behind it: the held message stays the flow's last (what tcp-message edits)", { timeout: 10_000 }, async (t) => {
  let serverSide: net.Socket | undefined;
  const server = net.createServer((s) => {
    serverSide = s;
    s.on("data", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ options: { intercept: "~tcp" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => { serverSide?.destroy(); server.close(() => r()); }) });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  const received: Buffer[] = [];
  socket.on("data", (d: Buffer) => received.push(d));
  socket.write("\x00from the client");
  let flow: TCPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as TCPFlow | undefined) !== undefined, "the client's message held");
  await waitUntil(() => serverSide !== undefined, "the server connected");
  await new Promise<void>((r) => serverSide!.write("\x00from the server", () => r()));
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(flow!.messages.map((m) => [m.from_client, Buffer.from(m.content).toString("latin1")]), [[true, "\x00from the client"]], "the held message is the last");
  flow!.resume();
  await waitUntil(() => flow!.messages.length === 2 && flow!.intercepted, "the server's bytes held in their turn");
  assert.equal(flow!.messages.at(-1)?.from_client, false);
  flow!.resume();
  await waitUntil(() => Buffer.concat(received).toString("latin1") === "\x00from the server", "the server's bytes delivered");
  socket.destroy();
});

test("a CONNECT client that leaves before its first byte, or refuses pryx's certificate, gets client_disconnected once", { timeout: 10_000 }, async (t) => {
  const { connect } = await import("node:tls");
  const seen: string[] = [];
  const proxy = await startProxy({
    addons: [{ name: "rec", client_connected: () => void seen.push("connected"), client_disconnected: () => void seen.push("disconnected") }],
  });
  closeAfter(t, proxy);
  const silent = await connectTunnel(proxy.port, "app.test:443");
  silent.end();
  await waitUntil(() => seen.length === 2, "the silent client's two hooks");
  // No CA given: the client refuses pryx's certificate and closes during the handshake.
  const refusing = await connectTunnel(proxy.port, "app.test:443");
  await new Promise<void>((resolve) => {
    const s = connect({ socket: refusing, servername: "app.test" });
    s.on("error", () => resolve());
    s.on("close", () => resolve());
  });
  await waitUntil(() => seen.length === 4, "the refusing client's two hooks");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, ["connected", "disconnected", "connected", "disconnected"]);
});

test("plain HTTP inside a CONNECT tunnel becomes HTTP flows, keep-alive included", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`plain ${req.url}`));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  t.after(() => socket.destroy());
  const host = `127.0.0.1:${origin.port}`;
  const received: Buffer[] = [];
  socket.on("data", (d: Buffer) => received.push(d));
  const text = (): string => Buffer.concat(received).toString();
  socket.write(`GET /a HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await waitUntil(() => text().includes("plain /a"), "the first response");
  // The same tunnel carries a second request: the connection was kept alive.
  socket.write(`GET /b HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  await waitUntil(() => text().includes("plain /b"), "the second response");
  assert.equal(text().match(/HTTP\/1\.1 200 /g)?.length, 2);
  const flows = await proxy.waitFinished(2);
  // One batch can carry both flows, so the order they finished in is not the order they arrived in.
  assert.deepEqual([...flows].sort((x, y) => x.seq - y.seq).map((f) => f.url), [`http://${host}/a`, `http://${host}/b`]);
  assert.equal(origin.connections, 1);
});

test("allow_hosts intercepts only the hosts it names and passes the others through", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { allow_hosts: "^elsewhere\\.test:", ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", ca: [origin.cert.certPem] });
  assert.equal(res.body.toString(), "ok");
  assert.equal(res.peer.fingerprint256, origin.cert.x509.fingerprint256, "the origin's own certificate: not intercepted");
  const flows = await proxy.waitFinished(1);
  assert.deepEqual(flows.map((f) => f.type), ["tcp"]);
});

test("ignore_hosts and allow_hosts match the name the ClientHello asks for too, as mitmproxy's do: a client that connects by IP is passed through (or intercepted) by its SNI", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const ignoring = await startProxy({ options: { ignore_hosts: "^app\\.test:", ssl_insecure: "true" } });
  const allowing = await startProxy({ options: { allow_hosts: "^app\\.test:", ssl_insecure: "true" } });
  closeAfter(t, ignoring, allowing, origin);
  const viaIp = (port: number, servername: string) => httpsViaProxy(port, { target: `127.0.0.1:${origin.port}`, servername, ca: [origin.cert.certPem, pryxCaPem()], headers: { connection: "close" } });
  // Connected by IP, named app.test in the ClientHello: ignored, the origin's own certificate.
  assert.equal((await viaIp(ignoring.port, "app.test")).peer.fingerprint256, origin.cert.x509.fingerprint256, "ignore_hosts by SNI passes through");
  assert.notEqual((await viaIp(ignoring.port, "localhost")).peer.fingerprint256, origin.cert.x509.fingerprint256, "another name is intercepted");
  assert.notEqual((await viaIp(allowing.port, "app.test")).peer.fingerprint256, origin.cert.x509.fingerprint256, "allow_hosts by SNI intercepts");
  assert.equal((await viaIp(allowing.port, "localhost")).peer.fingerprint256, origin.cert.x509.fingerprint256, "a name it does not allow passes through");
});

test("tcp_hosts, mitmproxy's generic TCP SSL mode: a TCP flow whose TLS is intercepted, holding the decrypted stream; a server that speaks first is relayed too", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("over tls"));
  const greeter = net.createServer((s) => {
    s.on("error", () => undefined);
    s.write("220 ready\r\n");
    s.on("data", (d: Buffer) => s.write(d));
  });
  await new Promise<void>((r) => greeter.listen(0, "127.0.0.1", r));
  const greeterPort = (greeter.address() as net.AddressInfo).port;
  const proxy = await startProxy({ options: { tcp_hosts: `:(${origin.port}|${greeterPort})$`, ssl_insecure: "true" } });
  closeAfter(t, proxy, origin, { close: () => new Promise<void>((r) => greeter.close(() => r())) });
  // The client gets pryx's certificate (its CA trusted), the server its request: TLS both ways.
  const res = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "app.test", headers: { connection: "close" } });
  assert.equal(res.body.toString(), "over tls");
  assert.notEqual(res.peer.fingerprint256, origin.cert.x509.fingerprint256, "intercepted, not passed through");
  const [summary] = await proxy.waitFinished(1);
  assert.equal(summary?.type, "tcp");
  const flow = proxy.engine.store.get(summary!.id) as TCPFlow;
  assert.match(Buffer.from(flow.messages[0]!.content).toString(), /^GET \/ HTTP\/1\.1\r\n/, "the flow holds the decrypted bytes");
  assert.ok(flow.messages.some((m) => !m.from_client && /over tls/.test(Buffer.from(m.content).toString())));
  // Its duration (last message less the client's connect, as mitmproxy's list shows) and when each side closed.
  assert.equal(typeof summary?.duration, "number");
  await waitUntil(() => flow.client_conn.timestamp_end !== undefined && flow.server_conn.timestamp_end !== undefined, "both sides closed");
  const timings = flowDetail(flow, proxy.engine.store.summary(flow), 0, 0).timings.map((x) => x.name);
  assert.ok(timings.includes("Client conn. closed") && timings.includes("Server conn. closed"), timings.join(", "));
  // A server that greets first: the client says nothing until it has read the greeting.
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${greeterPort}`);
  assert.equal((await readBytes(socket, 11)).toString(), "220 ready\r\n");
  socket.write("HELO x");
  assert.equal((await readBytes(socket, 6)).toString(), "HELO x");
  socket.end();
});

test("a TLS client that agrees no HTTP protocol (no ALPN, or only its own, as an MQTT client's) and sends what is not HTTP is relayed as TCP over TLS, as mitmproxy relays it; the server is offered the client's protocol", { timeout: 15_000 }, async (t) => {
  const cert = originCertificate();
  const offered: string[][] = [];
  const origin = tls.createServer({ key: cert.keyPem, cert: cert.certPem, ALPNCallback: ({ protocols }) => (offered.push(protocols), protocols[0]) }, (s) => {
    s.on("error", () => undefined);
    s.on("data", (d: Buffer) => s.write(Buffer.concat([Buffer.from("echo:"), d])));
  });
  origin.on("secureConnection", (s) => s.alpnProtocol || offered.push([]));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => origin.close(() => r())) });
  for (const alpn of [[], ["mqtt"]]) {
    const socket = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${portOf(origin)}`, servername: "broker.test", alpn });
    assert.equal(socket.alpnProtocol || "", alpn[0] ?? "", "the client's own protocol is agreed");
    socket.write("\x10\x0cMQTT connect");
    assert.equal((await readBytes(socket, 17)).toString("latin1"), "echo:\x10\x0cMQTT connect");
    socket.end();
  }
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.type), ["tcp", "tcp"]);
  assert.deepEqual(offered, [[], ["mqtt"]]);
});

test("a TLS client with no HTTP protocol agreed that says nothing (IMAPS, SMTPS: the server speaks first) gets the server's greeting, relayed as TCP over TLS; one that then sends HTTP still makes an HTTP flow", { timeout: 15_000 }, async (t) => {
  const cert = originCertificate();
  const greeter = tls.createServer({ key: cert.keyPem, cert: cert.certPem }, (s) => {
    s.on("error", () => undefined);
    s.write("* OK IMAP4rev1 ready\r\n");
    s.on("data", (d: Buffer) => s.write(`a1 OK ${d.toString()}`));
  });
  await new Promise<void>((r) => greeter.listen(0, "127.0.0.1", r));
  const web = await startTlsOrigin((_req, res) => res.end("late http"));
  const proxy = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, web, { close: () => new Promise<void>((r) => greeter.close(() => r())) });
  const imap = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${portOf(greeter)}`, servername: "imap.test", alpn: [] });
  assert.equal((await readBytes(imap, 22)).toString(), "* OK IMAP4rev1 ready\r\n");
  imap.write("LOGIN\r\n");
  assert.equal((await readBytes(imap, 13)).toString(), "a1 OK LOGIN\r\n");
  imap.end();
  const slow = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${web.port}`, servername: "app.test", alpn: [] });
  await new Promise((r) => setTimeout(r, 300));
  slow.write("GET /x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
  assert.match(await new Promise<string>((resolve) => {
    let got = "";
    slow.on("data", (d: Buffer) => (got += d.toString()));
    slow.on("close", () => resolve(got));
  }), /^HTTP\/1\.1 200 OK\r\n[^]*late http$/);
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.type).sort(), ["http", "tcp"]);
});

test("tcp_hosts: a client that takes its time to start TLS is still intercepted (its server, silent, does not speak first)", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("late but decrypted"));
  const proxy = await startProxy({ options: { tcp_hosts: `:${origin.port}$`, ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  t.after(() => socket.destroy());
  // A user typing, a client that resolves or loads keys first: longer than any fixed wait pryx might guess.
  await new Promise((r) => setTimeout(r, 600));
  const secured = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ socket, servername: "late.test", ca: [pryxCaPem()] }, () => resolve(s));
    s.once("error", reject);
  });
  assert.notEqual(secured.getPeerCertificate().fingerprint256, origin.cert.x509.fingerprint256, "pryx's certificate, not the origin's");
  secured.end("GET / HTTP/1.1\r\nhost: late.test\r\nconnection: close\r\n\r\n");
  const answer = await new Promise<string>((resolve) => {
    const got: Buffer[] = [];
    secured.on("data", (d: Buffer) => got.push(d));
    secured.on("close", () => resolve(Buffer.concat(got).toString()));
  });
  assert.match(answer, /late but decrypted$/);
  const [summary] = await proxy.waitFinished(1);
  const flow = proxy.engine.store.get(summary!.id) as TCPFlow;
  assert.match(Buffer.from(flow.messages[0]!.content).toString(), /^GET \/ HTTP\/1\.1\r\n/, "the flow holds the decrypted bytes");
});

/** A TCP server that answers only after the client has shut its side: a half-close protocol. */
async function startAnswerAfterEnd(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const got: Buffer[] = [];
    s.on("error", () => undefined);
    s.on("data", (d: Buffer) => got.push(d));
    s.on("end", () => setTimeout(() => s.end(`answer:${Buffer.concat(got).toString()}`), 50));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: portOf(server), close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Everything the socket receives until the peer's FIN; rejects if it closes without one. */
function readToEnd(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.once("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.once("error", reject);
  });
}

function tcpRecorder(hooks: string[]): Addon {
  return {
    name: "tcp-recorder",
    tcp_end: () => void hooks.push("tcp_end"),
    tcp_error: (f: TCPFlow) => void hooks.push(`tcp_error:${f.error?.msg}`),
  };
}

/** A TCP server of `onConnection`'s and a proxy relaying to it as tcp_hosts, recording the TCP end hooks; closed when the test ends. */
async function tcpRelayTo(t: TestContext, onConnection: (s: net.Socket) => void): Promise<{ proxy: Awaited<ReturnType<typeof startProxy>>; port: number; hooks: string[] }> {
  const origin = net.createServer((s) => {
    s.on("error", () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const hooks: string[] = [];
  const proxy = await startProxy({ addons: [tcpRecorder(hooks)], options: { tcp_hosts: "." } });
  t.after(async () => {
    await proxy.stop();
    await new Promise<void>((r) => origin.close(() => r()));
  });
  return { proxy, port: portOf(origin), hooks };
}

test("a raw TCP client that half-closes still gets the server's answer, and the flow ends without an error", { timeout: 10_000 }, async (t) => {
  const origin = await startAnswerAfterEnd();
  const hooks: string[] = [];
  const proxy = await startProxy({ addons: [tcpRecorder(hooks)], options: { tcp_hosts: "." } });
  closeAfter(t, proxy, origin);
  for (const pause of [true, false]) {
    const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
    t.after(() => socket.destroy());
    const answer = readToEnd(socket);
    socket.write("ping");
    // Without the pause the FIN arrives while the relay is still opening the server connection.
    if (pause) await new Promise((r) => setTimeout(r, 100));
    socket.end();
    assert.equal(await answer, "answer:ping");
  }
  await waitUntil(() => hooks.length === 2, "tcp_end for both flows");
  assert.deepEqual(hooks, ["tcp_end", "tcp_end"]);
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.error), [undefined, undefined]);
});

test("a TCP server that speaks and closes first ends the flow with tcp_end, not an error", { timeout: 10_000 }, async (t) => {
  const { proxy, port, hooks } = await tcpRelayTo(t, (s) => {
    s.resume();
    s.end("bye\n");
  });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${port}`);
  t.after(() => socket.destroy());
  // The client speaks first (so the tunnel can tell the protocol), the server answers and closes,
  // and the client shuts its own side a little later, as a client reading to the end does.
  socket.allowHalfOpen = true;
  const answer = readToEnd(socket);
  socket.write("hi");
  assert.equal(await answer, "bye\n");
  await new Promise((r) => setTimeout(r, 50));
  socket.end();
  await waitUntil(() => hooks.length === 1, "tcp_end");
  assert.deepEqual(hooks, ["tcp_end"]);
  // Closing the sockets once the flow is over is no error either.
  const [summary] = await proxy.waitFinished(1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((proxy.engine.store.get(summary?.id ?? "") as TCPFlow).error, undefined);
});

test("an ignored host whose server speaks first is relayed before the client sends a byte", { timeout: 10_000 }, async (t) => {
  // SMTP, SSH and many databases greet first; waiting for the client's first bytes would hang both.
  const origin = net.createServer((s) => {
    s.on("error", () => undefined);
    s.write("220 ready\r\n");
    s.pipe(s);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const cases: Record<string, string>[] = [{ ignore_hosts: `:${portOf(origin)}$` }, { tcp_hosts: `:${portOf(origin)}$` }];
  for (const options of cases) {
    const proxy = await startProxy({ options });
    t.after(() => proxy.stop());
    const socket = await connectTunnel(proxy.port, `127.0.0.1:${portOf(origin)}`);
    t.after(() => socket.destroy());
    // A tunnel waiting for the client would never greet: fail in seconds, not at the test's timeout.
    socket.setTimeout(3000, () => socket.destroy());
    assert.equal((await readBytes(socket, 11)).toString(), "220 ready\r\n", JSON.stringify(options));
    socket.write("EHLO x\r\n");
    assert.equal((await readBytes(socket, 8)).toString(), "EHLO x\r\n");
  }
  t.after(() => new Promise<void>((r) => origin.close(() => r())));
});

test("CONNECT to a passed-through host whose server is down is answered 502 with the reason", { timeout: 10_000 }, async (t) => {
  const port = await deadPort();
  const live = await startEcho();
  t.after(() => live.close());
  const cases: Record<string, string>[] = [{ ignore_hosts: "^127\\.0\\.0\\.1:" }, { tcp_hosts: "^127\\.0\\.0\\.1:" }];
  for (const options of cases) {
    const { addon: recorder, hooks } = hookRecorder("http_connect", "tcp_start", "server_connect_error", "tcp_error");
    const proxy = await startProxy({ addons: [recorder], options });
    t.after(() => proxy.stop());
    const refused = await connectTunnel(proxy.port, `127.0.0.1:${port}`).then(
      () => assert.fail(`${JSON.stringify(options)}: the tunnel was opened`),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof ConnectRefused, String(refused));
    assert.equal(refused.status, 502, JSON.stringify(options));
    assert.match(refused.body, new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    assert.ok(refused.closedByProxy);
    const [flow] = await proxy.waitFinished(1);
    assert.equal(flow?.type, "tcp");
    assert.match(flow?.error ?? "", /connection refused/);
    assert.deepEqual(hooks, ["http_connect", "tcp_start", "server_connect_error", "tcp_error"]);
    // A live pass-through host still gets its tunnel, relayed at once.
    const socket = await connectTunnel(proxy.port, `127.0.0.1:${live.port}`);
    t.after(() => socket.destroy());
    socket.write("still relayed");
    assert.equal((await readBytes(socket, 13)).toString(), "still relayed");
  }
});

test("relays take the hook chain only when some hook has work: none by default, the intercept filter or a script's tcp_message", { timeout: 10_000 }, async (t) => {
  const proxy = await startProxy();
  closeAfter(t, proxy);
  assert.equal(proxy.engine.addons.wants("tcp_message"), false, "chunks go straight through");
  assert.equal(proxy.engine.addons.wants("websocket_message"), false);
  proxy.engine.options.setText("intercept", "~tcp");
  // intercept_active follows the filter a microtask later.
  await new Promise((r) => setImmediate(r));
  assert.equal(proxy.engine.addons.wants("tcp_message"), true);
  proxy.engine.options.setText("intercept", "");
  await proxy.engine.addons.add({ name: "counter", tcp_message: () => undefined }, "counter");
  assert.equal(proxy.engine.addons.wants("tcp_message"), true, "a script's hook always has work");
});

test("tcp_timeout closes a relay that carried nothing either way for that long, with tcp_error saying why", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const hooks: string[] = [];
  const proxy = await startProxy({
    addons: [{ name: "tcp-recorder", tcp_end: () => void hooks.push("tcp_end"), tcp_error: (f: TCPFlow) => void hooks.push(`tcp_error:${f.error?.msg}`) }],
    options: { tcp_timeout: "1" },
  });
  t.after(async () => {
    await proxy.stop();
    await echo.close();
  });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now())));
  // Traffic every 400 ms keeps it open past the timeout...
  const start = Date.now();
  for (let i = 0; i < 4; i++) {
    socket.write(`ping ${i}`);
    await readBytes(socket, 6);
    await new Promise((r) => setTimeout(r, 400));
  }
  assert.deepEqual(hooks, [], "still open after 1.6 s of steady traffic");
  // ...then a second of silence closes it.
  const at = await closed;
  assert.ok(at - start >= 2000, `closed ${at - start} ms after the start, not before the silence`);
  await waitUntil(() => hooks.length > 0 || undefined, "tcp_error");
  assert.deepEqual(hooks, ["tcp_error:no data either way for 1 s: closed (tcp_timeout)"]);
  assert.throws(() => proxy.engine.options.setText("tcp_timeout", "-5"), /option tcp_timeout: must be 0 \(never\) or more \(given "-5"\)/);
});

test("a message held by the intercept filter is not inactivity: the relay outlives tcp_timeout while it waits", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const proxy = await startProxy({ options: { intercept: "~tcp", tcp_timeout: "1" } });
  closeAfter(t, proxy, echo);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  let closed = false;
  socket.once("close", () => (closed = true));
  socket.write("\x00held");
  let flow: TCPFlow | undefined;
  await waitUntil(() => (flow = proxy.engine.store.all().find((f) => f.intercepted) as TCPFlow | undefined) !== undefined, "the message held");
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal(closed, false, "still open after twice the timeout, the message held");
  proxy.engine.options.setText("intercept", "");
  flow!.resume();
  const back = await readBytes(socket, 5);
  assert.equal(back.toString("latin1"), "\x00held");
});

test("inject.tcp sends made-up bytes into a live relay, either way, recorded on the flow and passed through tcp_message", { timeout: 10_000 }, async (t) => {
  const echo = await startEcho();
  const hooked: string[] = [];
  const proxy = await startProxy({ addons: [{ name: "tcp-seen", tcp_message: (f: TCPFlow) => void hooked.push(Buffer.from(f.messages.at(-1)!.content).toString("latin1")) }] });
  t.after(async () => {
    await proxy.stop();
    await echo.close();
  });
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${echo.port}`);
  socket.write("\x00first");
  await readBytes(socket, 6);
  const flow = proxy.engine.store.all().find((f) => f.type === "tcp") as TCPFlow;
  const toClient = readBytes(socket, 4);
  await proxy.engine.handle({ op: "command", line: `inject.tcp ${flow.id} true zap!` });
  assert.equal((await toClient).toString(), "zap!");
  // To the server: the echo sends it back.
  const echoed = readBytes(socket, 5);
  await proxy.engine.handle({ op: "command", line: `inject.tcp ${flow.id} false 'pong?'` });
  assert.equal((await echoed).toString(), "pong?");
  assert.deepEqual(
    flow.messages.map((m) => `${m.from_client ? "c" : "s"}:${Buffer.from(m.content).toString("latin1")}`),
    ["c:\x00first", "s:\x00first", "s:zap!", "c:pong?", "s:pong?"],
  );
  assert.deepEqual(hooked, ["\x00first", "\x00first", "zap!", "pong?", "pong?"], "injected bytes pass tcp_message as mitmproxy's do");
  await assert.rejects(proxy.engine.handle({ op: "command", line: `inject.websocket ${flow.id} true no` }), /is a TCP flow: use inject\.tcp/);
  // Typed at the prompt, the message is escaped text, as mitmproxy's bytes arguments: a line
  // protocol's CRLF and binary bytes can be sent.
  const escaped = readBytes(socket, 7);
  await proxy.engine.handle({ op: "command", line: `inject.tcp ${flow.id} true 'a\\x00b\\r\\né'` });
  assert.deepEqual([...(await escaped)], [0x61, 0, 0x62, 13, 10, 0xc3, 0xa9]);
  socket.end();
});

test("http_connected sees the 200 of an accepted CONNECT; http_connect_error the refusal, an addon's or a dead server's 502", { timeout: 15_000 }, async (t) => {
  const seen: string[] = [];
  const addon: Addon = {
    http_connect(flow) {
      if (flow.request.host === "refused.test") flow.response = new Response({ status_code: 403, content: Buffer.from("no") });
    },
    http_connected(flow) {
      seen.push(`connected ${flow.request.host} ${flow.response?.status_code} ${flow.response?.reason}`);
    },
    http_connect_error(flow) {
      seen.push(`error ${flow.request.host} ${flow.response?.status_code}`);
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  const eager = await startProxy({ addons: [addon], options: { connection_strategy: "eager" } });
  closeAfter(t, proxy, eager);

  const open = await connectTunnel(proxy.port, "accepted.test:443");
  open.destroy();
  await connectTunnel(proxy.port, "refused.test:443").then(
    () => assert.fail("the refused tunnel was opened"),
    (err: unknown) => assert.ok(err instanceof ConnectRefused && err.status === 403),
  );
  const dead = await deadPort();
  await connectTunnel(eager.port, `127.0.0.1:${dead}`).then(
    () => assert.fail("a tunnel to a dead port was opened"),
    (err: unknown) => assert.ok(err instanceof ConnectRefused && err.status === 502),
  );
  assert.deepEqual(seen, ["connected accepted.test 200 Connection established", "error refused.test 403", "error 127.0.0.1 502"]);
});

test("the server is asked for the name the client's ClientHello asked for, not the Host header's, as mitmproxy does", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`host ${req.headers["host"]}`));
  const proxy = await startProxy({ options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const socket = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "sni.test" });
  t.after(() => socket.destroy());
  const answer = new Promise<string>((resolve) => {
    let got = "";
    socket.on("data", (d: Buffer) => (got += d.toString()));
    socket.on("end", () => resolve(got));
  });
  socket.write(`GET / HTTP/1.1\r\nHost: localhost:${origin.port}\r\nConnection: close\r\n\r\n`);
  assert.match(await answer, new RegExp(`host localhost:${origin.port}$`));
  assert.deepEqual(origin.servernames, ["sni.test"], "the client's SNI, though the Host header says localhost");
});

test("without the client's SNI the server is asked for, and verified against, the host pryx connects to, not the Host header's (mitmproxy's choice): by IP with another Host, and reverse:https with keep_host_header", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`host ${req.headers["host"]}`));
  // Verified against the origin's own certificate (names localhost, app.test and 127.0.0.1), not -k.
  const originCa = path.join(tempDir("pryx-origin-ca-"), "origin.pem");
  fs.writeFileSync(originCa, originCertificate().certPem);
  const options = { ssl_verify_upstream_trusted_ca: originCa };
  const proxy = await startProxy({ options });
  const reverse = await startProxy({ options: { ...options, mode: `reverse:https://localhost:${origin.port}`, keep_host_header: "true" } });
  closeAfter(t, proxy, reverse, origin);
  const byIp = await httpsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, path: "/", headers: { host: "virtual.test" } });
  assert.equal(byIp.status, 200, byIp.body.toString());
  assert.equal(byIp.body.toString(), "host virtual.test");
  const kept = await rawExchange(reverse.port, "GET / HTTP/1.1\r\nHost: virtual.test\r\nConnection: close\r\n\r\n");
  assert.match(kept.toString(), /^HTTP\/1\.1 200[\s\S]*host virtual\.test$/);
  // An IP sends no SNI at all; the reverse target's name is localhost.
  assert.deepEqual(origin.servernames, [false, "localhost"]);
});

test("connection_strategy=lazy: a tunnel client that says nothing (its server speaks first) gets the server's greeting after a tenth of a second, relayed as a TCP flow", { timeout: 15_000 }, async (t) => {
  const proxy = await startProxy({ keepFlows: true });
  const greeter = net.createServer((s) => {
    s.on("error", () => undefined);
    s.write("220 ready\r\n");
    s.on("data", (d: Buffer) => s.write(d));
  });
  await new Promise<void>((r) => greeter.listen(0, "127.0.0.1", r));
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => greeter.close(() => r())) });
  const smtp = await connectTunnel(proxy.port, `127.0.0.1:${portOf(greeter)}`);
  smtp.setTimeout(5000, () => smtp.destroy());
  assert.equal((await readBytes(smtp, 11)).toString(), "220 ready\r\n", "the greeting came without the client sending a byte");
  smtp.write("EHLO x\r\n");
  assert.equal((await readBytes(smtp, 8)).toString(), "EHLO x\r\n");
  smtp.destroy();
  await proxy.waitLog(/the client said nothing for 100 ms after the CONNECT: connecting to 127\.0\.0\.1:\d+, whose server may speak first/);
  await waitUntil(() => proxy.engine.store.all().some((f) => f.type === "tcp") || undefined, "a TCP flow");
});

test("connection_strategy=lazy: a TLS client slow to start its handshake after the CONNECT is still intercepted, on the server connection opened while it was silent", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("slow"));
  const proxy = await startProxy({ keepFlows: true, options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${origin.port}`);
  // Well past the moment pryx connects the server of a silent client.
  await proxy.waitLog(/the client said nothing for 100 ms after the CONNECT/);
  await new Promise((r) => setTimeout(r, 300));
  const secure = tls.connect({ socket, servername: "app.test", ca: [pryxCaPem()], ALPNProtocols: ["http/1.1"] });
  await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
  assert.match(String(secure.getPeerCertificate().issuer.CN), /pryx/i, "pryx's certificate: intercepted, not relayed");
  secure.write("GET /late HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
  const reply = await new Promise<string>((resolve) => {
    let text = "";
    secure.on("data", (d: Buffer) => (text += d.toString())).on("close", () => resolve(text));
  });
  assert.match(reply, /^HTTP\/1\.1 200[\s\S]*slow$/);
  assert.deepEqual(origin.requests.map((r) => r.path), ["/late"]);
  const flows = proxy.engine.store.all();
  assert.deepEqual(flows.map((f) => f.type), ["http"], "one HTTPS flow, no TCP relay");
  assert.equal(origin.connections, 1, "the request used the connection opened while the client was silent");
});

test("connection_strategy=lazy: a silent tunnel client whose server is down gets one server_connect and one server_connect_error, whether it then sends a request (its 502) or bytes to relay (tcp_error)", { timeout: 15_000 }, async (t) => {
  const rec = hookRecorder("server_connect", "server_connect_error", "request", "error", "tcp_start", "tcp_error");
  const proxy = await startProxy({ addons: [rec.addon] });
  closeAfter(t, proxy);
  const port = await deadPort();
  const late = async (bytes: string): Promise<string> => {
    const socket = await connectTunnel(proxy.port, `127.0.0.1:${port}`);
    // Past the early connection pryx makes for a client that says nothing.
    await proxy.waitLog(/the client said nothing for 100 ms after the CONNECT/);
    await waitUntil(() => rec.hooks.includes("server_connect_error") || undefined, "the early connection's failure");
    socket.write(bytes);
    return new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (d: Buffer) => (text += d.toString())).on("close", () => resolve(text));
    });
  };
  const reply = await late("GET /late HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
  assert.match(reply, /^HTTP\/1\.1 502[\s\S]*connection refused/);
  await waitUntil(() => rec.hooks.includes("error") || undefined, "the flow's error");
  assert.deepEqual(rec.hooks, ["server_connect", "server_connect_error", "request", "error"]);
  rec.hooks.length = 0;
  proxy.logs.length = 0;
  await late("hello\r\n");
  await waitUntil(() => rec.hooks.includes("tcp_error") || undefined, "the TCP flow's error");
  assert.deepEqual(rec.hooks, ["server_connect", "server_connect_error", "tcp_start", "tcp_error"]);
  const tcp = proxy.engine.store.all().find((f) => f.type === "tcp") as TCPFlow;
  assert.match(tcp.error?.msg ?? "", /connection refused/);
});

test("a TCP server that resets its connection mid-stream: the client gets a reset too, not a FIN that made the cut-off stream look whole, and the flow names the side that reset", { timeout: 10_000 }, async (t) => {
  const { proxy, port, hooks } = await tcpRelayTo(t, (s) =>
    s.once("data", () => {
      s.write("part of a download");
      setTimeout(() => s.resetAndDestroy(), 50);
    }),
  );
  const socket = await connectTunnel(proxy.port, `127.0.0.1:${port}`);
  t.after(() => socket.destroy());
  const seen = new Promise<string>((resolve) => {
    let got = "";
    socket.on("data", (d: Buffer) => (got += d.toString()));
    socket.once("end", () => resolve(`FIN after ${JSON.stringify(got)}`));
    socket.once("error", (e: Error & { code?: string }) => resolve(`${e.code} after ${JSON.stringify(got)}`));
  });
  socket.write("get");
  assert.equal(await seen, 'ECONNRESET after "part of a download"');
  await waitUntil(() => hooks.length === 1, "tcp_error");
  assert.deepEqual(hooks, [`tcp_error:server 127.0.0.1:${port} reset the connection (ECONNRESET)`]);
});
