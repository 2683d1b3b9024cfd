import { test } from "node:test";
import assert from "node:assert/strict";
import { readable, summarize } from "../../../src/engine/flow/summary.ts";
import { SummaryWriter, decodeSummaries, encodeSummaries, transferables } from "../../../src/summary-codec.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { FlowError, type Flow } from "../../../src/engine/flow/flow.ts";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { TCPFlow, TCPMessage } from "../../../src/engine/flow/tcp.ts";
import { DNSFlow, DNSMessage } from "../../../src/engine/flow/dns.ts";

const wire = (text: string): string => Buffer.from(text, "utf8").toString("latin1");

test("readable shows a target's UTF-8 bytes as text and leaves anything else as sent", () => {
  assert.equal(readable("/plain?q=1"), "/plain?q=1");
  assert.equal(readable(wire("/日本語?q=à")), "/日本語?q=à");
  // Not UTF-8 (a lone latin1 é): shown as the byte it is rather than as a replacement character.
  assert.equal(readable("/caf\u00e9"), "/caf\u00e9");
});

test("every kind of flow's summary crosses a batch and reads back: flags, optional fields, a separator in a comment", () => {
  const client = (): Client => new Client(["127.0.0.1", 50000], ["127.0.0.1", 8080]);
  const get = new HTTPFlow(client(), new Server(["app.test", 80]), new Request({ method: "GET", scheme: "http", host: "app.test", port: 80, path: wire("/日本語?q=1"), headers: [["Host", "app.test"]], content: new Uint8Array(0) }));
  get.response = new Response({ status_code: 404, reason: "Not Found", headers: [["Content-Type", "text/html"]], content: Buffer.from("no") });
  get.response.timestamp_end = get.request.timestamp_start + 0.25;
  get.live = false;
  get.marked = ":star:";
  get.comment = "a comment with a \u0000 in it";
  const live = new HTTPFlow(client(), new Server(undefined), new Request({ method: "POST", scheme: "https", host: "api.test", port: 443, path: "/p", headers: [], content: Buffer.from("body") }));
  live.intercept();
  const failed = new HTTPFlow(client(), new Server(["down.test", 81]), new Request({ method: "GET", scheme: "http", host: "down.test", port: 81, path: "/", headers: [], content: new Uint8Array(0) }));
  failed.error = new FlowError("connection refused");
  failed.live = false;
  const tcp = new TCPFlow(client(), new Server(["tcp.test", 7]));
  tcp.messages.push(new TCPMessage(true, Buffer.from("ping")), new TCPMessage(false, Buffer.from("pong!")));
  const dns = new DNSFlow(client(), new Server(["1.1.1.1", 53]), new DNSMessage({ id: 1, type: "query", questions: [{ name: "example.test", type: "A", class: "IN" }] }));
  // An HTTP/2 client of an HTTP/1.1 server: the summary carries both versions, as mitmdump prints them.
  const h2 = new HTTPFlow(client(), new Server(["h1.test", 443]), new Request({ method: "GET", scheme: "https", host: "h1.test", port: 443, path: "/", http_version: "HTTP/2.0", headers: [], content: new Uint8Array(0) }));
  h2.response = new Response({ status_code: 200, reason: "OK", http_version: "HTTP/1.1", headers: [], content: Buffer.from("ok") });
  h2.live = false;
  const flows: Flow[] = [get, live, failed, tcp, dns, h2];

  for (const showHost of [true, false]) {
    const summaries = flows.map((f, i) => summarize(f, i + 1, i % 2 === 0, showHost));
    const back = decodeSummaries(encodeSummaries(summaries));
    assert.deepEqual(back.slice(1), summaries.slice(1), "what crosses is the summary, field for field");
    assert.deepEqual(back.map((s) => [s.type, s.url, s.status, s.error, s.interceptedAt, s.marker, s.shown, s.httpVersion, s.responseVersion]), [
      ["http", "http://app.test/日本語?q=1", 404, undefined, undefined, ":star:", true, "HTTP/1.1", undefined],
      ["http", "https://api.test/p", undefined, undefined, "request", "", false, "HTTP/1.1", undefined],
      ["http", "http://down.test:81/", undefined, "connection refused", undefined, "", true, "HTTP/1.1", undefined],
      ["tcp", "tcp://tcp.test:7", undefined, undefined, undefined, "", false, "", undefined],
      ["dns", "dns://example.test", undefined, undefined, undefined, "", true, "", undefined],
      ["http", "https://h1.test/", 200, undefined, undefined, "", false, "HTTP/2.0", "HTTP/1.1"],
    ]);
    // The separator inside the comment became a replacement character rather than shifting the fields after it.
    assert.equal(back[0]?.comment, "a comment with a \ufffd in it");
    assert.equal(back[3]?.reqSize, 9);
  }
});

test("a batch hands over only buffers it owns whole, and never the shared empty batch", () => {
  const tcp = new TCPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["t.test", 7]));
  const batch = encodeSummaries([summarize(tcp, 1, true)]);
  assert.deepEqual(transferables(batch), [batch.bytes.buffer, batch.nums.buffer]);
  assert.deepEqual(transferables(new SummaryWriter(0).finish()), []);
  // A view into a larger buffer stays behind: moving it would detach the rest of that buffer.
  const nums = new Float64Array(10);
  assert.deepEqual(transferables({ count: 1, bytes: new Uint8Array(new ArrayBuffer(16), 4, 8), nums }), [nums.buffer]);
});
