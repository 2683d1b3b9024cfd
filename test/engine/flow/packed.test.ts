import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { FlowError, SEQ } from "../../../src/engine/flow/flow.ts";
import { HTTPFlow, Request, Response } from "../../../src/engine/flow/http.ts";
import { PackArena, PackedView, packFlow, packable, releasePacked, unpackFlow } from "../../../src/engine/flow/packed.ts";
import { compileFilter, type FilterableFlow } from "../../../src/engine/filter/index.ts";
import { encodeFlow } from "../../../src/engine/flow/codec.ts";
import { Headers } from "../../../src/engine/flow/headers.ts";

function finished(withResponse = true): HTTPFlow {
  const client = new Client(["127.0.0.1", 50000], ["127.0.0.1", 8080]);
  const server = new Server(["app.test", 443]);
  const req = new Request({
    method: "POST",
    scheme: "https",
    host: "app.test",
    port: 8443,
    path: "/api/v1?q=caf\u00e9",
    http_version: "HTTP/2.0",
    headers: new Headers([["Host", "app.test:8443"], ["X-Twice", "a"], ["x-twice", "b"], ["Content-Type", "application/json"]]),
    content: Buffer.from('{"a":1}'),
    timestamp_start: 1764126000.125,
  });
  req.timestamp_end = 1764126000.25;
  const flow = new HTTPFlow(client, server, req);
  if (withResponse) {
    const res = new Response({ status_code: 418, reason: "I'm a teapot", headers: [["Server", "t"]], content: Buffer.from([0, 1, 2, 255]), timestamp_start: 1764126000.5 });
    res.timestamp_end = 1764126000.75;
    res.stream = true;
    flow.response = res;
  }
  flow.marked = ":star:";
  flow.comment = "seen twice";
  flow.is_replay = "request";
  flow.timestamp_created = 1764126000;
  flow.live = false;
  flow[SEQ] = 42;
  return flow;
}

test("a packed flow unpacks equal: text, repeated headers in order, binary bodies, timestamps, marks and flags", () => {
  const slab = new PackArena();
  const flow = finished();
  assert.ok(packable(flow));
  const packed = packFlow(flow, 42, slab);
  assert.ok(packed);
  const back = unpackFlow(packed, slab);
  assert.equal(encodeFlow(back), encodeFlow(flow));
  assert.equal(back.id, flow.id);
  assert.equal(back[SEQ], 42);
  assert.equal(back.live, false);
  assert.deepEqual(back.request.headers.getAll("x-twice"), ["a", "b"]);
  assert.deepEqual([...(back.response?.raw_content ?? [])], [0, 1, 2, 255]);
  assert.equal(back.request.stream, false);
  assert.equal(back.response?.stream, true);
  assert.equal(back.request.timestamp_end, 1764126000.25);
  // Connections are shared, not copied: a connection closing later shows on every flow it carried.
  assert.equal(back.client_conn, flow.client_conn);
  assert.equal(back.server_conn, flow.server_conn);
});

/** The same flow with both connections closed (as after the sockets went, or read from a file), so they are packed too. */
function withClosedConnections(): HTTPFlow {
  const flow = finished();
  const c = flow.client_conn;
  c.tls = c.tls_established = true;
  c.tls_version = "TLSv1.3";
  c.sni = "app.test";
  c.alpn = "h2";
  c.alpn_offers = ["h2", "http/1.1"];
  c.timestamp_tls_setup = 1764126000.01;
  c.timestamp_end = 1764126002;
  c.closed = true;
  const s = flow.server_conn;
  s.peername = ["::1", 8443];
  s.sockname = ["::1", 50123];
  s.via = ["proxy.test", 3128];
  s.cipher = "TLS_AES_128_GCM_SHA256";
  s.alpn_offers = ["http/1.1"];
  s.certificate_list = ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "second"];
  s.timestamp_tcp_setup = 1764126000.02;
  s.error = "reset by peer";
  s.closed = true;
  return flow;
}

test("closed connections are packed into the flow and come back field for field", () => {
  const slab = new PackArena();
  const flow = withClosedConnections();
  const packed = packFlow(flow, 3, slab)!;
  assert.equal(packed.client, undefined);
  assert.equal(packed.server, undefined);
  const back = unpackFlow(packed, slab);
  assert.equal(encodeFlow(back), encodeFlow(flow));
  for (const key of ["id", "closed", "tls", "tls_established", "tls_version", "cipher", "sni", "alpn", "alpn_offers", "timestamp_start", "timestamp_tls_setup", "timestamp_end", "peername", "sockname", "proxy_mode", "error"] as const)
    assert.deepEqual(back.client_conn[key], flow.client_conn[key], `client ${key}`);
  for (const key of ["id", "address", "peername", "sockname", "via", "certificate_list", "timestamp_tcp_setup", "cipher", "error", "tls", "sni", "alpn_offers"] as const)
    assert.deepEqual(back.server_conn[key], flow.server_conn[key], `server ${key}`);
});

test("a flow without a response and with an error packs; unset timestamps stay unset", () => {
  const slab = new PackArena();
  const flow = finished(false);
  flow.request.timestamp_end = undefined;
  flow.error = new FlowError("server closed the connection", 1764126001.5);
  const back = unpackFlow(packFlow(flow, 1, slab)!, slab);
  assert.equal(back.response, undefined);
  assert.equal(back.request.timestamp_end, undefined);
  assert.equal(back.error?.msg, "server closed the connection");
  assert.equal(back.error?.timestamp, 1764126001.5);
  assert.equal(encodeFlow(back), encodeFlow(flow));
});

test("flows that would not round-trip are not packed: live, paused, edited, with metadata that is not plain JSON, trailers", () => {
  const live = finished();
  live.live = true;
  const paused = finished();
  paused.intercept();
  const edited = finished();
  edited.backupState();
  const buffer = finished();
  buffer.metadata.raw = Buffer.from("x");
  const date = finished();
  date.metadata.when = { at: new Date(0) };
  const missing = finished();
  missing.metadata.gone = undefined;
  const trailers = finished();
  trailers.response!.trailers = new Headers([["grpc-status", "0"]]);
  for (const f of [live, paused, edited, buffer, date, missing, trailers]) assert.equal(packable(f), false);
});

test("plain JSON metadata packs, unpacks equal, and filters read it from the packed flow (~meta)", () => {
  const arena = new PackArena();
  const flow = finished();
  flow.metadata = { blocklisted: true, proxyauth: ["alice", "pw"], score: 0.5, note: "a\u0000b", nested: { tags: ["x"], none: null } };
  assert.equal(packable(flow), true);
  const packed = packFlow(flow, 1, arena)!;
  assert.ok(packed, "packed");
  const back = unpackFlow(packed, arena);
  assert.deepEqual(back.metadata, flow.metadata);
  assert.equal(encodeFlow(back), encodeFlow(flow));
  const view = new PackedView(arena).reset(packed);
  assert.deepEqual(view.metadata, flow.metadata);
  assert.equal(compileFilter("~meta alice")(view as unknown as FilterableFlow), true);
  assert.equal(compileFilter("~meta bob")(view as unknown as FilterableFlow), false);
  // Without metadata the view has none, and the text has no extra field.
  const plain = packFlow(finished(), 2, arena)!;
  assert.deepEqual(new PackedView(arena).reset(plain).metadata, {});
});

test("a NUL in any text leaves the flow unpacked rather than split wrongly", () => {
  const slab = new PackArena();
  const flow = finished();
  flow.request.path = "/a\u0000b";
  assert.equal(packFlow(flow, 1, slab), undefined);
});

test("the number slab reuses a released slot and grows past its first pages", () => {
  const arena = new PackArena();
  const flows = Array.from({ length: 3000 }, (_, i) => {
    const f = finished();
    f.request.timestamp_start = 1764126000 + i;
    f.response!.status_code = 200 + (i % 300);
    return f;
  });
  const packed = flows.map((f, i) => packFlow(f, i, arena)!);
  const view = new PackedView(arena);
  packed.forEach((p, i) => {
    assert.equal(unpackFlow(p, arena).request.timestamp_start, 1764126000 + i);
    assert.equal(view.reset(p).response?.status_code, 200 + (i % 300));
  });
  arena.numbers.release(packed[7]!.slot);
  assert.equal(arena.numbers.alloc(), packed[7]!.slot);
});

test("small bodies share slab chunks, which go once no flow uses them; a large body is kept as it was", () => {
  const arena = new PackArena();
  const flows = Array.from({ length: 250 }, (_, i) => {
    const f = finished();
    f.request.raw_content = undefined;
    f.response!.raw_content = Buffer.alloc(40 * 1024, i % 251);
    return f;
  });
  const packed = flows.map((f, i) => packFlow(f, i, arena)!);
  // 102 bodies of 40 KiB fit in a 4 MiB chunk: 250 fill two and start a third.
  assert.equal(arena.bodies.chunkCount, 3);
  assert.equal(packed[0]!.responseBody, undefined);
  assert.deepEqual(unpackFlow(packed[150]!, arena).response?.raw_content, Buffer.alloc(40 * 1024, 150 % 251));
  for (const p of packed.slice(0, 102)) releasePacked(p, arena);
  assert.equal(arena.bodies.chunkCount, 2);

  const big = finished();
  big.response!.raw_content = Buffer.alloc(1024 * 1024, 7);
  const p = packFlow(big, 1, arena)!;
  assert.equal(p.responseBody, big.response!.raw_content);
  assert.equal(unpackFlow(p, arena).response?.raw_content, big.response!.raw_content);
  const empty = finished(false);
  empty.request.raw_content = new Uint8Array(0);
  assert.equal(unpackFlow(packFlow(empty, 2, arena)!, arena).request.raw_content?.length, 0);
});

test("every filter operator reads a packed flow's view as it reads the flow itself", () => {
  const slab = new PackArena();
  const view = new PackedView(slab);
  const plain = finished();
  const noResponse = finished(false);
  noResponse.marked = "";
  noResponse.is_replay = null;
  noResponse.error = new FlowError("connection refused");
  const gzipped = finished();
  gzipped.response!.headers.set("Content-Encoding", "gzip");
  gzipped.response!.content = Buffer.from("compressed secret");
  const connect = finished();
  connect.request.method = "CONNECT";
  connect.request.authority = "app.test:443";
  const expressions = [
    "~a", "~all", "~dns", "~e", "~http", "~marked", "~q", "~replay", "~replayq", "~replays", "~s", "~tcp", "~udp", "~websocket",
    "~b a", "~bq a", "~bs secret", "~comment twice", "~d app", "~dst app", "~h x-twice", "~hq content-type", "~hs server",
    "~m POST", "~marker star", "~meta x", "~src 127", "~src 127.0.0.1:50000", "~dst app.test:443", "~dst 8443", "~t json", "~tq json", "~ts json", "~u api", "~u app.test:443", "~c 418", "!~c 200",
    "api & ~m POST", "teapot | ~e", "app.test",
  ];
  const closed = withClosedConnections();
  const closedNoResponse = withClosedConnections();
  closedNoResponse.response = undefined;
  closedNoResponse.server_conn.address = undefined;
  for (const [name, flow] of Object.entries({ plain, noResponse, gzipped, connect, closed, closedNoResponse })) {
    const packed = packFlow(flow, 1, slab)!;
    for (const expr of expressions) {
      const pred = compileFilter(expr);
      assert.equal(pred(view.reset(packed)), pred(flow as unknown as FilterableFlow), `${expr} on the ${name} flow`);
    }
  }
});

test("with spill_bodies, a large body goes to the spill file: filters read it there, unpacking gives it back, packing it again writes nothing", () => {
  const arena = new PackArena();
  arena.spillBodies = true;
  const flow = finished();
  const body = Buffer.alloc(200 * 1024, "x");
  body.write("needle", 150 * 1024);
  flow.response!.raw_content = body;
  flow.request.raw_content = Buffer.from("small stays in memory");
  const packed = packFlow(flow, 1, arena)!;
  assert.ok(!(packed.responseBody instanceof Uint8Array), "not kept in memory");
  assert.equal(arena.spill.bytes, body.length);
  const view = new PackedView(arena).reset(packed);
  assert.equal(compileFilter("~bs needle")(view as unknown as FilterableFlow), true);
  assert.equal(compileFilter("~bq memory")(view as unknown as FilterableFlow), true);
  const back = unpackFlow(packed, arena);
  assert.deepEqual(back.response?.raw_content, body);
  assert.equal(encodeFlow(back), encodeFlow(flow));
  packFlow(back, 1, arena);
  assert.equal(arena.spill.bytes, body.length, "the bytes on disk are reused");
  arena.spill.close();
});

test("an HTTP/2 request without a Host header (its authority in request.authority, as mitmproxy keeps it): ~d, ~h, ~u and pretty_host read the authority, live and packed alike", () => {
  const arena = new PackArena();
  const flow = finished();
  flow.request = new Request({ method: "GET", scheme: "https", host: "10.0.0.1", port: 443, path: "/x", http_version: "HTTP/2.0", headers: [["accept", "*/*"]], authority: "app.test:8443", content: new Uint8Array(0) });
  const packed = packFlow(flow, 1, arena)!;
  assert.ok(packed, "packed");
  const view = new PackedView(arena).reset(packed) as unknown as FilterableFlow;
  for (const [label, f] of [["live", flow as unknown as FilterableFlow], ["packed", view]] as const) {
    assert.equal(f.type === "http" && f.request.pretty_host, "app.test", label);
    assert.equal(f.type === "http" && f.request.pretty_url, "https://app.test:8443/x", label);
    for (const expr of ["~d app.test", "~u app.test:8443", "~h 'host: app.test:8443'", "~hq app.test"]) assert.equal(compileFilter(expr)(f), true, `${label} ${expr}`);
    assert.equal(compileFilter("~hq other.test")(f), false, label);
  }
  // The Host line ~h reads is the authority's only when the request has no Host field of its own.
  flow.request.plainHeaders.set("Host", "own.test");
  assert.equal(compileFilter("~hq app.test")(flow as unknown as FilterableFlow), false);
});
