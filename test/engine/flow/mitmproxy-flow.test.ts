import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readFlows } from "../../../src/engine/save-stream.ts";
import type { Flow } from "../../../src/engine/flow/flow.ts";
import type { HTTPFlow } from "../../../src/engine/flow/http.ts";
import { UDPFlow, type TCPFlow } from "../../../src/engine/flow/tcp.ts";
import type { DNSFlow } from "../../../src/engine/flow/dns.ts";

const FIXTURE = new URL("../../fixtures/mitmproxy-8.1.1.flow", import.meta.url).pathname;

function read(file: string) {
  const flows: Flow[] = [];
  const r = readFlows(file, (f) => flows.push(f));
  return { ...r, flows };
}

test("a capture written by mitmdump 8.1.1 (-w) reads as pryx flows: requests, bodies byte for byte, errors", () => {
  const { flows, errors, format } = read(FIXTURE);
  assert.equal(format, "mitmproxy");
  assert.deepEqual(errors, []);
  const [get, post, dead] = flows as HTTPFlow[];
  assert.equal(flows.length, 3);
  assert.equal(get?.request.pretty_url, "http://127.0.0.1:9000/1k");
  assert.equal(get?.response?.status_code, 200);
  assert.equal(get?.response?.reason, "OK");
  assert.equal(Buffer.from(get?.response?.raw_content ?? []).toString(), "x".repeat(1024));
  assert.equal(get?.id, "253b299c-7f9c-48d5-ad74-76115ca99cd3");
  assert.deepEqual(get?.client_conn.peername, ["127.0.0.1", 43772]);
  assert.equal(post?.request.method, "POST");
  assert.equal(post?.request.path, "/form?x=1&flag");
  assert.equal(Buffer.from(post?.request.raw_content ?? []).toString(), "a=1&b=%FF");
  assert.equal(post?.request.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.equal(dead?.response, undefined);
  assert.match(dead?.error?.msg ?? "", /Connect call failed/);
  assert.ok(flows.every((f) => !f.live), "read flows are finished");
});

/** A tiny tnetstring writer for hand-made mitmproxy states (str keys, bytes where mitmproxy writes bytes). */
type W = { b: Buffer } | string | number | boolean | null | W[] | { [k: string]: W };
function tn(v: W): Buffer {
  const wrap = (payload: Buffer, tag: string): Buffer => Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(tag)]);
  if (v === null) return wrap(Buffer.alloc(0), "~");
  if (typeof v === "boolean") return wrap(Buffer.from(String(v)), "!");
  if (typeof v === "number") return Number.isInteger(v) ? wrap(Buffer.from(String(v)), "#") : wrap(Buffer.from(String(v)), "^");
  if (typeof v === "string") return wrap(Buffer.from(v, "utf8"), ";");
  if (Array.isArray(v)) return wrap(Buffer.concat(v.map(tn)), "]");
  if ("b" in v && Buffer.isBuffer(v.b)) return wrap(v.b, ",");
  return wrap(Buffer.concat(Object.entries(v as Record<string, W>).flatMap(([k, x]) => [tn(k), tn(x)])), "}");
}
const b = (s: string | Buffer): W => ({ b: Buffer.isBuffer(s) ? s : Buffer.from(s, "latin1") });
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const conn = { peername: ["10.0.0.5", 51000], sockname: ["10.0.0.1", 8080], tls: true, sni: "app.test", alpn: b("h2"), alpn_offers: [b("h2"), b("http/1.1")], tls_version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", certificate_list: [b(PEM), b(PEM)], timestamp_start: 1.5, timestamp_end: 9.5, proxy_mode: "regular", address: ["app.test", 443] };
const base = (type: string, extra: Record<string, W>): W => ({ version: 21, type, id: `id-${type}`, error: null, client_conn: conn, server_conn: conn, intercepted: false, is_replay: null, marked: ":default:", metadata: { tag: b("from-addon"), hits: 3, nested: { ok: true } }, comment: "seen", timestamp_created: 2.25, backup: null, ...extra });

test("mitmproxy 11 states (version 21): peername names, HTTP/2 with a WebSocket, DNS from its raw records, TCP, UDP; an unknown type is named as not read", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-mitm-"));
  try {
    const file = path.join(dir, "v21.mitm");
    const message = { http_version: b("HTTP/2.0"), headers: [[b("x-raw"), b("\xff\x01")]], content: b(Buffer.from([0, 255])), trailers: null, timestamp_start: 3, timestamp_end: 4 };
    const http = base("http", {
      request: { ...message, host: "app.test", port: 443, method: b("GET"), scheme: b("https"), authority: b("app.test"), path: b("/chat?x=%FF") },
      response: { ...message, status_code: 101, reason: b("Switching Protocols") },
      websocket: { messages: [[1, true, b("hi"), 5, false, false], [2, false, b(Buffer.from([1, 2])), 6, true, false]], closed_by_client: false, close_code: 1000, close_reason: "bye", timestamp_end: 7 },
    });
    const tcp = base("tcp", { messages: [[true, b("ping"), 5], [false, b("pong"), 6]] });
    const question = [{ name: "app.test", type: 1, class_: 1 }];
    const dnsFields = { id: 7, op_code: 0, authoritative_answer: false, truncation: false, recursion_desired: true, recursion_available: false, reserved: 0, response_code: 0, questions: question, answers: [], authorities: [], additionals: [], timestamp: 5 };
    const dns = base("dns", {
      request: { ...dnsFields, query: true },
      response: { ...dnsFields, query: false, recursion_available: true, answers: [{ name: "app.test", type: 1, class_: 1, ttl: 30, data: b(Buffer.from([10, 0, 0, 9])) }], timestamp: 6 },
    });
    const weird = base("quic", {});
    const udp = base("udp", { messages: [[true, b("q"), 5], [false, b(Buffer.from([0, 1])), 6]] });
    fs.writeFileSync(file, Buffer.concat([tn(http), tn(dns), tn(weird), tn(tcp), tn(udp), tn(base("http", {})).subarray(0, 30)]));
    const { flows, errors } = read(file);
    assert.equal(flows.length, 4);
    const [h, d, t, u] = flows as [HTTPFlow, DNSFlow, TCPFlow, UDPFlow];
    assert.ok(u instanceof UDPFlow);
    assert.deepEqual(u.messages.map((m) => [m.from_client, [...m.content]]), [[true, [113]], [false, [0, 1]]]);
    assert.equal(d.request.question?.name, "app.test");
    assert.deepEqual(d.response?.answers.map((a) => [a.name, a.type, "ttl" in a ? a.ttl : undefined, "data" in a ? a.data : undefined]), [["app.test", "A", 30, "10.0.0.9"]]);
    assert.equal(d.response?.timestamp, 6);
    assert.deepEqual(h.client_conn.peername, ["10.0.0.5", 51000]);
    assert.equal(h.client_conn.sni, "app.test");
    assert.equal(h.client_conn.alpn, "h2");
    assert.deepEqual(h.client_conn.alpn_offers, ["h2", "http/1.1"]);
    assert.deepEqual(h.server_conn.certificate_list, [PEM, PEM], "the server's chain, as PEM");
    assert.equal(h.server_conn.cipher, "TLS_AES_256_GCM_SHA384");
    assert.deepEqual(h.metadata, { tag: "from-addon", hits: 3, nested: { ok: true } }, "addons' metadata");
    assert.equal(h.request.http_version, "HTTP/2.0");
    assert.equal(h.request.path, "/chat?x=%FF");
    assert.deepEqual(h.request.headers.byteFields(), [["x-raw", "\xff\x01"]], "header bytes kept one char per byte");
    assert.equal(h.request.headers.get("x-raw"), "\udcff\x01", "read as text, a byte that is no UTF-8 is U+DC00+byte");
    assert.deepEqual([...(h.request.raw_content ?? [])], [0, 255]);
    assert.equal(h.response?.reason, "Switching Protocols");
    assert.deepEqual(h.websocket?.messages.map((m) => [m.type, m.from_client, [...m.content], m.dropped]), [["text", true, [104, 105], false], ["binary", false, [1, 2], true]]);
    assert.deepEqual([h.websocket?.close_code, h.websocket?.close_reason, h.websocket?.closed_by_client], [1000, "bye", false]);
    assert.deepEqual([h.marked, h.comment, h.timestamp_created], [":default:", "seen", 2.25]);
    assert.deepEqual(t.messages.map((m) => [m.from_client, Buffer.from(m.content).toString()]), [[true, "ping"], [false, "pong"]]);
    assert.equal(errors.length, 2);
    assert.match(errors[0] ?? "", /flow 3: mitmproxy quic flows are not read yet/);
    assert.match(errors[1] ?? "", /flow 6 is cut off at the end of the file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a mitmproxy file of an unsupported version says which versions pryx reads", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-mitm-"));
  try {
    const file = path.join(dir, "old.mitm");
    fs.writeFileSync(file, Buffer.concat([tn(base("http", { version: 9 })), tn(base("http", { version: 99 }))]));
    const { flows, errors } = read(file);
    assert.equal(flows.length, 0);
    assert.match(errors[0] ?? "", /format version 9: pryx reads versions 13 to 21/);
    assert.match(errors[1] ?? "", /format version 99/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
