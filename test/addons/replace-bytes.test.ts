import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import replaceBytes from "../../addons/replace-bytes.ts";
import { startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("replace-bytes rewrites TCP chunks both ways through reverse:tcp", { timeout: 10_000 }, async (t) => {
  // The server echoes what it gets and adds its own "foo".
  const server = net.createServer((c) => c.on("data", (d) => c.end(`${d.toString()} and foo`)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ addons: [replaceBytes], options: { mode: `reverse:tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`, replace_bytes: "foo/barbar" } });
  closeAfter(t, proxy, server);
  const answer = await new Promise<string>((resolve, reject) => {
    const c = net.connect(proxy.port, "127.0.0.1", () => c.write("a foo, another foo"));
    let got = "";
    c.on("data", (d) => (got += d.toString()));
    c.on("end", () => resolve(got));
    c.on("error", reject);
  });
  // Client to server: both foos became barbar; the server's own foo too, on its way back.
  assert.equal(answer, "a barbar, another barbar and barbar");
});

test("replace-bytes rewrites UDP datagrams through reverse:udp", { timeout: 10_000 }, async (t) => {
  const server = dgram.createSocket("udp4");
  server.on("message", (m, r) => server.send(Buffer.concat([m, Buffer.from("|foo")]), r.port, r.address));
  await new Promise<void>((r) => server.bind(0, "127.0.0.1", () => r()));
  const proxy = await startProxy({ addons: [replaceBytes], options: { mode: `reverse:udp://127.0.0.1:${server.address().port}` } });
  const client = dgram.createSocket("udp4");
  closeAfter(t, proxy, server, client);
  const answer = new Promise<string>((resolve) => client.once("message", (m) => resolve(m.toString())));
  client.send("foo?", proxy.port, "127.0.0.1");
  assert.equal(await answer, "bar?|bar");
});
