import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { TCPFlow } from "../../../src/engine/flow/tcp.ts";

test("a killed flow is not paused again: a message queued behind the held one no longer shows it intercepted", async () => {
  const f = new TCPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["tcp.test", 7]));
  f.intercept();
  const held = f.waitForResume();
  f.kill();
  await assert.rejects(held);
  assert.equal(f.intercepted, false);
  // The intercept filter matches the next queued message.
  f.intercept();
  assert.equal(f.intercepted, false, "still just killed");
  assert.equal(f.killed, true);
});
