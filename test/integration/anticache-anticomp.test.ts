import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { rawExchange, startRawOrigin } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** The request head the origin received for one GET sent with caching and compression headers. */
async function originSees(options: Record<string, string>): Promise<string> {
  const origin = await startRawOrigin(() => OK);
  const proxy = await startProxy({ options });
  try {
    const request =
      `GET http://127.0.0.1:${origin.port}/page HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n` +
      "If-Modified-Since: Tue, 01 Oct 2024 10:00:00 GMT\r\nIf-None-Match: \"abc\"\r\nAccept-Encoding: gzip, br\r\nX-Keep: 1\r\n\r\n";
    const reply = await rawExchange(proxy.port, request, { until: (got) => got.toString("latin1").endsWith("ok") });
    assert.match(reply.toString("latin1"), /^HTTP\/1\.1 200/);
    return await waitUntil(() => origin.received[0]?.toString("latin1"), "the origin to receive the request");
  } finally {
    await proxy.stop();
    await origin.close();
  }
}

test("anticache strips If-Modified-Since and If-None-Match on the wire; anticomp asks for identity", { timeout: 10_000 }, async () => {
  const head = await originSees({ anticache: "true", anticomp: "true" });
  assert.doesNotMatch(head, /if-modified-since/i);
  assert.doesNotMatch(head, /if-none-match/i);
  assert.match(head, /\r\naccept-encoding: identity\r\n/i);
  assert.doesNotMatch(head, /gzip/);
  assert.match(head, /\r\nX-Keep: 1\r\n/);
});

test("off by default, as in mitmproxy: the headers go to the server as sent", { timeout: 10_000 }, async () => {
  const head = await originSees({});
  assert.match(head, /\r\nIf-Modified-Since: Tue, 01 Oct 2024 10:00:00 GMT\r\n/);
  assert.match(head, /\r\nIf-None-Match: "abc"\r\n/);
  assert.match(head, /\r\nAccept-Encoding: gzip, br\r\n/);
});

test("anticache and anticomp can be turned on at run time (the options editor's way)", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => OK);
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  proxy.engine.options.setText("anticache", "toggle");
  proxy.engine.options.setText("anticomp", "toggle");
  await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: "1"\r\nAccept-Encoding: gzip\r\n\r\n`, {
    until: (got) => got.toString("latin1").endsWith("ok"),
  });
  const head = await waitUntil(() => origin.received[0]?.toString("latin1"), "the request");
  assert.doesNotMatch(head, /if-none-match/i);
  assert.match(head, /accept-encoding: identity/i);
});
