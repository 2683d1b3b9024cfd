import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowStore } from "../../src/engine/store.ts";
import { decodeSummaries } from "../../src/summary-codec.ts";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { compileFilter, type FilterableFlow } from "../../src/engine/filter/index.ts";
import { resolveIds } from "../../src/engine/flow-commands.ts";
import { flowsIn, writeFlowFile } from "../../src/engine/save-stream.ts";
import path from "node:path";
import { tempDir } from "../helpers/temp-dir.ts";

function flowTo(path: string): HTTPFlow {
  const req = new Request({ method: "GET", scheme: "http", host: "app.test", port: 80, path, headers: [["Host", "app.test"]], content: new Uint8Array(0) });
  const flow = new HTTPFlow(new Client(["127.0.0.1", 1], ["127.0.0.1", 2]), new Server(["app.test", 80]), req);
  flow.response = new Response({ status_code: path === "/missing" ? 404 : 200, content: Buffer.from(`body of ${path}`) });
  return flow;
}

/** A console's store after `paths` went through it and one flush reported them finished. */
function storeWith(...paths: string[]): { store: FlowStore; flows: HTTPFlow[] } {
  const store = new FlowStore(true);
  const flows = paths.map(flowTo);
  for (const f of flows) store.add(f);
  store.takeDelta();
  for (const f of flows) {
    f.live = false;
    store.update(f);
  }
  store.takeDelta();
  return { store, flows };
}

const byFilter = (expr: string) => {
  const pred = compileFilter(expr);
  return (f: unknown) => pred(f as FilterableFlow);
};

test("a kept flow reads back whole after the flush that stores it, and one get gives one object until the next flush", () => {
  const { store, flows } = storeWith("/a", "/b");
  const a = store.get(flows[0]!.id);
  assert.ok(a instanceof HTTPFlow);
  assert.equal(encodeFlow(a), encodeFlow(flows[0]!));
  assert.equal(a.response?.text, "body of /a");
  assert.equal(store.get(flows[0]!.id), a);
  assert.equal(store.seqOf(a), 1);
  assert.equal(store.size, 2);
});

test("a flow whose closed client sent a certificate (request_client_cert) is kept with it", () => {
  const store = new FlowStore(true);
  const f = flowTo("/mtls");
  f.client_conn.certificate_list = ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"];
  f.client_conn.closed = true;
  f.server_conn.closed = true;
  f.live = false;
  store.add(f);
  store.takeDelta();
  store.takeDelta();
  const back = store.get(f.id) as HTTPFlow;
  assert.deepEqual(back.client_conn.certificate_list, f.client_conn.certificate_list);
});

test("a change made through get and update survives later flushes", () => {
  const { store, flows } = storeWith("/a");
  const held = store.get(flows[0]!.id) as HTTPFlow;
  held.comment = "first";
  store.update(held);
  const delta = store.takeDelta();
  assert.equal(delta.update.count, 1);
  assert.equal((store.get(held.id) as HTTPFlow).comment, "first");
  // Held across a flush and changed again: update hands the object back to the store.
  store.takeDelta();
  held.marked = ":star:";
  held.request.path = "/changed";
  store.update(held);
  store.takeDelta();
  const again = store.get(held.id) as HTTPFlow;
  assert.equal(again.marked, ":star:");
  assert.equal(again.request.path, "/changed");
  assert.equal(again.comment, "first");
});

test("the view filter and filter specs read packed flows; select unpacks only what matched", () => {
  const { store, flows } = storeWith("/a", "/missing", "/c");
  assert.deepEqual([...store.setViewFilter(byFilter("~c 404"))], [2]);
  const picked = store.select(byFilter("~u /c"));
  assert.deepEqual(picked.map((f) => f.id), [flows[2]!.id]);
  assert.equal(store.get(flows[2]!.id), picked[0]);
});

test("max_flows drops the oldest stored flows but spares a marked one", () => {
  const { store, flows } = storeWith("/1", "/2", "/3", "/4");
  const first = store.get(flows[0]!.id) as HTTPFlow;
  first.marked = ":default:";
  store.update(first);
  store.takeDelta();
  store.setLimit(2);
  const delta = store.takeDelta();
  assert.deepEqual(delta.remove, [flows[1]!.id, flows[2]!.id]);
  assert.equal((store.get(flows[0]!.id) as HTTPFlow).marked, ":default:");
  assert.equal(store.get(flows[1]!.id), undefined);
  assert.equal(store.size, 2);
});

test("removed flows are gone, packed or not", () => {
  const { store, flows } = storeWith("/a", "/b");
  store.get(flows[1]!.id);
  store.remove([flows[0]!.id, flows[1]!.id]);
  assert.equal(store.get(flows[0]!.id), undefined);
  assert.equal(store.get(flows[1]!.id), undefined);
  assert.deepEqual(store.all(), []);
});

test("flow specs name flows by id without unpacking them; removing every flow tells the console to forget all at once", () => {
  const { store, flows } = storeWith("/a", "/missing", "/c");
  const ids = flows.map((f) => f.id);
  assert.deepEqual(resolveIds(store, "@all"), ids);
  assert.deepEqual(resolveIds(store, "~c 404"), [ids[1]]);
  assert.deepEqual(resolveIds(store, `${ids[2]},${ids[0]}`), [ids[2], ids[0]]);
  assert.equal(store.unpackedCount(), 0, "nothing was unpacked to tell");
  assert.equal(store.unpackedFlow(ids[0]!), undefined, "a packed flow is not live, so not held as an object");
  // Some removed: their ids go; then the rest: a reset, not every id.
  store.remove([ids[1]!]);
  const some = store.takeDelta();
  assert.deepEqual(some.remove, [ids[1]]);
  assert.equal(some.reset, false);
  store.remove(resolveIds(store, "@all"));
  const cleared = store.takeDelta();
  assert.equal(cleared.reset, true);
  assert.deepEqual(cleared.remove, []);
  assert.equal(store.size, 0);
  // A flow after that is added as usual.
  store.add(flowTo("/after"));
  const next = store.takeDelta();
  assert.equal(next.reset, false);
  assert.deepEqual(decodeSummaries(next.add).map((f) => f.path), ["/after"]);
});

test("save.file's writer reads packed flows without unpacking them into the store, and skips a flow gone meanwhile", async () => {
  const paths = Array.from({ length: 2500 }, (_, i) => `/f${i}`);
  const { store, flows } = storeWith(...paths);
  const file = path.join(tempDir("pryx-save-"), "saved.pryx");
  const ids = [...flows.map((f) => f.id), "no-such-flow"];
  assert.equal((await writeFlowFile(file, false, "pryx", ids, (id) => store.readOnce(id))).written, 2500);
  assert.equal(store.unpackedCount(), 0, "no flow was unpacked into the store (each would be packed again at the next flush)");
  const back = [...flowsIn(file)] as HTTPFlow[];
  assert.deepEqual(back.map((f) => f.request.path), paths);
  assert.equal(encodeFlow(back[1234]!), encodeFlow(flows[1234]!));
  // "+" appends: the same flows again.
  assert.equal((await writeFlowFile(file, true, "pryx", ids.slice(0, 3), (id) => store.readOnce(id))).written, 3);
  assert.equal([...flowsIn(file)].length, 2503);
});

test("flows are found by id before and after the first lookup, in dump mode too; a stand-in object updates its flow", () => {
  const { store, flows } = storeWith("/a", "/b");
  assert.equal((store.get(flows[1]!.id) as HTTPFlow | undefined)?.request.path, "/b");
  const later = [flowTo("/c"), flowTo("/d")];
  for (const f of later) store.add(f);
  assert.equal(store.get(later[1]!.id), later[1]);
  assert.equal(store.get("no-such-id"), undefined);
  // A flow object the store did not number (a copy made elsewhere) stands for the flow with its id.
  const standIn = flowTo("/a-edited");
  standIn.id = flows[0]!.id;
  store.update(standIn);
  assert.equal((store.get(flows[0]!.id) as HTTPFlow | undefined)?.request.path, "/a-edited");
  assert.equal(store.size, 4);
  assert.deepEqual(decodeSummaries(store.takeDelta().update).map((s) => s.path), ["/a-edited"]);

  const dump = new FlowStore(false);
  const d = flowTo("/x");
  dump.add(d);
  assert.equal(dump.get(d.id), d);
  d.live = false;
  dump.update(d);
  dump.takeDelta();
  assert.equal(dump.get(d.id), undefined, "dropped once reported");
  assert.equal(dump.size, 0);
});
