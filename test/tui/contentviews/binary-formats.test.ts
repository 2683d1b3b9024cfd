import { test } from "node:test";
import assert from "node:assert/strict";
import { pickAutoView, renderContent } from "../../../src/tui/contentviews/index.ts";
import * as dnsPacket from "dns-packet";
import zlib from "node:zlib";
import { enc, texts } from "./helpers.ts";

/** A protobuf field: tag (number << 3 | wire type) as a varint, then the value's bytes. */
const varint = (n: bigint | number): number[] => {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
};
const tag = (no: number, wire: number): number[] => varint((no << 3) | wire);
const lenField = (no: number, bytes: number[]): number[] => [...tag(no, 2), ...varint(bytes.length), ...bytes];
const text = (s: string): number[] => [...Buffer.from(s)];

// message User { int64 id = 1; string name = 2; Address home = 3; float score = 4; bytes avatar = 5; sint32 delta = 6; }
const address = [...lenField(1, text("Main St")), ...tag(2, 0), ...varint(12)];
const user = Buffer.from([
  ...tag(1, 0), ...varint(150),
  ...lenField(2, text("Ada")),
  ...lenField(3, address),
  ...tag(4, 5), ...new Uint8Array(new Float32Array([1.5]).buffer),
  ...lenField(5, [0x00, 0xff, 0x10]),
  ...tag(6, 0), ...varint(3), // zigzag for -2, shown as the 3 it is
  ...tag(7, 0), ...varint((1n << 64n) - 1n), // -1 as int64
]);

test("protobuf without a schema: fields by number, nested messages indented, text quoted, bytes in hex", () => {
  const r = renderContent(user, "application/x-protobuf", "auto");
  assert.equal(r.name, "Protobuf");
  assert.equal(r.error, undefined);
  assert.deepEqual(texts(r), [
    "1: 150",
    '2: "Ada"',
    "3: {",
    '  1: "Main St"',
    "  2: 12",
    "}",
    "4: 1069547520 (fixed32; as float 1.5)",
    "5: 00ff10 (3 bytes)",
    "6: 3",
    "7: 18446744073709551615 (as int64 -1)",
  ]);
});

test("gRPC: each length-prefixed message in turn; a cut frame is an error auto shows as raw", () => {
  const frame = (msg: Buffer, compressed = false): Buffer => {
    const head = Buffer.alloc(5);
    head[0] = compressed ? 1 : 0;
    head.writeUInt32BE(msg.length, 1);
    return Buffer.concat([head, msg]);
  };
  const body = Buffer.concat([frame(Buffer.from([...tag(1, 0), 7])), frame(user), frame(Buffer.from("zz"), true)]);
  assert.equal(pickAutoView(body, "application/grpc"), "grpc");
  assert.equal(pickAutoView(body, "application/grpc+proto"), "grpc");
  const r = renderContent(body, "application/grpc", "auto");
  const lines = texts(r);
  assert.deepEqual(lines.slice(0, 4), ["gRPC message 1 (2 bytes)", "  1: 7", `gRPC message 2 (${user.length} bytes)`, "  1: 150"]);
  assert.deepEqual(lines.slice(-2), ["gRPC message 3 (2 bytes, compressed)", "7a7a"]);
  const cut = renderContent(body.subarray(0, 14), "application/grpc", "auto");
  assert.equal(cut.error, "[failed to parse as gRPC]");
  const asked = renderContent(body.subarray(0, 14), "application/grpc", "grpc");
  assert.match(texts(asked).join("\n"), /Couldn't parse as gRPC: falling back to Raw\ngRPC frame 2 says \d+ bytes; 2 are there/);
});

test("bytes that are not a protobuf message: the view says where it broke", () => {
  const r = renderContent(Buffer.from([0x0f, 0x01]), "application/protobuf", "protobuf");
  assert.match(texts(r).join("\n"), /Couldn't parse as Protobuf: falling back to Raw\nfield 1 has wire type 7/);
  assert.equal(renderContent(Buffer.from([0x0a, 0x09, 0x01]), "application/protobuf", "auto").error, "[failed to parse as Protobuf]");
});

test("a DNS over HTTPS body (application/dns-message) shows as the DNS flow view shows a message", () => {
  const answer = dnsPacket.encode({
    type: "response",
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: "A", name: "example.test" }],
    answers: [{ type: "A", name: "example.test", ttl: 300, data: "93.184.216.34" }],
  });
  assert.equal(pickAutoView(answer, "application/dns-message"), "dns");
  const r = renderContent(answer, "application/dns-message", "auto");
  assert.equal(r.name, "DNS");
  assert.deepEqual(texts(r), ["DNS NOERROR (id 0) Recursive", "", "Question:", "  example.test A IN", "", "Answer:", "  example.test A IN 300 93.184.216.34"]);
  assert.equal(renderContent(Buffer.from([1, 2, 3]), "application/dns-message", "auto").error, "[failed to parse as DNS]");
});

test("a GraphQL request shows its other fields as JSON, ---, then the query as written; a batch each in turn", () => {
  const op = { operationName: "User", variables: { id: 7 }, query: "query User($id: ID!) {\n  user(id: $id) { name }\n}" };
  const body = Buffer.from(JSON.stringify(op));
  assert.equal(pickAutoView(body, "application/json"), "graphql");
  assert.equal(pickAutoView(body, undefined), "graphql", "sniffed JSON too");
  assert.equal(pickAutoView(Buffer.from('{"query": 1}'), "application/json"), "json", "a query that is not a string is plain JSON");
  const r = renderContent(body, "application/json", "auto");
  assert.equal(r.name, "GraphQL");
  assert.deepEqual(texts(r), ["{", '  "operationName": "User",', '  "variables": {', '    "id": 7', "  }", "}", "---", "query User($id: ID!) {", "  user(id: $id) { name }", "}"]);
  const batch = renderContent(Buffer.from(JSON.stringify([{ query: "{ a }" }, { query: "{ b }" }])), "application/json", "auto");
  assert.deepEqual(texts(batch), ["{}", "---", "{ a }", "===", "{}", "---", "{ b }"]);
  assert.match(texts(renderContent(Buffer.from("[]"), "application/json", "graphql")).join("\n"), /not a GraphQL request/);
});

test("MessagePack shows as the JSON it would be: bytes and extensions as hex, 64-bit integers whole", () => {
  const body = Buffer.from(
    "87" + "a161" + "01" + "a162" + "93c3c0ff" + "a163" + "a368c3a9" + "01" + "c402ff00" + "a3626967" + "cf1000000000000000" + "a166" + "cb3ff8000000000000" + "a165" + "d40501",
    "hex",
  );
  assert.equal(pickAutoView(body, "application/x-msgpack"), "msgpack");
  const r = renderContent(body, "application/msgpack", "auto");
  assert.equal(r.name, "MsgPack");
  // A key that reads as an integer ("1") comes first, as it does in any JavaScript object.
  assert.deepEqual(JSON.parse(texts(r).join("\n")), { 1: "ff00", a: 1, b: [true, null, -1], c: "hé", big: "1152921504606846976", f: 1.5, e: { ext: 5, data: "01" } });
  assert.equal(renderContent(Buffer.from("93c3", "hex"), "application/msgpack", "auto").error, "[failed to parse as MsgPack]");
  assert.match(texts(renderContent(Buffer.from("c1", "hex"), "application/msgpack", "msgpack")).join("\n"), /byte 0xc1 at 0 starts no MessagePack value/);
});

/** A ZIP archive of `entries`, each stored or deflated, written as the format says (local headers, central directory, end record). */
function zipOf(entries: { name: string; data: Buffer; deflate?: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const stored = e.deflate ? zlib.deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + stored.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

test("a ZIP archive shows its table of contents: names, sizes, how each is stored", () => {
  const zip = zipOf([
    { name: "docs/", data: Buffer.alloc(0) },
    { name: "docs/readme.txt", data: Buffer.from("hello ".repeat(100)), deflate: true },
    { name: "logo.png", data: Buffer.from([1, 2, 3]) },
  ]);
  assert.equal(pickAutoView(zip, "application/zip"), "zip");
  assert.equal(pickAutoView(zip, "application/octet-stream"), "zip", "sniffed by its signature");
  assert.equal(pickAutoView(zip, "application/vnd.android.package-archive"), "zip");
  const r = renderContent(zip, "application/zip", "auto");
  assert.equal(r.name, "ZIP Archive");
  const deflated = zlib.deflateRawSync(Buffer.from("hello ".repeat(100))).length;
  assert.deepEqual(texts(r), ["3 entries", "docs/  0 bytes (directory)", `docs/readme.txt  600 bytes (deflated, ${deflated} compressed)`, "logo.png  3 bytes (stored)"]);
  assert.equal(renderContent(zip.subarray(0, zip.length - 30), "application/zip", "auto").error, "[failed to parse as ZIP Archive]");
});

test("Socket.IO messages show the packet they are, then their JSON; plain text that only starts with a digit is left alone", () => {
  const event = enc('42/chat,17["message",{"from":"ada","text":"hi"}]');
  assert.equal(pickAutoView(event, "text/plain"), "socketio");
  const r = renderContent(event, "text/plain", "auto");
  assert.equal(r.name, "Socket.IO");
  assert.deepEqual(texts(r), ["Socket.IO EVENT, namespace /chat, ack 17", "[", '  "message",', "  {", '    "from": "ada",', '    "text": "hi"', "  }", "]"]);
  assert.deepEqual(texts(renderContent(enc('0{"sid":"abc","pingInterval":25000}'), "text/plain", "auto")).slice(0, 2), ["Engine.IO open", "{"]);
  assert.deepEqual(texts(renderContent(enc("2"), "text/plain", "socketio")), ["Engine.IO ping"]);
  assert.deepEqual(texts(renderContent(enc('451-["upload",{"_placeholder":true,"num":0}]'), "text/plain", "auto"))[0], "Socket.IO BINARY_EVENT, 1 binary attachment");
  for (const plain of ["2024 was a good year", "42 is the answer", "3 apples"]) assert.equal(pickAutoView(enc(plain), "text/plain"), "raw", plain);
});

test("MQTT packets in a binary message (or a TCP chunk) show their type and fields, several in one message", () => {
  const str = (s: string): number[] => [s.length >> 8, s.length & 0xff, ...Buffer.from(s)];
  const packet = (first: number, body: number[]): number[] => [first, body.length, ...body];
  const connect = packet(0x10, [...str("MQTT"), 4, 0xc2, 0, 60, ...str("sensor-1"), ...str("ada"), ...str("pw")]);
  const publish = packet(0x32, [...str("home/temp"), 0, 7, ...Buffer.from('{"c":21.5}')]);
  const ping = packet(0xc0, []);
  const body = Buffer.from([...connect, ...publish, ...ping]);
  assert.equal(pickAutoView(body, undefined), "mqtt");
  const r = renderContent(body, undefined, "auto");
  assert.equal(r.name, "MQTT");
  assert.deepEqual(texts(r), [
    "CONNECT",
    "  protocol: MQTT level 4",
    "  keep alive: 60 s",
    '  client id: "sensor-1"',
    '  username: "ada"',
    '  password: "pw"',
    "  clean session: yes",
    "PUBLISH",
    '  topic: "home/temp"',
    "  qos: 1",
    "  packet id: 7",
    '  payload: "{\\"c\\":21.5}"',
    "PINGREQ",
  ]);
  // Bytes whose lengths do not add up are not taken for MQTT.
  assert.equal(pickAutoView(Buffer.from([0x30, 0x09, 0, 1, 0x61]), undefined), "hex");
  assert.match(texts(renderContent(Buffer.from([0x30, 0x09, 0, 1, 0x61]), undefined, "mqtt")).join("\n"), /PUBLISH packet at byte 0 says 9 bytes; 3 are there/);
});
