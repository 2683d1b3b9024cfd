import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

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
    response: () => void seen.push("response"),
    client_disconnected: () => void seen.push("client_disconnected"),
  };
  const proxy = await startProxy({ addons: [recorder] });
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/x`);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "hi");
  await proxy.waitFinished(1);
  const deadline = Date.now() + 2000;
  while (!seen.includes("client_disconnected") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, ["client_connected", "requestheaders", "request", "server_connect", "server_connected", "responseheaders", "response", "client_disconnected"]);
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
  t.after(async () => {
    await proxy.stop();
    await origin.close();
  });
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/x`);
  assert.equal(res.status, 403);
  assert.equal(res.body.toString(), "blocked");
  assert.equal(origin.connections, 0);
});
