import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFlow, encodeFlow } from "../../../src/engine/flow/codec.ts";
import { Client, Server } from "../../../src/engine/flow/connection.ts";
import { HTTPFlow, Request } from "../../../src/engine/flow/http.ts";

test("a pryx flow line keeps what addons and the Detail tab read: metadata (its plain-JSON entries), connection ids, errors, the client's mode, the server's upstream proxy, TLS state", () => {
  const client = new Client(["10.0.0.5", 51000], ["10.0.0.1", 8080], "reverse:https://app.test");
  client.tls = true;
  client.tls_established = true;
  const server = new Server(["app.test", 443]);
  server.via = ["proxy.test", 3128];
  server.error = "connection reset by peer";
  const flow = new HTTPFlow(client, server, new Request({ method: "GET", scheme: "https", host: "app.test", port: 443, path: "/", authority: "app.test", http_version: "HTTP/1.1", headers: [], content: undefined, timestamp_start: 1 }));
  flow.metadata = { tag: "seen", hits: 2, nested: { list: [1, "two", null] }, buffer: Buffer.from("x"), when: new Date(0) };
  flow.live = false;
  const back = decodeFlow(encodeFlow(flow)) as HTTPFlow;
  assert.deepEqual(back.metadata, { tag: "seen", hits: 2, nested: { list: [1, "two", null] } }, "what JSON would change is left out");
  assert.equal(back.client_conn.id, client.id);
  assert.equal(back.server_conn.id, server.id);
  assert.equal(back.client_conn.proxy_mode, "reverse:https://app.test");
  assert.deepEqual(back.server_conn.via, ["proxy.test", 3128]);
  assert.equal(back.server_conn.error, "connection reset by peer");
  assert.equal(back.client_conn.tls_established, true);
  assert.equal(back.server_conn.tls_established, false);
});

test("a line written before these fields reads with their defaults", () => {
  const line = JSON.parse(encodeFlow(new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 8080]), new Server(["a.test", 80]), new Request({ method: "GET", scheme: "http", host: "a.test", port: 80, path: "/", authority: "", http_version: "HTTP/1.1", headers: [], content: undefined, timestamp_start: 1 })))) as Record<string, Record<string, unknown>>;
  for (const side of ["client", "server"]) for (const k of ["id", "error", "tls_established", "proxy_mode", "via", "cipher", "certificate_list"]) delete line[side]![k];
  delete line["metadata"];
  const back = decodeFlow(JSON.stringify(line));
  assert.deepEqual(back.metadata, {});
  assert.equal(back.client_conn.proxy_mode, "regular");
  assert.deepEqual(back.server_conn.certificate_list, []);
  assert.match(back.client_conn.id, /^[0-9a-f-]{36}$/);
});
