import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { rawExchange, startRawOrigin } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** The header lines of a request or response as received, without the first line. */
function headerLines(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end !== -1, `no complete head in ${JSON.stringify(text)}`);
  return text.slice(0, end).split("\r\n").slice(1);
}

test("request header names, case, order and duplicates reach the origin byte for byte, nothing added", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => OK);
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const lines = [
    `host: 127.0.0.1:${origin.port}`,
    "user-AGENT: fidelity/1.0",
    "X-UPPER: A",
    "x-lower: b",
    "X-Dup: 1",
    "accept: */*",
    "x-dup: 2",
    "Cookie: a=1; b=2",
    "X-Empty: ",
  ];
  const got = await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/p/a%20th?q=1&r=%2F HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`, {
    until: (b) => b.toString().endsWith("ok"),
  });
  assert.match(got.toString(), /^HTTP\/1\.1 200 OK\r\n/);
  const received = origin.received[0] as Buffer;
  const text = received.toString("latin1");
  assert.equal(text.slice(0, text.indexOf("\r\n")), "GET /p/a%20th?q=1&r=%2F HTTP/1.1", "the request line keeps the path as sent");
  assert.deepEqual(headerLines(received), lines);
  assert.equal(text.length, text.indexOf("\r\n\r\n") + 4, "no body was invented");
});

test("request headers reach the server as the flow holds them, hop-by-hop ones and those Connection names too, as mitmproxy 8 sends them; not Proxy-Authorization, nor an Upgrade not carried out", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => OK);
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const sent = [
    `Host: 127.0.0.1:${origin.port}`,
    "Proxy-Connection: keep-alive",
    "X-Keep-1: a",
    "Proxy-Authorization: Basic dXNlcjpwYXNz",
    "Keep-Alive: timeout=5",
    "TE: trailers",
    "Trailer: X-Checksum",
    "Upgrade: h2c",
    "X-Per-Hop: secret",
    "Connection: X-Per-Hop",
    "X-Keep-2: b",
  ];
  await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\n${sent.join("\r\n")}\r\n\r\n`, { until: (b) => b.toString().endsWith("ok") });
  const forwarded = headerLines(origin.received[0] as Buffer);
  assert.deepEqual(forwarded, [
    `Host: 127.0.0.1:${origin.port}`,
    "Proxy-Connection: keep-alive",
    "X-Keep-1: a",
    "Keep-Alive: timeout=5",
    "TE: trailers",
    "Trailer: X-Checksum",
    "X-Per-Hop: secret",
    "Connection: X-Per-Hop",
    "X-Keep-2: b",
  ]);
});

test("response status line, header case, order and duplicates reach the client unchanged", { timeout: 10_000 }, async (t) => {
  const response = [
    "HTTP/1.1 200 Fine Thanks",
    "x-lower: a",
    "X-UPPER: B",
    "Set-Cookie: a=1; Path=/",
    "Date: Tue, 01 Jan 2030 00:00:00 GMT",
    "set-cookie: b=2",
    "content-TYPE: text/plain",
    "Content-Length: 5",
    "X-Last: z",
  ].join("\r\n");
  const origin = await startRawOrigin(() => `${response}\r\n\r\nhello`);
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const got = await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`, {
    until: (b) => b.toString().endsWith("hello"),
  });
  assert.equal(got.toString("latin1"), `${response}\r\n\r\nhello`);
});

test("a status line with an empty reason phrase keeps the space before it (RFC 9112 4), as the server sent it", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => "HTTP/1.1 599 \r\nContent-Length: 2\r\n\r\nok");
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const got = await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`, {
    until: (b) => b.toString().endsWith("ok"),
  });
  assert.equal(got.toString("latin1"), "HTTP/1.1 599 \r\nContent-Length: 2\r\n\r\nok");
});

test("an HTTP/1.0 request goes upstream as HTTP/1.0 with its headers unchanged", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const got = await rawExchange(proxy.port, `GET http://127.0.0.1:${origin.port}/old HTTP/1.0\r\nX-Old: yes\r\n\r\n`, { until: (b) => b.toString().endsWith("ok") });
  assert.match(got.toString(), /^HTTP\/1\.0 200 OK\r\n/);
  const received = (origin.received[0] as Buffer).toString("latin1");
  assert.equal(received, "GET /old HTTP/1.0\r\nX-Old: yes\r\n\r\n");
});

test("an h2c upgrade (curl --http2 http://…) goes on as HTTP/1.1 without its upgrade headers, as in mitmproxy, and the next request on the connection is read", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => OK);
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const h2c = (path: string): string =>
    `GET http://127.0.0.1:${origin.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nX-Keep: 1\r\n\r\n`;
  // Two on one connection, the second right behind the first.
  const answers = await rawExchange(proxy.port, h2c("/one") + h2c("/two"), { until: (b) => (b.toString().match(/\r\n\r\nok/g) ?? []).length === 2 });
  assert.equal((answers.toString().match(/HTTP\/1\.1 200 OK\r\n/g) ?? []).length, 2, answers.toString());
  const received = Buffer.concat(origin.received).toString("latin1");
  assert.match(received, /GET \/one HTTP\/1\.1\r\n[^]*GET \/two HTTP\/1\.1\r\n/);
  assert.doesNotMatch(received, /upgrade|http2-settings/i);
  assert.match(received, /X-Keep: 1/);
  await proxy.waitLog(/HTTP\/2 cleartext upgrade \(h2c\) is not supported/);
});

test("a Content-Length repeated with the same value is taken (RFC 9110 8.6, as mitmproxy takes it), both ways, and passed on as sent; differing values are a 502 (or a client's 400) naming them", { timeout: 10_000 }, async (t) => {
  const twice = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello";
  const origin = await startRawOrigin((req) => (req.includes("/differ") ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" : twice));
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const target = `127.0.0.1:${origin.port}`;
  const same = await rawExchange(proxy.port, `POST http://${target}/same HTTP/1.1\r\nHost: ${target}\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, { until: (b) => b.toString().endsWith("hello") });
  assert.equal(same.toString("latin1"), twice);
  assert.match(origin.received.map((b) => b.toString("latin1")).join(""), /\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc$/, "the request's fields reached the server as sent");
  const differ = await rawExchange(proxy.port, `GET http://${target}/differ HTTP/1.1\r\nHost: ${target}\r\n\r\n`, { until: (b) => b.toString().includes("\n", b.indexOf("\r\n\r\n") + 4) });
  assert.match(differ.toString("latin1"), /^HTTP\/1\.1 502 [\s\S]*conflicting Content-Length headers: 5, 6\n$/);
  const refused = await rawExchange(proxy.port, `POST http://${target}/up HTTP/1.1\r\nHost: ${target}\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`);
  assert.match(refused.toString("latin1"), /^HTTP\/1\.1 400 [\s\S]*conflicting Content-Length headers: 3, 4\n$/);
});
