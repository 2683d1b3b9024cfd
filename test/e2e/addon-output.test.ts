import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineClient } from "../../src/engine-client.ts";
import type { LogEntry } from "../../src/protocol.ts";
import { waitUntil } from "../helpers/wait.ts";

test("in the console, what an addon prints goes to the event log, a line an entry, not over the screen", { timeout: 30_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-output-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, "printer.ts");
  fs.writeFileSync(
    script,
    `export default {
  running() {
    console.log("counter: %d flows", 3);
    console.error("it broke");
    process.stderr.write("half ");
    process.stderr.write("a line\\nsecond\\n");
  },
};
`,
  );
  const engine = new EngineClient({ options: { confdir: dir, scripts: [script] }, keepFlows: true, noServer: true, captureOutput: true });
  t.after(() => engine.shutdown());
  const logs: LogEntry[] = [];
  engine.on((ev) => void (ev.t === "batch" && logs.push(...ev.logs)));
  await engine.ready;
  const printed = (): string[] => logs.filter((l) => !/script/.test(l.msg)).map((l) => `${l.level} ${l.msg}`);
  await waitUntil(() => (printed().length >= 4 ? true : undefined), "the printed lines in the event log", 10_000);
  assert.deepEqual(printed(), ["info counter: 3 flows", "error it broke", "info half a line", "info second"]);
});

test("pryx dump shows what an addon logs with ctx.log, a flow as its repr (mitmproxy's filter-flows example logs one), and goes on", { timeout: 30_000 }, async (t) => {
  const { dump, origin, scratch } = await import("../helpers/dump-e2e.ts");
  const { viaProxy } = await import("../helpers/origin.ts");
  const script = path.join(scratch(t), "log-flow.mjs");
  fs.writeFileSync(script, `import { ctx } from "pryx";\nexport function response(flow) {\n  ctx.log.info("Flow matches filter:");\n  ctx.log.info(flow);\n  ctx.log.warn({ seen: 1 });\n}\n`);
  const server = await origin(t);
  const pryx = await dump(t, ["-s", script]);
  for (const p of ["/a", "/b"]) assert.equal((await viaProxy(pryx.port, `http://127.0.0.1:${server.port}${p}`)).body.toString(), "hello");
  await pryx.waitStdout(/GET http:\/\/127\.0\.0\.1:\d+\/b << 200/);
  assert.match(pryx.stderr(), /\[info\] Flow matches filter:\n\[info\] <HTTPFlow\n +request = Request\(GET 127\.0\.0\.1:\d+\/a\)\n +response = Response\(200, unknown content type, 5b\)>\n\[warn\] \{ seen: 1 \}\n/);
  assert.equal(pryx.proc.exitCode, null, "still running");
});
