import { test } from "node:test";
import zlib from "node:zlib";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";

test("an addon that sets response.content to a string sends it (UTF-8, its length right); a value that is no body is a TypeError in the addon's hook, named, and the response goes as it was", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("original"));
  const addon = {
    name: "rewriter",
    response(f) {
      if (f.request.path === "/string") f.response!.content = "réponse";
      if (f.request.path === "/number") (f.response as unknown as { content: unknown }).content = 42;
    },
  } satisfies Addon;
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const replaced = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/string`);
  assert.equal(replaced.body.toString("utf8"), "réponse");
  assert.equal(replaced.headers["content-length"], String(Buffer.byteLength("réponse")));
  const kept = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/number`);
  assert.equal(kept.status, 200);
  assert.equal(kept.body.toString(), "original");
  await proxy.waitLog(/rewriter.*content takes bytes \(a Buffer or Uint8Array\) or a string, not number/);
});

test("response.stream as a function (mitmproxy's http-stream-modify) sends each chunk as it returns it; its length may change, so the response goes chunked; one that throws is logged and the chunk goes as it came", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((req, res) => {
    res.writeHead(200, { "content-length": "15" });
    res.end(req.url === "/throws" ? "foo foo foo foo" : "foo foo foo foo");
  });
  const addon = {
    name: "modify",
    responseheaders(f) {
      f.response!.stream = f.request.path === "/throws" ? () => { throw new Error("boom"); } : (chunk: Buffer) => chunk.toString().replaceAll("foo", "barbaz");
    },
  } satisfies Addon;
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const modified = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/modify`);
  assert.equal(modified.body.toString(), "barbaz barbaz barbaz barbaz");
  assert.equal(modified.headers["content-length"], undefined);
  assert.equal(modified.headers["transfer-encoding"], "chunked");
  const unchanged = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/throws`);
  assert.equal(unchanged.body.toString(), "foo foo foo foo");
  await proxy.waitLog(/response\.stream function failed on http:\/\/127\.0\.0\.1:\d+\/throws: boom; the chunk went unchanged/);
});

test("stream functions as mitmproxy calls them: a last call with an empty chunk gives what was held back, a list or generator of chunks is taken, and request.stream changes an upload", { timeout: 10_000 }, async (t) => {
  const uploads: string[] = [];
  const origin = await startHttpOrigin((req, res) => {
    let got = "";
    req.on("data", (d: Buffer) => (got += d.toString()));
    req.on("end", () => {
      uploads.push(got);
      res.writeHead(200, { "content-type": "text/plain" });
      // Parts that split the lines: the function holds a partial one until its rest comes.
      res.write("one\ntw");
      setTimeout(() => res.end("o\nthree, no line end"), 20);
    });
  });
  const addon = {
    name: "lines",
    requestheaders(f) {
      f.request.stream = (chunk: Buffer) => [chunk.toString().toUpperCase()];
    },
    responseheaders(f) {
      let held = "";
      f.response!.stream = function* (chunk: Buffer) {
        if (chunk.length === 0) {
          yield `[${held}]`;
          return;
        }
        const lines = (held + chunk.toString()).split("\n");
        held = lines.pop() ?? "";
        for (const l of lines) yield `<${l}>`;
      };
    },
  } satisfies Addon;
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  const r = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`, { method: "POST", body: "upload me" });
  assert.equal(r.body.toString(), "<one><two>[three, no line end]");
  assert.deepEqual(uploads, ["UPLOAD ME"]);
});

test("mitmproxy's API that its examples use: flowfilter.parse/match, is_http11, ctx.log.alert, \"name\" in ctx.master.addons and .get", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const seen: string[] = [];
  const api = await import("../../src/api.ts");
  const addon = {
    name: "examples",
    request(f) {
      const api11 = api.flowfilter.parse("~m GET & ~u /api");
      seen.push(`match ${api.flowfilter.match(api11, f)} ${api.flowfilter.match("~m POST", f)} ${api.flowfilter.match(undefined, f)}`);
      // headers.get with a default, headers.pop, and ctx.log called as mitmproxy's Log is (httpdump.py, jsondump.py).
      seen.push(`headers ${f.request.headers.get("x-none", "dflt")} ${f.request.headers.pop("x-drop")} ${f.request.headers.get("x-drop")} ${f.request.headers.pop("x-drop", "gone")}`);
      api.ctx.log("called as a function", "warn");
      seen.push(`version ${f.request.is_http11} ${f.request.is_http10} ${f.request.is_http2}`);
      seen.push(`addons ${"examples" in api.ctx.master.addons} ${"nope" in api.ctx.master.addons} ${api.ctx.master.addons.get("examples") === addon}`);
      api.ctx.log.alert("an alert from an addon");
    },
  } satisfies Addon;
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/api/x`, { headers: { "x-drop": "me" } });
  assert.deepEqual(seen, ["match true false true", "headers dflt me undefined gone", "version true false false", "addons true false true"]);
  assert.equal((await proxy.waitLog(/called as a function/)).level, "warn");
  await proxy.waitLog(/an alert from an addon/);
  assert.equal(proxy.logs.find((l) => /an alert from an addon/.test(l.msg))?.level, "alert");
  assert.throws(() => api.flowfilter.parse("~m ("), /~m/);
});

test("flows, requests, responses and headers print as mitmproxy's reprs in an addon's console.log and template strings, not [object Object]", async () => {
  const { inspect } = await import("node:util");
  const { HTTPFlow, Request, Response } = await import("../../src/engine/flow/http.ts");
  const { Client, Server } = await import("../../src/engine/flow/connection.ts");
  const f = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["example.com", 80]), Request.make("GET", "http://example.com/path?q=1", "", { Host: "example.com" }));
  assert.equal(`${f.request}`, "Request(GET example.com:80/path?q=1)");
  assert.equal(`${f.request.headers}`, "Headers[(Host, example.com)]");
  f.response = Response.make(200, "hello", { "content-type": "text/plain" });
  assert.equal(inspect(f), "<HTTPFlow\n  request = Request(GET example.com:80/path?q=1)\n  response = Response(200, text/plain, 5b)>");
  assert.equal(inspect(f.response), "Response(200, text/plain, 5b)");
});

test("an addon that sets flow.marked to a boolean (mitmproxy's search.py) or a comment to a number does not stop the proxy: true is the default marker, false unmarks", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const addon = {
    name: "marks",
    response(f) {
      const loose = f as unknown as { marked: unknown; comment: unknown };
      loose.marked = f.request.path === "/yes";
      loose.comment = 42;
    },
  } satisfies Addon;
  for (const keepFlows of [false, true]) {
    const proxy = await startProxy({ addons: [addon], keepFlows, options: { flow_detail: "1" } });
    closeAfter(t, proxy);
    for (const path of ["/yes", "/no", "/again"]) assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${path}`)).status, 200, `${path}, keepFlows ${keepFlows}`);
    const done = await proxy.waitFinished(3);
    assert.deepEqual(done.map((f) => [f.marker, f.comment]), [[":default:", "42"], ["", "42"], ["", "42"]]);
    assert.deepEqual(proxy.logs.filter((l) => l.level === "error"), []);
  }
  await origin.close();
});

test("an addon's text.replace on bodies it cannot read as they are: one that does not decode (\"gzip, br\", a cut gzip) is an error in its hook and goes as it came; a legacy page or binary body keeps every byte it did not touch", { timeout: 10_000 }, async (t) => {
  const hello = Buffer.from("hello world ".repeat(4));
  const bodies: Record<string, { headers: Record<string, string>; body: Buffer }> = {
    "/stacked": { headers: { "content-type": "text/plain", "content-encoding": "gzip, br" }, body: zlib.brotliCompressSync(zlib.gzipSync(hello)) },
    "/cut": { headers: { "content-type": "text/plain", "content-encoding": "gzip" }, body: zlib.gzipSync(hello).subarray(0, 30) },
    "/meta": { headers: { "content-type": "text/html" }, body: Buffer.from('<meta charset="iso-8859-1"><p>caf\xe9 hello \xfcber</p>', "latin1") },
    "/nocharset": { headers: { "content-type": "text/html" }, body: Buffer.from("<p>caf\xe9 hello</p>", "latin1") },
    "/octet": { headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0xff, 0xfe, 0x80]) },
  };
  const origin = await startHttpOrigin((req, res) => {
    const b = bodies[req.url ?? ""]!;
    res.writeHead(200, { ...b.headers, "content-length": String(b.body.length) });
    res.end(b.body);
  });
  const addon = {
    name: "shouter",
    response(f) {
      f.response!.text = f.response!.text!.replace("hello", "HELLO");
    },
  } satisfies Addon;
  const proxy = await startProxy({ addons: [addon] });
  closeAfter(t, proxy, origin);
  for (const path of ["/stacked", "/cut"]) {
    const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${path}`);
    assert.deepEqual(res.body, bodies[path]!.body, `${path}: the bytes the server sent`);
    assert.equal(res.headers["content-encoding"], bodies[path]!.headers["content-encoding"]);
  }
  await proxy.waitLog(/shouter.*the response body does not decode as Content-Encoding "gzip, br"/);
  await proxy.waitLog(/shouter.*the response body does not decode as Content-Encoding "gzip"/);
  const expect = (body: Buffer): Buffer => Buffer.from(body.toString("latin1").replace("hello", "HELLO"), "latin1");
  for (const path of ["/meta", "/nocharset", "/octet"]) {
    const res = await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}${path}`);
    assert.deepEqual(res.body, expect(bodies[path]!.body), `${path}: only "hello" changed`);
    assert.equal(res.headers["content-type"], bodies[path]!.headers["content-type"]);
  }
});
