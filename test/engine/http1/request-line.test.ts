import { test } from "node:test";
import assert from "node:assert/strict";
import { endsWithLF, requestLineStart, splitRequestLine } from "../../../src/engine/http1/request-line.ts";

const b = (s: string): Buffer => Buffer.from(s, "latin1");

test("splitRequestLine takes any token as method and any visible bytes as target", () => {
  assert.deepEqual(splitRequestLine(b("VERYLONGMETHOD /x HTTP/1.1\r")), { method: "VERYLONGMETHOD", target: "/x", version: "HTTP/1.1" });
  assert.deepEqual(splitRequestLine(b("!#$%&'*+-.^_`|~09az /x HTTP/1.0")), { method: "!#$%&'*+-.^_`|~09az", target: "/x", version: "HTTP/1.0" });
  const utf8 = Buffer.concat([b("GET /"), Buffer.from("日本語?q=à", "utf8"), b(" HTTP/1.1\r")]);
  assert.equal(splitRequestLine(utf8)?.target, `/${Buffer.from("日本語?q=à", "utf8").toString("latin1")}`);
});

test("splitRequestLine refuses lines that are not token SP visible-target SP version", () => {
  for (const line of ["FO(O / HTTP/1.1", "FOO /x", "FOO /x ", " /x HTTP/1.1", "FOO  /x HTTP/1.1", "FOO /x HTTP/1.1 extra", "GET /a\x01b HTTP/1.1", "GET /a\x7fb HTTP/1.1", "GET /a\tb HTTP/1.1", "GÉT / HTTP/1.1", "\r", ""]) {
    assert.equal(splitRequestLine(b(line)), undefined, JSON.stringify(line));
  }
});

test("requestLineStart skips only blank lines at the start of a read between requests", () => {
  assert.equal(requestLineStart(b("FOO / HTTP/1.1"), 3, false, true), 0);
  assert.equal(requestLineStart(b("\r\n\r\nFOO /"), 6, false, false), 4);
  assert.equal(requestLineStart(b("\r\n"), 2, false, true), 2);
});

test("requestLineStart after a message in the same read: after its last blank line, unless it ended on a body byte", () => {
  const read = b("GET / HTTP/1.1\r\n\r\nFOO /\xe6 HTTP/1.1\r\n");
  assert.equal(requestLineStart(read, 23, true, true), 18);
  assert.equal(requestLineStart(read, 23, true, false), undefined);
  // A head with whole lines in the read already starts after the blank line, not after its last LF.
  const head = b("GET / HTTP/1.1\r\n\r\nPOST /up HTTP/1.1\r\nHost: a\r\nContent-Le");
  assert.equal(requestLineStart(head, head.length, true, true), 18);
  assert.equal(requestLineStart(b("\r\nPOST /up HTTP/1.1\r\nHost: a\r\n"), 30, true, true), 2, "the blank line began in the read before");
  assert.equal(requestLineStart(b("abc"), 2, true, true), undefined);
  assert.equal(requestLineStart(b("abc"), 0, true, true), undefined);
});

test("endsWithLF: a request without a body or with a chunked one ends on LF; a Content-Length body does not", () => {
  assert.equal(endsWithLF([]), true);
  assert.equal(endsWithLF(["Content-Length", "0"]), true);
  assert.equal(endsWithLF(["content-length", " 3 "]), false);
  assert.equal(endsWithLF(["Transfer-Encoding", "gzip, chunked"]), true);
  assert.equal(endsWithLF(["Transfer-Encoding", "chunked"]), true);
});
