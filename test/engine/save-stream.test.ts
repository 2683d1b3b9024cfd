import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readFlowFile } from "../../src/engine/save-stream.ts";
import { decodeFlow, encodeFlow } from "../../src/engine/flow/codec.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";
import type { Flow } from "../../src/engine/flow/flow.ts";
import { startProxy } from "../helpers/proxy.ts";
import { closeAfter } from "../helpers/close-after.ts";

function flow(pathname: string, body: string): HTTPFlow {
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["example.test", 80]), Request.make("POST", `http://example.test${pathname}`, body));
  f.response = Response.make(200, body);
  f.live = false;
  return f;
}

function tmpFile(t: { after(fn: () => void): void }, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-flows-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "flows.jsonl");
  fs.writeFileSync(file, text);
  return file;
}

test("a flow file is read piece by piece: lines and multi-byte characters across 1 MiB boundaries, a bad line named by number", (t) => {
  // Bodies of ~700 KB put line ends and multi-byte characters at every offset of the 1 MiB pieces.
  const bodies = ["é€😀".repeat(60_000), "a".repeat(700_001) + "ü", "short", "€".repeat(233_333)];
  const lines = bodies.map((b, i) => encodeFlow(flow(`/f${i}`, b)));
  lines.splice(2, 0, "", "{not json");
  const file = tmpFile(t, `${lines.join("\n")}\n`);
  const got: Flow[] = [];
  const { count, errors } = readFlowFile(file, decodeFlow, (f) => got.push(f));
  assert.equal(count, 4);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /flows\.jsonl:4: not a pryx flow line/);
  assert.deepEqual(
    got.map((f) => [(f as HTTPFlow).request.path, (f as HTTPFlow).response?.text]),
    bodies.map((b, i) => [`/f${i}`, b]),
  );
});

test("a missing flow file is a clear error naming it", () => {
  assert.throws(() => readFlowFile("/nonexistent/pryx.flows", decodeFlow, () => undefined), /cannot read flow file \/nonexistent\/pryx\.flows: ENOENT/);
});

test("flows read at start reach the UI in batches of at most 5,000, all of them", { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 12_000; i++) lines.push(encodeFlow(flow(`/n${i}`, "x")));
  const file = tmpFile(t, lines.join("\n"));
  const proxy = await startProxy({ options: { rfile: file } });
  closeAfter(t, proxy);
  const batches = proxy.events.filter((e) => e.t === "batch" && e.add.length > 0).map((e) => (e.t === "batch" ? e.add.length : 0));
  assert.equal(batches.reduce((a, b) => a + b, 0), 12_000);
  assert.ok(batches.length >= 3, `batches: ${batches.join(", ")}`);
  assert.ok(Math.max(...batches) <= 5_000, `batches: ${batches.join(", ")}`);
});
