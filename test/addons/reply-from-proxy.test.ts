import { test } from "node:test";
import assert from "node:assert/strict";
import replyFromProxy from "../../addons/reply-from-proxy.ts";
import { startProxy } from "../helpers/proxy.ts";
import { rawExchange, startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("reply-from-proxy answers its URL itself, with no server behind it, and lets every other request through", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => res.end(`origin saw ${req.url}`));
  // reply.invalid cannot resolve: an answer can only come from the proxy.
  const proxy = await startProxy({ addons: [replyFromProxy], options: { reply_from_proxy_url: "http://reply.invalid/path" } });
  closeAfter(t, proxy, origin);

  const wire = await rawExchange(proxy.port, "GET http://reply.invalid/path HTTP/1.1\r\nHost: reply.invalid\r\n\r\n", { until: (got) => got.includes("Hello World") });
  const text = wire.toString("latin1");
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nContent-Type: text\/html\r\n/i);
  assert.match(text, /\r\ncontent-length: 11\r\n/i);
  assert.ok(text.endsWith("\r\n\r\nHello World"), text);

  const other = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/path`);
  assert.equal(other.body.toString(), "origin saw /path");
  assert.equal(origin.connections, 1, "only the other request reached a server");
  const [replied] = await proxy.waitFinished(2);
  assert.equal(replied?.status, 200);
  assert.equal(replied?.error, undefined);
});
