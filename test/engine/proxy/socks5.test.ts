import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { parseGreeting, parseRequest, parseUserPass, REPLY } from "../../../src/engine/proxy/socks5.ts";
import { startProxy } from "../../helpers/proxy.ts";
import { startHttpOrigin } from "../../helpers/origin.ts";
import type { Addon } from "../../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../../src/engine/flow/http.ts";
import type { Socks5AuthData } from "../../../src/engine/flow/connection.ts";

test("SOCKS5 greeting and requests parse from bytes, incomplete input waits for more", () => {
  assert.deepEqual(parseGreeting(Buffer.from([5, 1])), { kind: "incomplete" });
  assert.deepEqual(parseGreeting(Buffer.from([5, 2, 0, 2])), { kind: "ok", consumed: 4, methods: [0, 2] });
  assert.equal(parseGreeting(Buffer.from([4, 1, 0])).kind, "error");
  const domain = Buffer.concat([Buffer.from([5, 1, 0, 3, 8]), Buffer.from("app.test"), Buffer.from([0x1f, 0x90])]);
  assert.deepEqual(parseRequest(domain), { kind: "ok", consumed: domain.length, host: "app.test", port: 8080 });
  assert.deepEqual(parseRequest(domain.subarray(0, 9)), { kind: "incomplete" });
  assert.deepEqual(parseRequest(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 80])), { kind: "ok", consumed: 10, host: "127.0.0.1", port: 80 });
  const v6 = Buffer.concat([Buffer.from([5, 1, 0, 4]), Buffer.from("00000000000000000000000000000001", "hex"), Buffer.from([1, 187])]);
  assert.deepEqual(parseRequest(v6), { kind: "ok", consumed: 22, host: "::1", port: 443 });
  const bind = parseRequest(Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]));
  assert.equal(bind.kind, "error");
  assert.equal(bind.kind === "error" && bind.reply?.[1], REPLY.commandNotSupported);
  const up = Buffer.concat([Buffer.from([1, 5]), Buffer.from("alice"), Buffer.from([3]), Buffer.from("pwd")]);
  assert.deepEqual(parseUserPass(up), { kind: "ok", consumed: up.length, user: "alice", pass: "pwd" });
});

/**
 * A SOCKS5 client: greeting (no auth, or username/password with `creds`), CONNECT to the origin,
 * one GET. Resolves with what the origin answered, or "auth failed" when the proxy refused the credentials.
 */
function socksGet(proxyPort: number, originPort: number, creds?: { user: string; pass: string }, address = Buffer.from([1, 127, 0, 0, 1])): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, "127.0.0.1");
    let stage = creds ? -1 : 0;
    let got = Buffer.alloc(0);
    const connect = (): void => {
      stage = 1;
      const port = Buffer.alloc(2);
      port.writeUInt16BE(originPort);
      s.write(Buffer.concat([Buffer.from([5, 1, 0]), address, port]));
    };
    s.on("connect", () => s.write(Buffer.from(creds ? [5, 1, 2] : [5, 1, 0])));
    s.on("data", (d: Buffer) => {
      if (stage === -1 && creds) {
        assert.deepEqual([...d], [5, 2], "the proxy asks for a username and password");
        stage = -2;
        s.write(Buffer.concat([Buffer.from([1, creds.user.length]), Buffer.from(creds.user), Buffer.from([creds.pass.length]), Buffer.from(creds.pass)]));
      } else if (stage === -2) {
        if (d[1] !== 0) return resolve("auth failed");
        connect();
      } else if (stage === 0) {
        assert.deepEqual([...d], [5, 0]);
        connect();
      } else if (stage === 1) {
        assert.equal(d[1], 0, "the proxy reports success");
        stage = 2;
        s.write(`GET /via-socks HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\nConnection: close\r\n\r\n`);
      } else got = Buffer.concat([got, d]);
    });
    s.on("end", () => resolve(got.toString()));
    s.on("error", reject);
    setTimeout(() => reject(new Error("SOCKS exchange timed out")), 5000).unref();
  });
}

test("socks5 mode tunnels a client to the requested address and records the HTTP flow inside", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`socks saw ${req.url}`));
  const proxy = await startProxy({ options: { mode: "socks5" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  const answer = await socksGet(proxy.port, origin.port);
  assert.match(answer, /^HTTP\/1\.1 200 OK/);
  assert.match(answer, /socks saw \/via-socks$/);
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.url, `http://127.0.0.1:${origin.port}/via-socks`);
});

test("socks5 to an IPv6 address names it as RFC 5952 spells it, as mitmproxy does: the flow's host is ::1, not 0:0:0:0:0:0:0:1", { timeout: 10_000 }, async (t) => {
  const origin = await new Promise<net.Server>((resolve) => {
    const server = net.createServer((c) => {
      c.on("error", () => undefined);
      c.once("data", () => c.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nv6"));
    });
    server.listen(0, "::1", () => resolve(server));
  });
  const proxy = await startProxy({ options: { mode: "socks5" } });
  t.after(async () => {
    await proxy.stop();
    await new Promise((r) => origin.close(r));
  });
  const port = (origin.address() as net.AddressInfo).port;
  const answer = await socksGet(proxy.port, port, undefined, Buffer.concat([Buffer.from([4]), Buffer.from("00000000000000000000000000000001", "hex")]));
  assert.match(answer, /v6$/);
  const [flow] = await proxy.waitFinished(1);
  const stored = proxy.engine.store.get(flow?.id ?? "") as HTTPFlow;
  assert.deepEqual([stored.request.host, stored.server_conn.address?.[0]], ["::1", "::1"]);
});

test("socks5 to a passed-through host whose server is down replies 'connection refused', not success then a close", { timeout: 10_000 }, async (t) => {
  const { deadPort } = await import("../../helpers/wait.ts");
  const port = await deadPort();
  const proxy = await startProxy({ options: { mode: "socks5", tcp_hosts: "." } });
  t.after(() => proxy.stop());
  const replyTo = await new Promise<Buffer>((resolve, reject) => {
    const s = net.connect(proxy.port, "127.0.0.1", () => s.write(Buffer.from([5, 1, 0])));
    let got = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      // After the method reply (2 bytes), ask for 127.0.0.1:port.
      if (got.length === 2) s.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
    });
    s.on("close", () => resolve(got.subarray(2)));
    s.on("error", reject);
    s.setTimeout(5000, () => s.destroy(new Error("no reply")));
  });
  assert.equal(replyTo[1], REPLY.refused, `reply ${[...replyTo].join(",")}`);
  const [flow] = await proxy.waitFinished(1);
  assert.match(flow?.error ?? "", /refused/);
});

test("socks5 with proxyauth asks for credentials: right ones pass, wrong ones are refused, and the proxy keeps serving", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`socks saw ${req.url}`));
  const proxy = await startProxy({ options: { mode: "socks5", proxyauth: "alice:secret" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  assert.equal(await socksGet(proxy.port, origin.port, { user: "alice", pass: "wrong" }), "auth failed");
  assert.match(await socksGet(proxy.port, origin.port, { user: "alice", pass: "secret" }), /socks saw \/via-socks$/);
  const [flow] = await proxy.waitFinished(1);
  assert.deepEqual(proxy.engine.store.get(flow!.id)?.metadata, { proxyauth: ["alice", "secret"] }, "the tunnel's flows record who came in");
  await proxy.waitLog(/SOCKS5 authentication failed for user "alice"/);
});

test("socks5_auth decides, as mitmproxy's: it sees whether the credentials match proxyauth and has the last word", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`socks saw ${req.url}`));
  const seen: string[] = [];
  const gate: Addon = {
    name: "gate",
    socks5_auth(data: Socks5AuthData) {
      seen.push(`${data.username}:${data.password} ${data.valid} ${data.client_conn.proxy_mode}`);
      // Any password for bob; alice only with proxyauth's, and never from this addon's blocklist.
      if (data.username === "bob") data.valid = true;
      if (data.password === "blocked") data.valid = false;
    },
  };
  const proxy = await startProxy({ addons: [gate], options: { mode: "socks5", proxyauth: "alice:blocked" } });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  assert.match(await socksGet(proxy.port, origin.port, { user: "bob", pass: "anything" }), /socks saw/);
  assert.equal(await socksGet(proxy.port, origin.port, { user: "alice", pass: "blocked" }), "auth failed");
  assert.deepEqual(seen, ["bob:anything false socks5", "alice:blocked true socks5"]);

  // Without proxyauth the hook alone makes the proxy ask for credentials.
  const open = await startProxy({ addons: [gate], options: { mode: "socks5" } });
  t.after(() => open.stop());
  assert.equal(await socksGet(open.port, origin.port, { user: "carol", pass: "x" }), "auth failed");
  assert.match(await socksGet(open.port, origin.port, { user: "bob", pass: "x" }), /socks saw/);
});
