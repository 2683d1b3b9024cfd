import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import streamModify from "../../addons/stream-modify.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("stream-modify rewrites a body as it streams, matches split across chunks included, and changes its length", { timeout: 15_000 }, async (t) => {
  const padding = "x".repeat(512 * 1024);
  const first = `${padding}a foo, then a fo`;
  const second = `o split in two, ${padding}foo`;
  let clientGotFirst: () => void = () => undefined;
  const clientHasFirst = new Promise<void>((r) => (clientGotFirst = r));
  const origin = await startHttpOrigin((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": first.length + second.length });
    res.write(first);
    // The rest is sent only once the client has bytes: a proxy that buffered the body would wait here forever.
    void clientHasFirst.then(() => res.end(second));
  });
  const proxy = await startProxy({ addons: [streamModify], options: { stream_modify: "foo/bazz" } });
  closeAfter(t, proxy, origin);

  const got = await new Promise<{ headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const url = `http://127.0.0.1:${origin.port}/big`;
    const req = http.get({ host: "127.0.0.1", port: proxy.port, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (d: string) => {
        body += d;
        clientGotFirst();
      });
      res.on("end", () => resolve({ headers: res.headers, body }));
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error("streamed response timed out")));
    req.on("error", reject);
  });
  assert.equal(got.body, `${first}${second}`.replaceAll("foo", "bazz"));
  assert.equal(got.headers["content-length"], undefined, "the origin's length no longer holds");
  assert.equal(got.headers["transfer-encoding"], "chunked");
});
