// Flow files hold header bytes, whatever addons read them as (decoded UTF-8): a header that is UTF-8
// and one that is no UTF-8 are written and read back as the bytes that came.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFlow, encodeFlow } from "../../../src/engine/flow/codec.ts";
import { mitmproxyState } from "../../../src/engine/flow/mitmproxy-state.ts";
import { flowFromMitmproxyState } from "../../../src/engine/flow/mitmproxy-flow.ts";
import { dumpTnetstring, parseTnetstring } from "../../../src/engine/flow/tnetstring.ts";
import { fromHar, toHar } from "../../../src/engine/flow/har.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { Headers } from "../../../src/engine/flow/headers.ts";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";

// One char per byte: "José" as UTF-8, and bytes that are no UTF-8.
const RAW = ["Host", "a.test", "X-Name", "Jos\xc3\xa9", "X-Bin", "a\xff\xc3("];

function flow(): HTTPFlow {
  const req = new Request({ method: "GET", scheme: "http", host: "a.test", port: 80, path: "/", authority: "", http_version: "HTTP/1.1", headers: Headers.fromRaw(RAW), content: new Uint8Array(0), timestamp_start: 1 });
  const f = new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 8080]), new Server(["a.test", 80]), req);
  f.response = new Response({ status_code: 200, headers: Headers.fromRaw(RAW.slice(2)), content: new Uint8Array(0), timestamp_start: 1 });
  return f;
}

test("pryx's flow file keeps header bytes: written as one char per byte, read back the same", () => {
  const line = encodeFlow(flow());
  const json = JSON.parse(line) as { request: { headers: [string, string][] } };
  assert.deepEqual(json.request.headers.flat(), RAW);
  const back = decodeFlow(line) as HTTPFlow;
  assert.deepEqual(back.request.headers.flat, RAW);
  assert.deepEqual(back.response?.headers.flat, RAW.slice(2));
  assert.equal(back.request.headers.get("X-Name"), "José");
});

test("a mitmproxy file (tnetstring) holds the header bytes, and reads back to them", () => {
  const bytes = dumpTnetstring(mitmproxyState(flow()) ?? null);
  assert.ok(bytes.includes(Buffer.from("6:X-Name,5:Jos\xc3\xa9,", "latin1")), "the UTF-8 value as its bytes");
  assert.ok(bytes.includes(Buffer.from("5:X-Bin,4:a\xff\xc3(,", "latin1")), "the value that is no UTF-8 as its bytes");
  const back = flowFromMitmproxyState(parseTnetstring(bytes)?.value ?? null) as HTTPFlow;
  assert.deepEqual(back.request.headers.flat, RAW);
});

test("HAR holds header bytes as one char per byte, as before, and pryx reads its own HAR back to them", () => {
  const har = toHar([flow()]);
  const entry = (JSON.parse(har) as { log: { entries: { request: { headers: { name: string; value: string }[] } }[] } }).log.entries[0];
  assert.deepEqual(entry?.request.headers.map((h) => [h.name, h.value]).flat(), RAW);
  const back = fromHar(har).flows[0];
  assert.deepEqual(back?.request.headers.flat, RAW);
});
