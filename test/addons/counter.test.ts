import { test } from "node:test";
import assert from "node:assert/strict";
import counter from "../../addons/counter.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { deadPort } from "../helpers/wait.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("counter counts finished flows, failed ones too; counter.show and counter.reset", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ addons: [counter] });
  closeAfter(t, proxy, origin);
  const run = (line: string): Promise<string | undefined> => proxy.engine.handle({ op: "command", line });
  await run("counter.reset");
  assert.equal(await run("counter.show"), "0 flows");
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/1`);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/2`);
  await viaProxy(proxy.port, `http://127.0.0.1:${await deadPort()}/`);
  await proxy.waitFinished(3);
  assert.equal(await run("counter.show"), "3 flows");
  assert.equal(await run("counter.reset"), "counter reset");
  assert.equal(await run("counter.show"), "0 flows");
});

test("counter_log_every logs the count every N flows; a negative value is refused by the addon", { timeout: 10_000 }, async (t) => {
  const logged = t.mock.method(console, "log", () => undefined);
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ addons: [counter], options: { counter_log_every: "2" } });
  closeAfter(t, proxy, origin);
  await proxy.engine.handle({ op: "command", line: "counter.reset" });
  for (let i = 0; i < 5; i++) await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/${i}`);
  await proxy.waitFinished(5);
  const messages = logged.mock.calls.map((c) => String(c.arguments[0])).filter((m) => m.startsWith("counter:"));
  assert.deepEqual(messages, ["counter: 2 flows", "counter: 4 flows"]);
  // Refused and set back, as mitmproxy's options-configure example has it.
  await assert.rejects(proxy.engine.handle({ op: "setOption", name: "counter_log_every", value: "-1" }), /counter_log_every: counter refused "-1": counter_log_every must be 0 or more, got -1; it stays 2/);
  assert.equal(proxy.engine.options.get("counter_log_every"), 2);
  const err = await proxy.waitLog(/counter_log_every must be 0 or more/);
  assert.match(err.msg, /counter/);
});
