import { test } from "node:test";
import assert from "node:assert/strict";
import { Http1Parser, type MessageHead } from "../../../src/engine/http1/parser.ts";

function collector() {
  const heads: MessageHead[] = [];
  const bodies: string[] = [];
  let completed = 0;
  const parser = new Http1Parser("request", {
    onHead: (h) => void heads.push(h),
    onBody: (c) => void bodies.push(c.toString("latin1")),
    onComplete: () => void completed++,
  });
  return { parser, heads, bodies, completed: () => completed };
}

const flush = () => new Promise<void>((r) => queueMicrotask(r));

test("a parser closed half-way through a request reports nothing more; the next parser starts clean", async () => {
  const a = collector();
  a.parser.execute(Buffer.from("POST /half HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc"));
  assert.equal(a.heads.length, 1);
  a.parser.close();
  await flush();
  const b = collector();
  assert.deepEqual(b.parser.execute(Buffer.from("GET /fresh HTTP/1.0\r\nHost: b.test\r\n\r\n")), { kind: "ok" });
  assert.equal(b.heads.length, 1);
  assert.equal(b.heads[0]!.url, "/fresh");
  assert.equal(b.heads[0]!.httpVersion, "HTTP/1.0");
  assert.deepEqual(b.heads[0]!.rawHeaders, ["Host", "b.test"]);
  assert.equal(b.completed(), 1);
  // The closed one hears nothing more, and its late input is ignored.
  assert.deepEqual(a.parser.execute(Buffer.from("defghij")), { kind: "ok" });
  assert.deepEqual(a.bodies, ["abc"]);
  assert.equal(a.completed(), 0);
  b.parser.close();
});

test("closing a parser inside its own callback, and twice, is safe", async () => {
  let parser: Http1Parser | undefined;
  const heads: string[] = [];
  parser = new Http1Parser("request", {
    onHead: (h) => {
      heads.push(h.url);
      parser?.close();
      parser?.close();
    },
    onBody: () => undefined,
    onComplete: () => undefined,
  });
  // Two pipelined requests: the second must not be reported once the parser is closed.
  parser.execute(Buffer.from("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  await flush();
  assert.deepEqual(heads, ["/one"]);
  // Parsers made after it work independently.
  const a = collector();
  const b = collector();
  a.parser.execute(Buffer.from("GET /a HTTP/1.1\r\nHost: x\r\n"));
  b.parser.execute(Buffer.from("GET /b HTTP/1.1\r\nHost: y\r\n\r\n"));
  a.parser.execute(Buffer.from("\r\n"));
  assert.deepEqual(a.heads.map((h) => h.url), ["/a"]);
  assert.deepEqual(b.heads.map((h) => h.url), ["/b"]);
  a.parser.close();
  b.parser.close();
});
