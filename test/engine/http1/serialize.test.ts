import { test } from "node:test";
import assert from "node:assert/strict";
import { Headers } from "../../../src/engine/flow/headers.ts";
import { Response } from "../../../src/engine/flow/http.ts";
import { forwardedFields, framedBody, isChunked, plainResponse, responseHead } from "../../../src/engine/http1/serialize.ts";

const h = (...fields: [string, string][]): Headers => new Headers(fields);

test("fields go on as the flow holds them, case and order kept, hop-by-hop ones too (as mitmproxy 8 sends them); not Proxy-Authorization, nor a TE other than trailers", () => {
  const out = forwardedFields(
    h(["Host", "a"], ["Proxy-Connection", "keep-alive"], ["KEEP-ALIVE", "timeout=5"], ["X-1", "1"], ["te", "trailers"], ["Trailer", "X"], ["TE", "gzip"], ["Proxy-Authorization", "Basic x"], ["x-2", "2"]),
    false,
  );
  assert.deepEqual(out, [["Host", "a"], ["Proxy-Connection", "keep-alive"], ["KEEP-ALIVE", "timeout=5"], ["X-1", "1"], ["te", "trailers"], ["Trailer", "X"], ["x-2", "2"]]);
});

test("fields named by Connection go on with it (a test of how a server treats them needs them sent)", () => {
  const out = forwardedFields(h(["Connection", "X-Secret, keep-alive"], ["X-Secret", "s"], ["x-other", "o"]), false);
  assert.deepEqual(out, [["Connection", "X-Secret, keep-alive"], ["X-Secret", "s"], ["x-other", "o"]]);
  const plain: [string, string] = ["connection", "Keep-Alive"];
  assert.deepEqual(forwardedFields(h(plain), false), [plain]);
});

test("Upgrade goes on only for a real upgrade request (Connection: upgrade as well)", () => {
  const ws = h(["Connection", "Upgrade"], ["Upgrade", "websocket"]);
  assert.deepEqual(forwardedFields(ws, true), [["Connection", "Upgrade"], ["Upgrade", "websocket"]]);
  // Not carried out: neither Upgrade nor Connection's upgrade option goes on.
  assert.deepEqual(forwardedFields(ws, false), []);
  assert.deepEqual(forwardedFields(h(["Connection", "Upgrade, X-Hop"], ["Upgrade", "h2c"], ["X-Hop", "1"]), false), [["Connection", "X-Hop"], ["X-Hop", "1"]]);
  assert.deepEqual(forwardedFields(h(["Upgrade", "h2c"]), true), []);
});

test("bodies are framed as the headers say", () => {
  assert.equal(Buffer.concat(framedBody(isChunked(h(["Transfer-Encoding", "chunked"])), Buffer.from("hello"), h(["X-T", "1"]))).toString(), "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
  assert.equal(Buffer.concat(framedBody(isChunked(h(["Transfer-Encoding", "chunked"])), Buffer.alloc(0), undefined)).toString(), "0\r\n\r\n");
  assert.equal(Buffer.concat(framedBody(isChunked(h(["Content-Length", "5"])), Buffer.from("hello"), undefined)).toString(), "hello");
});

test("the proxy's own responses say what happened, with a correct length", () => {
  const r = plainResponse(502, "Bad Gateway", "pryx: cannot connect", true).toString();
  assert.match(r, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  assert.match(r, /\r\nConnection: close\r\n/);
  const body = r.slice(r.indexOf("\r\n\r\n") + 4);
  assert.equal(body, "pryx: cannot connect\n");
  assert.match(r, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\\r\\n`));
});

test("a response head is written from the headers' fields as they are, or from a given flat list", () => {
  const res = new Response({ status_code: 200, reason: "OK", http_version: "HTTP/2.0", headers: h(["content-type", "text/plain"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"]) });
  assert.equal(responseHead(res).toString(), "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n");
  assert.equal(responseHead(res, [...res.headers.flat, "content-length", "0"]).toString(), "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 0\r\n\r\n");
  assert.equal(res.headers.size, 3, "the extra field goes on the wire only");
});
