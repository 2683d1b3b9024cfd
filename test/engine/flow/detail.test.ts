import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { flowDetail } from "../../../src/engine/flow/detail.ts";
import { summarize } from "../../../src/engine/flow/summary.ts";

function flowWith(response: Response): HTTPFlow {
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["api.test", 80]), Request.make("GET", "http://api.test/data"));
  f.response = response;
  return f;
}

test("the detail says whether a Content-Encoding was decoded for the flow view", () => {
  const raw = zlib.gzipSync(JSON.stringify({ compressed: true }));
  const gz = flowWith(new Response({ status_code: 200, headers: [["Content-Encoding", "gzip"]], content: raw }));
  const d = flowDetail(gz, summarize(gz, 1, true), 1024, 0);
  assert.equal(d.response?.encoding, "decoded gzip");
  assert.equal(Buffer.from(d.response!.body).toString(), '{"compressed":true}');
  assert.equal(d.request?.encoding, undefined);

  const bad = flowWith(new Response({ status_code: 200, headers: [["Content-Encoding", "gzip"]], content: Buffer.from("not gzip") }));
  assert.equal(flowDetail(bad, summarize(bad, 2, true), 1024, 0).response?.encoding, "cannot decode gzip");

  const plain = flowWith(new Response({ status_code: 200, headers: [["Content-Encoding", "identity"]], content: Buffer.from("x") }));
  assert.equal(flowDetail(plain, summarize(plain, 3, true), 1024, 0).response?.encoding, undefined);
});
