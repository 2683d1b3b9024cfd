import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { httpsViaProxy, startTlsOrigin } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("proxy_debug logs a connection's steps at debug level, in order; off, nothing, and the hooks only it wants are not taken", { timeout: 10_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ok"));
  const quiet = await startProxy({ options: { ssl_insecure: "true" } });
  const loud = await startProxy({ options: { ssl_insecure: "true", proxy_debug: "true" } });
  closeAfter(t, quiet, loud, origin);
  const req = { target: `127.0.0.1:${origin.port}`, servername: "app.test", headers: { connection: "close" } };

  assert.equal((await httpsViaProxy(quiet.port, req)).status, 200);
  await quiet.waitFinished(1);
  assert.deepEqual(quiet.logs.filter((l) => l.level === "debug"), []);
  assert.equal(quiet.engine.addons.wants("next_layer"), false);
  assert.equal(quiet.engine.addons.wants("tls_established_client"), false);

  assert.equal((await httpsViaProxy(loud.port, req)).status, 200);
  await loud.waitLog(/client disconnect/);
  await loud.waitLog(/server disconnect/);
  // The info lines (ConnectionLogAddon) with proxy_debug's debug lines between them, in order.
  const lines = loud.logs.filter((l) => l.level === "debug" || /: (client|server) (dis)?connect/.test(l.msg)).map((l) => l.msg.replace(/^127\.0\.0\.1:\d+: /, ""));
  const o = origin.port;
  const shown = lines.map((l) => l.replace(/TLS_[A-Z0-9_]+/, "CIPHER"));
  assert.deepEqual(shown.slice(0, 7), [
    "client connect",
    `regular mode, to 127.0.0.1:${loud.port}`,
    `next layer tls (first bytes ${shown[2]?.match(/first bytes (\d+)/)?.[1]}, for 127.0.0.1:${o})`,
    "client TLS TLSv1.3 CIPHER, SNI app.test, ALPN http/1.1",
    `connecting to 127.0.0.1:${o}`,
    // pryx's server_connected comes once the server's TLS is up too.
    `server TLS TLSv1.3 CIPHER with 127.0.0.1:${o}, SNI app.test, ALPN http/1.1`,
    `server connect 127.0.0.1:${o}`,
  ]);
  // Connection: close: both ends close after the answer, in either order.
  assert.deepEqual(shown.slice(7).sort(), ["client disconnect", `server disconnect 127.0.0.1:${o}`]);
  assert.equal(loud.engine.addons.wants("next_layer"), true);
});
