import { test } from "node:test";
import assert from "node:assert/strict";
import addHeader from "../../addons/add-header.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("add-header adds X-Pryx to every response, and only to responses", { timeout: 10_000 }, async (t) => {
  let requestHadIt = true;
  const origin = await startHttpOrigin((req, res) => {
    requestHadIt = "x-pryx" in req.headers;
    res.setHeader("X-Origin", "1");
    res.end("body");
  });
  const proxy = await startProxy({ addons: [addHeader] });
  closeAfter(t, proxy, origin);
  const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`);
  assert.equal(res.headers["x-pryx"], "seen");
  assert.equal(res.headers["x-origin"], "1");
  assert.equal(res.body.toString(), "body");
  assert.equal(requestHadIt, false);
});
