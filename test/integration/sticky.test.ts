import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { domainMatch } from "../../src/engine/builtins/sticky.ts";
import { parseSetCookie } from "../../src/cookies.ts";

test("stickycookie: cookies a server set ride on later matching requests to that host and path; an expired one leaves the jar", { timeout: 15_000 }, async (t) => {
  const seen: (string | undefined)[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(req.headers.cookie);
    if (req.url === "/login") res.setHeader("set-cookie", ["session=abc123; Path=/; HttpOnly", "theme=dark; Path=/app", "old=1; Max-Age=0"]);
    if (req.url === "/logout") res.setHeader("set-cookie", "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/");
    res.end("ok");
  });
  const proxy = await startProxy({ options: { stickycookie: "~d 127.0.0.1" } });
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  await viaProxy(proxy.port, `${base}/login`);
  await viaProxy(proxy.port, `${base}/app/page`);
  await viaProxy(proxy.port, `${base}/other`, { headers: { cookie: "mine=1" } });
  await viaProxy(proxy.port, `${base}/logout`);
  await viaProxy(proxy.port, `${base}/app/again`);
  assert.deepEqual(seen, [undefined, "session=abc123; theme=dark", "session=abc123", "session=abc123", "theme=dark"]);
});

test("stickycookie leaves requests that do not match its filter alone", { timeout: 15_000 }, async (t) => {
  const seen: (string | undefined)[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(req.headers.cookie);
    res.setHeader("set-cookie", "session=abc; Path=/");
    res.end("ok");
  });
  const proxy = await startProxy({ options: { stickycookie: "~u /api" } });
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  await viaProxy(proxy.port, `${base}/login`);
  await viaProxy(proxy.port, `${base}/page`);
  await viaProxy(proxy.port, `${base}/api/x`);
  assert.deepEqual(seen, [undefined, undefined, "session=abc"]);
});

test("stickyauth: the Authorization sent to a host is added to later matching requests without one", { timeout: 15_000 }, async (t) => {
  const seen: (string | undefined)[] = [];
  const origin = await startHttpOrigin((req, res) => {
    seen.push(req.headers.authorization);
    res.end("ok");
  });
  const proxy = await startProxy({ options: { stickyauth: "~q" } });
  closeAfter(t, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  await viaProxy(proxy.port, `${base}/a`);
  await viaProxy(proxy.port, `${base}/b`, { headers: { authorization: "Bearer t0k3n" } });
  await viaProxy(proxy.port, `${base}/c`);
  assert.deepEqual(seen, [undefined, "Bearer t0k3n", "Bearer t0k3n"]);
});

test("a bad sticky filter is refused naming the option", { timeout: 10_000 }, async () => {
  await assert.rejects(startProxy({ options: { stickycookie: "~q (" } }), /stickycookie/);
});

test("Set-Cookie parsing and domain matching as browsers do", () => {
  const c = parseSetCookie("id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Domain=.example.com; Secure");
  assert.equal(c?.name, "id");
  assert.equal(c?.value, "a3fWa");
  assert.equal(c?.attrs.get("domain"), ".example.com");
  assert.equal(c?.attrs.get("secure"), "");
  assert.equal(parseSetCookie("novalue"), undefined);
  assert.ok(domainMatch("www.example.com", ".example.com"));
  assert.ok(domainMatch("example.com", "example.com"));
  assert.ok(!domainMatch("badexample.com", "example.com"));
});
