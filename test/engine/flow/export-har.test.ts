import { test } from "node:test";
import assert from "node:assert/strict";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { exportFlow, shellQuote } from "../../../src/engine/flow/export.ts";
import { fromHar, isHar, toHar } from "../../../src/engine/flow/har.ts";
import { decodeFlow, encodeFlow } from "../../../src/engine/flow/codec.ts";

function flow(): HTTPFlow {
  const req = Request.make("POST", "http://api.test:8080/login?next=/home", "user=o'brien", { "Content-Type": "application/x-www-form-urlencoded", "X-Token": "abc" });
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["api.test", 8080]), req);
  f.response = Response.make(201, "créé", { "content-type": "text/plain; charset=utf-8" });
  f.response.reason = "Created";
  return f;
}

test("curl export reproduces method, URL, headers and body, quoted for the shell", () => {
  const out = exportFlow(flow(), "curl");
  assert.equal(out, `curl -X POST 'http://api.test:8080/login?next=/home' -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Token: abc' --data-binary 'user=o'\\''brien'`);
  assert.equal(shellQuote("plain"), "plain");
});

test("httpie and raw exports", () => {
  assert.match(exportFlow(flow(), "httpie"), /^http POST 'http:\/\/api\.test:8080\/login\?next=\/home' Content-Type:application\/x-www-form-urlencoded X-Token:abc <<< 'user=o'\\''brien'$/);
  const raw = exportFlow(flow(), "raw");
  assert.match(raw, /^POST \/login\?next=\/home HTTP\/1\.1\r\nHost: api\.test:8080\r\n/);
  assert.match(raw, /HTTP\/1\.1 201 Created\r\ncontent-type: text\/plain; charset=utf-8\r\ncontent-length: 6\r\n\r\ncr/);
});

test("HAR export and import round-trip the request, the response and non-UTF-8 bodies", () => {
  const f = flow();
  f.response!.content = Buffer.from([0xff, 0x00, 0x10]);
  const har = toHar([f]);
  assert.ok(isHar(har));
  const [back] = fromHar(har);
  assert.equal(back?.request.method, "POST");
  assert.equal(back?.request.pretty_url, "http://api.test:8080/login?next=/home");
  assert.equal(back?.request.text, "user=o'brien");
  assert.equal(back?.request.headers.get("x-token"), "abc");
  assert.equal(back?.response?.status_code, 201);
  assert.deepEqual([...(back?.response?.content ?? [])], [0xff, 0x00, 0x10]);
});

test("pryx flow lines round-trip a flow", () => {
  const f = flow();
  f.comment = "look";
  f.marked = ":default:";
  const back = decodeFlow(encodeFlow(f)) as HTTPFlow;
  assert.equal(back.id, f.id);
  assert.equal(back.comment, "look");
  assert.equal(back.marked, ":default:");
  assert.equal(back.request.text, "user=o'brien");
  assert.deepEqual(back.request.headers.fields, f.request.headers.fields);
  // The file keeps headers as [name, value] pairs, whatever Headers holds them as in memory.
  const line = JSON.parse(encodeFlow(f)) as { request: { headers: unknown } };
  assert.deepEqual(line.request.headers, [...f.request.headers]);
  assert.ok((line.request.headers as unknown[]).every((p) => Array.isArray(p) && p.length === 2));
  assert.equal(back.response?.text, "créé");
  assert.equal(back.live, false);
  assert.throws(() => decodeFlow("{not json"), /not a pryx flow line/);
  assert.throws(() => decodeFlow(JSON.stringify({ v: 99 })), /unsupported flow file version 99/);
});
