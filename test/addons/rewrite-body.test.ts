import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import rewriteBody from "../../addons/rewrite-body.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("rewrite-body replaces text in gzipped, latin-1 text responses and leaves other types alone", { timeout: 10_000 }, async (t) => {
  const page = Buffer.from("<h1>Example Domain</h1><p>Café Example Domain</p>", "latin1");
  const png = Buffer.from("Example Domain\x89PNG", "latin1");
  const origin = await startHttpOrigin((req, res) => {
    if (req.url === "/logo.png") {
      res.writeHead(200, { "Content-Type": "image/png" }).end(png);
      return;
    }
    const gzipped = zlib.gzipSync(page);
    res.writeHead(200, { "Content-Type": "text/html; charset=iso-8859-1", "Content-Encoding": "gzip", "Content-Length": gzipped.length }).end(gzipped);
  });
  const proxy = await startProxy({ addons: [rewriteBody], options: { rewrite_body: "Example Domain/Pryx Domain" } });
  closeAfter(t, proxy, origin);

  const html = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(html.headers["content-encoding"], "gzip", "still compressed for the client");
  assert.equal(Number(html.headers["content-length"]), html.body.length, "Content-Length follows the new body");
  assert.equal(zlib.gunzipSync(html.body).toString("latin1"), "<h1>Pryx Domain</h1><p>Café Pryx Domain</p>", "written back in the page's own charset");

  const image = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/logo.png`);
  assert.deepEqual(image.body, png);

  assert.throws(() => proxy.engine.options.setText("rewrite_body", "no-slash"), /option rewrite_body: "no-slash" is not FROM\/TO/);
});
