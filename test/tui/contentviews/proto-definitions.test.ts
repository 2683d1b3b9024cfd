import { test } from "node:test";
import { tempDir } from "../../helpers/temp-dir.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import protobuf from "protobufjs";
import { renderContent } from "../../../src/tui/contentviews/index.ts";
import { ProtoDefinitions } from "../../../src/proto-definitions.ts";
import { texts } from "./helpers.ts";

export const SHOP_PROTO = path.resolve(import.meta.dirname, "../../fixtures/shop.proto");

/** gRPC's framing: a flag byte (0, not compressed) and the message's length, big-endian. */
function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

function encode(type: string, value: Record<string, unknown>): Uint8Array {
  const t = protobuf.loadSync(SHOP_PROTO).lookupType(type);
  return t.encode(t.fromObject(value)).finish();
}

test("with protobuf_definitions a gRPC response shows its fields by name, the type from the request path; 64-bit ids exact, enums by name", () => {
  const defs = ProtoDefinitions.load(SHOP_PROTO);
  const order = encode("shop.v1.Order", { id: "9007199254740993", name: "widget", status: "SHIPPED", items: [{ sku: "A-1", count: 2 }], token: Buffer.from([1, 2, 3]) });
  const schema = defs.schemaFor("/shop.v1.Orders/Get", false);
  assert.equal(schema?.name, "shop.v1.Order");
  const lines = texts(renderContent(grpcFrame(order), "application/grpc", "auto", { schema }));
  assert.equal(lines[0], `gRPC message 1 (${order.length} bytes)`);
  assert.equal(lines[1], "  shop.v1.Order");
  const body = lines.slice(2).join("\n");
  assert.match(body, /"id": "9007199254740993"/);
  assert.match(body, /"name": "widget"/);
  assert.match(body, /"status": "SHIPPED"/);
  assert.match(body, /"sku": "A-1",\n\s+"count": 2/);
  assert.match(body, /"token": "AQID"/);
  // The request's type is the method's input.
  assert.equal(defs.schemaFor("/shop.v1.Orders/Get?x=1", true)?.name, "shop.v1.GetOrder");
});

test("without a matching method the fields stay by number; bytes the type does not decode say so, then show by number", () => {
  const defs = ProtoDefinitions.load(SHOP_PROTO);
  assert.equal(defs.schemaFor("/shop.v1.Orders/Delete", false), undefined);
  assert.equal(defs.schemaFor("/other.Service/Get", false), undefined);
  assert.equal(defs.schemaFor("/api/v1/orders", false), undefined);
  assert.equal(defs.schemaFor(undefined, true), undefined);
  // Field 2 of Order is a string: a varint there is not an Order (protobufjs alone would skip it and show {}).
  const wrong = new Uint8Array([0x10, 0x05]);
  const lines = texts(renderContent(wrong, "application/x-protobuf", "protobuf", { schema: defs.schemaFor("/shop.v1.Orders/Get", false) }));
  assert.equal(lines[0], "not a shop.v1.Order (field 2 (name) is length-delimited, here a varint); by field number:");
  assert.equal(lines[1], "2: 5");
});

test("a .proto that is missing or does not parse is an error naming the file", () => {
  assert.throws(() => ProtoDefinitions.load("/nonexistent/shop.proto"), /^Error: \/nonexistent\/shop\.proto: no such file$/);
  const dir = tempDir("pryx-proto-");
  const bad = path.join(dir, "bad.proto");
  fs.writeFileSync(bad, 'syntax = "proto3";\nmessage Broken { string name = ; }\n');
  assert.throws(() => ProtoDefinitions.load(bad), (err: Error) => err.message.startsWith(`${bad}: `) && /illegal|unexpected|expected/i.test(err.message));
});
