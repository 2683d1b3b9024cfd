import { test } from "node:test";
import assert from "node:assert/strict";
import { Http1Parser, LENIENT_INBOUND, LENIENT_RESPONSES, type MessageHead } from "../../../src/engine/http1/parser.ts";
import { Headers } from "../../../src/engine/flow/headers.ts";
import { Request, Response } from "../../../src/engine/flow/http.ts";
import { UnsendableError, checkSendableRequest, checkSendableResponse, receivedHead } from "../../../src/engine/flow/sendable.ts";

/** Every head `kind`'s parser delivers for `messages`, each fed in two reads cut at every byte. */
function deliveredHeads(kind: "request" | "response", lenient: number, messages: readonly string[]): MessageHead[] {
  const heads: MessageHead[] = [];
  for (const message of messages) {
    const bytes = Buffer.from(message, "latin1");
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = new Http1Parser(kind, { onHead: (h) => void heads.push(h), onBody: () => undefined, onComplete: () => undefined }, undefined, lenient);
      for (const read of [bytes.subarray(0, cut), bytes.subarray(cut)]) if (parser.execute(read).kind === "error") break;
      parser.close();
    }
  }
  return heads;
}

// Fields no sendable head holds, in the ways a peer can try them: a bare CR or LF, obs-fold, control and high bytes, odd names;
// and a Content-Length repeated, which the parser reads again under a stand-in name.
const ODD_FIELDS = ["Content-Length: 0", "X-A: a\rb", "X-A: a\nInjected: 1", "X-A: one\r\n two", "X-A: one\r\n\ttwo", "X-A: \x00\x01\x7f\xff", "X A: 1", "X(A): 1", "X-A : 1", ": empty", "X-A:\r\n", "X-\xe9: 1"];

test("what the HTTP/1 parser delivers, under each lenient flag pryx gives it, passes the whole send check: a peer's unchanged fields need no second walk", () => {
  const requests = ODD_FIELDS.map((f) => `GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n${f}\r\n\r\n`);
  const responses = ODD_FIELDS.map((f) => `HTTP/1.1 200 OK\r\n${f}\r\nContent-Length: 0\r\n\r\n`);
  let seen = 0;
  for (const lenient of [0, LENIENT_INBOUND]) {
    for (const h of deliveredHeads("request", lenient, requests)) {
      seen++;
      checkSendableRequest(new Request({ method: h.method, scheme: "http", host: "a.test", port: 80, path: "/", http_version: h.httpVersion, headers: Headers.fromRaw(h.rawHeaders) }));
    }
  }
  for (const h of deliveredHeads("response", LENIENT_RESPONSES, responses)) {
    seen++;
    checkSendableResponse(new Response({ status_code: h.statusCode, reason: h.statusMessage, http_version: h.httpVersion, headers: Headers.fromRaw(h.rawHeaders) }));
  }
  // Lenient parsing lets most of them through, so the check above saw them.
  assert.ok(seen > 100, `only ${seen} heads delivered`);
});

test("fields an addon put in place of the peer's are walked and refused as an edit's; a status the server sent is refused as the server's", () => {
  const res = new Response({ status_code: 799, reason: "Odd", headers: Headers.fromRaw(["X-A", "1"]) });
  const head = receivedHead("the server", res);
  assert.throws(() => checkSendableResponse(res, 599, head), (e: Error) => e instanceof UnsendableError && /status_code is 799, .* for an HTTP\/2 client \(as the server sent it\)$/.test(e.message));
  res.status_code = 200;
  checkSendableResponse(res, 599, head);
  res.headers = new Headers([["X-A", "a\r\nInjected: 1"]]);
  assert.throws(() => checkSendableResponse(res, 599, head), (e: Error) => e instanceof UnsendableError && /^flow\.response\.headers\["X-A"\] is "a\\r\\nInjected: 1", which cannot be sent: .*\(set by an addon or an edit\?\)$/.test(e.message));
});
