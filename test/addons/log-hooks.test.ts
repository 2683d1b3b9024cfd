import { test } from "node:test";
import assert from "node:assert/strict";
import logHooks from "../../addons/log-hooks.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { waitUntil } from "../helpers/wait.ts";

test("log-hooks writes every hook that fires, with a timestamp, in order", { timeout: 10_000 }, async (t) => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  t.after(() => {
    process.stderr.write = write;
  });
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  t.after(() => origin.close());
  const proxy = await startProxy({ addons: [logHooks] });
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/x`);
  await waitUntil(() => lines.some((l) => / client_disconnected /.test(l)), "client_disconnected in the log");
  await proxy.stop();
  process.stderr.write = write;

  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z_]+/, l);
  const hooks = lines.map((l) => l.split(" ")[1]);
  const first = (h: string): number => hooks.indexOf(h);
  const flowOrder = ["client_connected", "requestheaders", "request", "server_connect", "server_connected", "responseheaders", "response", "client_disconnected"];
  for (const h of ["load", "configure", "running", ...flowOrder, "done"]) assert.ok(first(h) !== -1, `${h} was logged: ${hooks.join(",")}`);
  const positions = ["load", "running", ...flowOrder, "done"].map(first);
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b), hooks.join(","));
  assert.ok(lines.some((l) => l.endsWith(`request http://127.0.0.1:${origin.port}/x`)), "the request line names the URL");
});
