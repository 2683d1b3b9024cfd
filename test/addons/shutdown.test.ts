import { test } from "node:test";
import assert from "node:assert/strict";
import { dump, origin as startOrigin } from "../helpers/dump-e2e.ts";
import { viaProxy } from "../helpers/origin.ts";

test("shutdown stops pryx dump, with exit code 0, when its URL is requested; other requests do not", { timeout: 30_000 }, async (t) => {
  const origin = await startOrigin(t);
  const quit = `http://127.0.0.1:${origin.port}/quit`;
  const pryx = await dump(t, ["-s", "addons/shutdown.ts", "--set", `shutdown_url=${quit}`]);
  assert.equal((await viaProxy(pryx.port, `http://127.0.0.1:${origin.port}/a`)).body.toString(), "hello");
  assert.equal(pryx.proc.exitCode, null, "still running after another URL");
  // The request that asked for it is still answered: pryx stops as on Ctrl-C, finishing what is in flight.
  assert.equal((await viaProxy(pryx.port, quit)).status, 200);
  const code = await Promise.race([pryx.exited, new Promise<string>((r) => setTimeout(() => r("still running after 10 s"), 10_000).unref())]);
  assert.equal(code, 0);
  assert.match(pryx.stderr(), /\[info\] Shutting down everything\.\.\.\n/);
  assert.match(pryx.stdout(), /GET http:\/\/127\.0\.0\.1:\d+\/quit << 200 OK/);
});
