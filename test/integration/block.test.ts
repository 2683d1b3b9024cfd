import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { rawExchange, startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";

/**
 * Tests connect from 127.0.0.1 only: this addon, ahead of the built-ins, makes the client
 * look as if it came from `address`, which is all the block addon reads.
 */
const from = (address: string): Addon => ({
  name: "pretend-address",
  client_connected: (client) => void (client.peername = [address, client.peername[1]]),
});

test("loopback clients are served with mitmproxy's defaults (block_global on), and with block_private on too", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ options: { block_private: "true" } });
  closeAfter(t, proxy, origin);
  assert.equal(proxy.engine.options.get("block_global"), true);
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`)).body.toString(), "ok");
  assert.equal(proxy.logs.filter((l) => /killed by/.test(l.msg)).length, 0);
});

test("block_global refuses a client from a public address, with mitmproxy's log message", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ addons: [from("8.8.8.8")] });
  closeAfter(t, proxy, origin);
  const got = await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(got.length, 0);
  const line = await proxy.waitLog(/killed by block_global/);
  assert.equal(line.msg, "Client connection from 8.8.8.8 killed by block_global option.");
  assert.equal(line.level, "warn");
  assert.equal(origin.connections, 0);
});

test("block_global off serves the public client", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ addons: [from("::ffff:1.1.1.1")], options: { block_global: "false" } });
  closeAfter(t, proxy, origin);
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`)).body.toString(), "ok");
});

test("block_private refuses a client from a private address; off (the default) serves it", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ addons: [from("192.168.1.20")] });
  closeAfter(t, proxy, origin);
  const url = `http://127.0.0.1:${origin.port}/`;
  assert.equal((await viaProxy(proxy.port, url)).body.toString(), "ok");
  proxy.engine.options.setText("block_private", "true");
  const got = await rawExchange(proxy.port, `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(got.length, 0);
  const line = await proxy.waitLog(/killed by block_private/);
  assert.equal(line.msg, "Client connection from 192.168.1.20 killed by block_private option.");
});
