import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_MAX_HEADER_SIZE, Http1Parser, type MessageHead } from "../../../src/engine/http1/parser.ts";

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

/** Each head as `method url`, bodies and completions in order. */
function events() {
  const seen: string[] = [];
  const parser = new Http1Parser("request", {
    onHead: (h) => void seen.push(`${h.method} ${h.url}`),
    onBody: (c) => void seen.push(`body ${c.toString("latin1")}`),
    onComplete: () => void seen.push("done"),
  });
  return { parser, seen };
}

const utf8Path = Buffer.from("/日本語", "utf8").toString("latin1");

test("a request line llhttp refuses (unknown method, UTF-8 target) still gives a head with the real method and target", () => {
  const { parser, seen } = events();
  const input = Buffer.concat([
    Buffer.from("VERYLONGMETHOD /dav HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "latin1"),
    Buffer.from("GET /日本語 HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n", "utf8"),
  ]);
  assert.deepEqual(parser.execute(input), { kind: "ok" });
  assert.deepEqual(seen, ["VERYLONGMETHOD /dav", "body abc", "done", `GET ${utf8Path}`, "done", "GET /next", "done"]);
  parser.close();
});

test("a refused request line that arrives over several reads is put together", () => {
  const { parser, seen } = events();
  const input = Buffer.from("GET /a HTTP/1.1\r\n\r\nVERYLONG", "latin1");
  assert.deepEqual(parser.execute(input), { kind: "ok" });
  for (const piece of ["METHOD /日", "本語 HTTP/1.", "1\r\nHost: x\r\n", "\r\n"]) assert.deepEqual(parser.execute(Buffer.from(piece, "utf8")), { kind: "ok" });
  assert.deepEqual(seen, ["GET /a", "done", `VERYLONGMETHOD ${utf8Path}`, "done"]);
  parser.close();
});

test("a refused request line right after a Content-Length body in the same read is found", () => {
  // The body ends on any byte, so only a replay of the read tells where the next line starts.
  const { parser, seen } = events();
  const input = "GET /a HTTP/1.1\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nGETFOO /f HTTP/1.1\r\nContent-Length: 2\r\n\r\nPUGET /\xe9 HTTP/1.1\r\n\r\n";
  assert.deepEqual(parser.execute(Buffer.from(input, "latin1")), { kind: "ok" });
  assert.deepEqual(seen, ["GET /a", "done", "POST /p", "body GET", "done", "FOO /f", "body PU", "done", "GET /\xe9", "done"]);
  parser.close();
});

test("a refused request line whose start cannot be known, or that is malformed, stays an error", () => {
  // Begun right after a Content-Length body that began in an earlier read: no boundary to replay from.
  const a = events();
  a.parser.execute(Buffer.from("POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc", "latin1"));
  const r = a.parser.execute(Buffer.from("defFOO / HTTP/1.1\r\n\r\n", "latin1"));
  assert.equal(r.kind === "error" && r.error.code, "HPE_INVALID_METHOD");
  a.parser.close();
  for (const line of ["FO(O / HTTP/1.1", "FOO /x", "FOO /x HTTP/9"]) {
    const b = events();
    const res = b.parser.execute(Buffer.from(`${line}\r\nHost: x\r\n\r\n`, "latin1"));
    assert.equal(res.kind, "error", line);
    assert.deepEqual(b.seen, [], line);
    b.parser.close();
  }
});

/** The head an error came with, as `method url version [name=value…]`, and the error's message. */
function refused(r: ReturnType<Http1Parser["execute"]>): [string | undefined, string | undefined] {
  if (r.kind !== "error") return [undefined, undefined];
  const h = r.head;
  const fields: string[] = [];
  for (let i = 0; h && i < h.rawHeaders.length; i += 2) fields.push(`${h.rawHeaders[i]}=${h.rawHeaders[i + 1]}`);
  return [h && `${h.method} ${h.url} ${h.httpVersion} [${fields.join(" ")}]`, r.error.message];
}

test("a refused head past its request line comes with the head read leniently and an error naming what was wrong; one whose request line is none, or too large, comes bare", () => {
  const cases: [string, string, string][] = [
    ["POST /s HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "POST /s HTTP/1.1 [Content-Length=3 Transfer-Encoding=chunked]", "both Content-Length and Transfer-Encoding (refused: a request smuggling risk, RFC 9112 6.3)"],
    ["GET /c HTTP/1.1\r\nA:  b \r\nX-Odd: a\x7fb\r\n\r\n", "GET /c HTTP/1.1 [A=b X-Odd=a\x7fb]", "invalid header value for X-Odd: control character 0x7f"],
    ["GET /n HTTP/1.1\r\nBad Name: x\r\nX: \x01\r\n\r\n", "GET /n HTTP/1.1 [Bad Name=x X=\x01]", 'invalid header name "Bad Name": not an HTTP token'],
    ["GET /l HTTP/1.1\r\nNoColon\r\nA: b\r\n\r\n", "GET /l HTTP/1.1 [A=b]", 'invalid header line "NoColon": no name and colon'],
    ["VERYLONGMETHOD /\xe9 HTTP/1.1\r\nX: \x01\r\n\r\n", "VERYLONGMETHOD /\xe9 HTTP/1.1 [X=\x01]", "invalid header value for X: control character 0x01"],
  ];
  for (const [input, head, why] of cases) {
    const { parser, seen } = events();
    assert.deepEqual(refused(parser.execute(Buffer.from(input, "latin1"))), [head, `malformed HTTP message: ${why}`], input);
    assert.deepEqual(seen, [], "no head was delivered");
    parser.close();
  }
  // A request line that is none, or a head too large to keep, stays a bare error.
  for (const input of ["GARBAGE\r\nX: \x01\r\n\r\n", "GET /x FOO/1.1\r\nX: \x01\r\n\r\n", "GET /x HTTP/1\r\nX: \x01\r\n\r\n", `GET /big HTTP/1.1\r\nX: ${"a".repeat(DEFAULT_MAX_HEADER_SIZE)}\r\n\r\n`]) {
    const { parser } = events();
    const r = parser.execute(Buffer.from(input, "latin1"));
    assert.equal(r.kind, "error", input.slice(0, 40));
    assert.equal(r.kind === "error" && r.head, undefined, input.slice(0, 40));
    parser.close();
  }
});

test("a refused head is found over several reads, and after requests in the same read, a Content-Length body's too", () => {
  const a = events();
  for (const piece of ["GET /a HTTP/1.1\r\nHo", "st: x\r\nX-A: 1\r\n"]) assert.deepEqual(a.parser.execute(Buffer.from(piece, "latin1")), { kind: "ok" });
  assert.deepEqual(refused(a.parser.execute(Buffer.from("X-Bad: \x01\r\nX-After: 2\r\n\r\n", "latin1"))), ["GET /a HTTP/1.1 [Host=x X-A=1 X-Bad=\x01 X-After=2]", "malformed HTTP message: invalid header value for X-Bad: control character 0x01"]);
  a.parser.close();
  const b = events();
  const input = "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET /3 HTTP/1.1\r\nA: b\r\nBad Name: c\r\n\r\n";
  assert.deepEqual(refused(b.parser.execute(Buffer.from(input, "latin1"))), ["GET /3 HTTP/1.1 [A=b Bad Name=c]", 'malformed HTTP message: invalid header name "Bad Name": not an HTTP token']);
  assert.deepEqual(b.seen, ["GET /1", "done", "POST /2", "body ab", "done"]);
  b.parser.close();
});

test("a refused request line that never ends is cut off at the header size limit", () => {
  const { parser } = events();
  assert.deepEqual(parser.execute(Buffer.from("FOO /", "latin1")), { kind: "ok" });
  assert.equal(parser.finish()?.code, "HPE_INVALID_METHOD", "input ended inside the held line");
  const r = parser.execute(Buffer.alloc(DEFAULT_MAX_HEADER_SIZE + 1024, 0x61));
  assert.equal(r.kind === "error" && r.error.status, 431);
  parser.close();
});

test("every method llhttp knows keeps its name, QUERY too (its code is not its place in Node's list)", () => {
  for (const method of ["GET", "M-SEARCH", "SOURCE", "QUERY"]) {
    const { parser, seen } = events();
    parser.execute(Buffer.from(`${method} /q HTTP/1.1\r\nHost: x\r\n\r\n`, "latin1"));
    assert.deepEqual(seen, [`${method} /q`, "done"]);
    parser.close();
  }
});

test("midHead is true from a head's first byte until the head is whole; the request line is known once its LF came", () => {
  const { parser } = collector();
  const feed = (s: string) => parser.execute(Buffer.from(s, "latin1"));
  assert.equal(parser.midHead, false);
  feed("GET http://a.test/x HT");
  assert.equal(parser.midHead, true);
  assert.equal(parser.pendingRequestLine, undefined);
  feed("TP/1.1\r\nHost: a.te");
  assert.deepEqual(parser.pendingRequestLine, { method: "GET", target: "http://a.test/x", version: "HTTP/1.1" });
  feed("st\r\nContent-Length: 3\r\n\r\nab");
  assert.equal(parser.midHead, false, "in the body");
  assert.equal(parser.pendingRequestLine, undefined);
  feed("cPUT /y HTTP/1.1\r\n");
  assert.equal(parser.midHead, true, "the next head began in the same read");
  assert.equal(parser.pendingRequestLine, undefined, "after a Content-Length body in the same read, the line's start is unknown");
  feed("\r\n");
  assert.equal(parser.midHead, false);
  // A method llhttp does not know is held until its line ends, and named as sent.
  feed("BREW /pot HTTP/1.1\r\nX: 1");
  assert.equal(parser.midHead, true);
  assert.deepEqual(parser.pendingRequestLine, { method: "BREW", target: "/pot", version: "HTTP/1.1" });
});

/** Each message `kind` parses from `wire`, fed in reads of `step` bytes: heads, bodies joined per message, or the error. */
function parseAll(kind: "request" | "response", wire: string, step = wire.length): { heads: MessageHead[]; bodies: string[]; error?: string; errorHead?: MessageHead } {
  const heads: MessageHead[] = [];
  const bodies: string[] = [];
  const parser = new Http1Parser(kind, {
    onHead: (h) => void (heads.push(h), bodies.push("")),
    onBody: (c) => void (bodies[bodies.length - 1] += c.toString("latin1")),
    onComplete: () => undefined,
  });
  const bytes = Buffer.from(wire, "latin1");
  for (let at = 0; at < bytes.length; at += step) {
    const r = parser.execute(bytes.subarray(at, at + step));
    if (r.kind === "error") {
      parser.close();
      return { heads, bodies, error: r.error.message, ...(r.head ? { errorHead: r.head } : {}) };
    }
  }
  parser.close();
  return { heads, bodies };
}

test("a Content-Length repeated with the same value (RFC 9110 8.6 lets a recipient take it, as mitmproxy does) frames the body, its fields kept as sent; differing values are an error naming them", () => {
  const response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\ncontent-length:  5\r\n\r\nhello";
  const keptResponse = ["Content-Length", "5", "X-A", "1", "content-length", "5"];
  const request = "POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc";
  // Whole, a byte at a time, and in reads that end inside the repeated field.
  for (const step of [10_000, ...Array.from({ length: 40 }, (_, i) => i + 1)]) {
    const res = parseAll("response", `HTTP/1.1 100 Continue\r\n\r\n${response}HTTP/1.1 204 No Content\r\n\r\n`, step);
    assert.equal(res.error, undefined, `step ${step}`);
    assert.deepEqual(res.heads.map((h) => h.statusCode), [100, 200, 204]);
    assert.deepEqual(res.heads[1]!.rawHeaders, keptResponse);
    assert.equal(res.bodies[1], "hello");
    const req = parseAll("request", `GET /first HTTP/1.1\r\nHost: a.test\r\n\r\n${request}GET /next HTTP/1.1\r\nHost: a.test\r\n\r\n`, step);
    assert.equal(req.error, undefined, `step ${step}`);
    assert.deepEqual(req.heads.map((h) => h.url), ["/first", "/up", "/next"]);
    assert.deepEqual(req.heads[1]!.rawHeaders, ["Host", "a.test", "Content-Length", "3", "Content-Length", "3"]);
    assert.equal(req.bodies[1], "abc");
  }
  const conflict = parseAll("response", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  assert.equal(conflict.error, "malformed HTTP message: conflicting Content-Length headers: 5, 6");
  const refused = parseAll("request", "POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 5);
  assert.equal(refused.error, "malformed HTTP message: conflicting Content-Length headers: 3, 4");
  assert.equal(refused.errorHead?.url, "/up", "the refused request's flow shows its head");
});
