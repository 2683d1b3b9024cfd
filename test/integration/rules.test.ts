import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import http from "node:http";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { OptionError } from "../../src/engine/options.ts";

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An origin that records what reached it and answers "origin says <url>", and a proxy with `rules` set. */
async function setup(t: TestContext, rules: Record<string, string[]>) {
  const seen: Seen[] = [];
  const origin = await startHttpOrigin((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.setHeader("content-type", "text/plain");
      res.setHeader("x-origin", "yes");
      res.end(`origin says ${req.url}`);
    });
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  proxy.engine.options.setValues(rules);
  return { seen, origin, proxy, base: `http://127.0.0.1:${origin.port}` };
}

test("modify_headers: set on matching requests and responses, an empty value removes, @file reads the value, commas kept", async (t) => {
  const dir = tempDir("pryx-rules-");
  fs.writeFileSync(path.join(dir, "token"), "from-a-file");
  const { seen, proxy, base } = await setup(t, {
    modify_headers: ["/~q/X-Added/a, b", "/~q & ~u secret/Authorization/@" + path.join(dir, "token"), "/~s/x-origin/", "|~s|X-Proxy|pryx"],
  });
  const a = await viaProxy(proxy.port, `${base}/plain`, { headers: { authorization: "kept" } });
  const b = await viaProxy(proxy.port, `${base}/secret`, { headers: { authorization: "replaced" } });
  assert.equal(seen[0]?.headers["x-added"], "a, b");
  assert.equal(seen[0]?.headers.authorization, "kept", "the filter limits a rule to its flows");
  assert.equal(seen[1]?.headers.authorization, "from-a-file");
  for (const r of [a, b]) {
    assert.equal(r.headers["x-origin"], undefined, "an empty value removes the header");
    assert.equal(r.headers["x-proxy"], "pryx");
  }
});

test("modify_body: a regex over request and response bodies, groups in mitmproxy's \\\\1 form", async (t) => {
  const { seen, proxy, base } = await setup(t, { modify_body: ["/~q/user=(\\w+)/user=\\1-edited", "/~s/origin says/pryx says", "|~s|(?P<path>/login)|\\g<path>\\n"] });
  const r = await viaProxy(proxy.port, `${base}/login`, { method: "POST", body: "user=alice&x=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.equal(seen[0]?.body, "user=alice-edited&x=1");
  assert.equal(seen[0]?.headers["content-length"], String("user=alice-edited&x=1".length), "Content-Length follows the body");
  assert.equal(r.body.toString(), "pryx says /login\n", "Python's named groups and \\n escapes, as mitmproxy users write them");
});

test("map_remote sends a matching request to the rewritten URL, Host header included", async (t) => {
  const { seen, proxy, base } = await setup(t, {});
  proxy.engine.options.setValues({ map_remote: [`|^http://old\\.test/api/|${base}/v2/`] });
  const r = await viaProxy(proxy.port, "http://old.test/api/items?q=1");
  assert.equal(r.body.toString(), "origin says /v2/items?q=1");
  assert.equal(seen[0]?.headers.host, new URL(base).host);
});

test("map_local answers from a file or a directory (index.html, 404 when missing, never outside it); the server is not asked", async (t) => {
  const dir = tempDir("pryx-rules-");
  fs.mkdirSync(path.join(dir, "site"));
  fs.writeFileSync(path.join(dir, "site", "index.html"), "<h1>local</h1>");
  fs.writeFileSync(path.join(dir, "site", "app.js"), "console.log(1)");
  fs.writeFileSync(path.join(dir, "secret"), "outside");
  fs.writeFileSync(path.join(dir, "one.json"), '{"mocked":true}');
  const { seen, proxy, base } = await setup(t, {});
  proxy.engine.options.setValues({ map_local: [`|${base}/static/|${path.join(dir, "site")}`, `|/api/user$|${path.join(dir, "one.json")}`] });
  const js = await viaProxy(proxy.port, `${base}/static/app.js?v=3`);
  assert.equal(js.body.toString(), "console.log(1)");
  assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
  assert.equal((await viaProxy(proxy.port, `${base}/static/`)).body.toString(), "<h1>local</h1>");
  const json = await viaProxy(proxy.port, `${base}/api/user`);
  assert.deepEqual(JSON.parse(json.body.toString()), { mocked: true });
  assert.equal((await viaProxy(proxy.port, `${base}/static/missing.css`)).status, 404);
  assert.equal((await viaProxy(proxy.port, `${base}/static/%2e%2e/secret`)).status, 404, "no way out of the directory");
  assert.equal(seen.length, 0, "the origin was never asked");
});

test("block_list answers matching requests with the status, 444 closes the connection; a bad rule is an error naming the option", async (t) => {
  const { seen, proxy, base } = await setup(t, { block_list: ["/~u ads/403", "|~u tracker|444"] });
  assert.equal((await viaProxy(proxy.port, `${base}/ads/banner`)).status, 403);
  const closed = await viaProxy(proxy.port, `${base}/tracker.js`).then(
    () => "answered",
    (e: Error) => `failed: ${e.message}`,
  );
  assert.match(closed, /^failed/);
  assert.equal((await viaProxy(proxy.port, `${base}/page`)).status, 200);
  assert.deepEqual(seen.map((s) => s.url), ["/page"]);
  assert.throws(() => proxy.engine.options.setText("block_list", "/~u x/abc"), (e: Error) => e instanceof OptionError && /block_list/.test(e.message) && /not an HTTP status code/.test(e.message));
  assert.throws(() => proxy.engine.options.setText("modify_body", "/~q/(unclosed/x"), /modify_body.*bad regex/);
  assert.throws(() => proxy.engine.options.setText("modify_headers", "/~nosuch/x/y"), /modify_headers.*bad filter/);
});

test("a rule's value with a comma is one entry (Accept-Language: en-US,en;q=0.9), and a quoted filter's comma stays in its rule; a piece cut at a comma is named as such", { timeout: 10_000 }, async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(req.headers);
    res.end("ok");
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  proxy.engine.options.setText("modify_headers", "/~q/Accept-Language/en-US,en;q=0.9");
  assert.deepEqual(proxy.engine.options.get("modify_headers"), ["/~q/Accept-Language/en-US,en;q=0.9"]);
  proxy.engine.options.setText("block_list", `/~u "a,b"/404`);
  assert.deepEqual(proxy.engine.options.get("block_list"), [`/~u "a,b"/404`]);
  await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/lang`);
  assert.equal(seen[0]?.["accept-language"], "en-US,en;q=0.9");
  assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/a,b`)).status, 404);
  // Rules with one bad among them are not taken whole as one rule whose value holds the others.
  assert.throws(() => proxy.engine.options.setText("modify_headers", "/~q/X-A/1,/~s/X-B/2,bad"), /modify_headers.*bad/);
  assert.deepEqual(proxy.engine.options.get("modify_headers"), ["/~q/Accept-Language/en-US,en;q=0.9"], "the option keeps its value");
  // Two rules, the second not one: the message says a rule begins with its separator, and how to keep a comma.
  assert.throws(() => proxy.engine.options.setText("block_list", "/~u x/404,oops"), /a rule begins with the character that separates its parts.*write it \\,/);
});

test("rule files as mitmproxy users write them: ~ expanded, a value file's line end not part of the header, a missing file refused when set, and one bad rule leaves the others applied", async (t) => {
  const home = tempDir("pryx-rules-home-");
  const prevHome = process.env["HOME"];
  process.env["HOME"] = home;
  t.after(() => {
    process.env["HOME"] = prevHome;
  });
  // As `echo token123 > token` writes it.
  fs.writeFileSync(path.join(home, "token"), "token123\n");
  fs.writeFileSync(path.join(home, "bad"), "a\nb\n");
  fs.mkdirSync(path.join(home, "mock"));
  fs.writeFileSync(path.join(home, "mock", "f.txt"), "from home");
  const { seen, proxy, base } = await setup(t, {
    modify_headers: ["/~q/X-Token/@~/token", "/~q/X-Bad/@~/bad", "/~q/X-B/bval"],
    map_local: ["|/t/|~/mock"],
  });
  await viaProxy(proxy.port, `${base}/plain`, { headers: { "x-b": "orig" } });
  assert.equal(seen[0]?.headers["x-token"], "token123");
  assert.equal(seen[0]?.headers["x-b"], "bval", "the rule after a bad one still applies");
  assert.equal(seen[0]?.headers["x-bad"], undefined);
  await proxy.waitLog(/modify_headers: \/~q\/X-Bad\/@~\/bad: invalid value for header X-Bad/);
  assert.equal((await viaProxy(proxy.port, `${base}/t/f.txt`)).body.toString(), "from home");
  for (const [name, rule] of [["modify_headers", "/~q/X-A/@~/nope"], ["modify_body", "/~q/a/@/nonexistent-pryx"], ["map_local", "|/mlx|/nonexistent-pryx"]] as const) {
    assert.throws(() => proxy.engine.options.setValues({ [name]: [rule] }), (err: unknown) => err instanceof OptionError && /no such file/.test(err.message), `${name} ${rule}`);
  }
});
