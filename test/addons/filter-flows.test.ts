import { test } from "node:test";
import assert from "node:assert/strict";
import filterFlows from "../../addons/filter-flows.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("filter-flows logs only the flows its flowfilter matches, and refuses a filter that does not parse", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => {
    res.statusCode = req.url === "/api/broken" ? 500 : 200;
    res.end("ok");
  });
  const proxy = await startProxy({ addons: [filterFlows], options: { flowfilter: "~u /api & ~c 500" } });
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  for (const path of ["/api/ok", "/page", "/api/broken"]) await viaProxy(proxy.port, `${base}${path}`);
  await proxy.waitFinished(3);
  await proxy.waitLog(/Flow matches filter/);
  assert.deepEqual(proxy.logs.filter((l) => l.msg.startsWith("Flow matches")).map((l) => l.msg), [`Flow matches filter: GET ${base}/api/broken 500`]);

  await assert.rejects(proxy.engine.handle({ op: "setOption", name: "flowfilter", value: "~u (" }), /flowfilter: filter-flows refused "~u \(": Invalid filter expression/);
  assert.equal(proxy.engine.options.get("flowfilter"), "~u /api & ~c 500", "the old filter stays");
  await proxy.engine.handle({ op: "setOption", name: "flowfilter", value: "~u /page" });
  await viaProxy(proxy.port, `${base}/page`);
  await proxy.waitLog(new RegExp(`Flow matches filter: GET ${base}/page 200`));
});
