import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { compileFilter } from "../../../src/engine/filter/index.ts";
import type { FilterableFlow } from "../../../src/engine/filter/index.ts";
import { dnsFlow, httpFlow, streamFlow } from "./flows.ts";

before(() => {
  delete process.env.PRYX_CASE_SENSITIVE_FILTERS;
  delete process.env.MITMPROXY_CASE_SENSITIVE_FILTERS;
});

const match = (expr: string, flow: FilterableFlow): boolean => compileFilter(expr)(flow);

const tcp = streamFlow("tcp", [
  { from_client: true, content: "HELLO server" },
  { from_client: false, content: "WELCOME client" },
]);
const udp = streamFlow("udp", [{ from_client: true, content: "ping" }]);
const dnsQuery = dnsFlow({ questions: ["api.example.org"] });
const dnsAnswered = dnsFlow({ questions: ["api.example.org"], answer: "10.0.0.7" });
const request = httpFlow({ method: "POST", url: "https://example.com/api/login", body: '{"user":"alice"}' });
const response = httpFlow({
  response: { status_code: 404, headers: [["Content-Type", "application/json"], ["Server", "nginx"]], body: "not\nfound" },
});
const ws = httpFlow({
  url: "wss://example.com/socket",
  response: { status_code: 101, headers: [["Upgrade", "websocket"]] },
  websocket: [
    { from_client: true, content: "subscribe:prices" },
    { from_client: false, content: "price=42" },
  ],
});

describe("flow-type operators", () => {
  it("~all matches every kind of flow", () => {
    for (const f of [request, response, ws, tcp, udp, dnsQuery]) assert.equal(match("~all", f), true);
  });
  it("~http matches HTTP and WebSocket flows only", () => {
    assert.equal(match("~http", request), true);
    assert.equal(match("~http", ws), true);
    assert.equal(match("~http", tcp), false);
    assert.equal(match("~http", dnsQuery), false);
  });
  it("~websocket matches HTTP flows with a websocket", () => {
    assert.equal(match("~websocket", ws), true);
    assert.equal(match("~websocket", response), false);
    assert.equal(match("~websocket", tcp), false);
  });
  it("~tcp, ~udp and ~dns match their flow types", () => {
    assert.equal(match("~tcp", tcp), true);
    assert.equal(match("~tcp", udp), false);
    assert.equal(match("~udp", udp), true);
    assert.equal(match("~udp", tcp), false);
    assert.equal(match("~dns", dnsQuery), true);
    assert.equal(match("~dns", request), false);
  });
});

describe("request/response state", () => {
  it("~q matches HTTP and DNS requests without a response", () => {
    assert.equal(match("~q", request), true);
    assert.equal(match("~q", response), false);
    assert.equal(match("~q", dnsQuery), true);
    assert.equal(match("~q", dnsAnswered), false);
    assert.equal(match("~q", tcp), false);
  });
  it("~s matches HTTP and DNS flows with a response", () => {
    assert.equal(match("~s", response), true);
    assert.equal(match("~s", request), false);
    assert.equal(match("~s", dnsAnswered), true);
    assert.equal(match("~s", tcp), false);
  });
  it("~e matches flows with an error, of any type", () => {
    assert.equal(match("~e", httpFlow({ error: "connection reset" })), true);
    assert.equal(match("~e", streamFlow("tcp", [], { error: "timeout" })), true);
    assert.equal(match("~e", request), false);
  });
  it("~c compares the response status code", () => {
    assert.equal(match("~c 404", response), true);
    assert.equal(match("~c 200", response), false);
    assert.equal(match("~c 200", request), false);
    assert.equal(match("~c 0404", response), true);
    assert.equal(match("~c 101", tcp), false);
  });
});

describe("marks, replays, comments, metadata", () => {
  const marked = httpFlow({ marked: ":grapes:" });
  it("~marked matches a non-empty marker", () => {
    assert.equal(match("~marked", marked), true);
    assert.equal(match("~marked", request), false);
    assert.equal(match("~marked", streamFlow("tcp", [], { marked: "X" })), true);
  });
  it("~marker matches the marker string", () => {
    assert.equal(match("~marker grapes", marked), true);
    assert.equal(match("~marker :default:", marked), false);
    assert.equal(match("~marker ^X$", streamFlow("udp", [], { marked: "X" })), true);
  });
  it("~replay, ~replayq and ~replays follow is_replay", () => {
    const rq = httpFlow({ is_replay: "request" });
    const rs = httpFlow({ is_replay: "response" });
    assert.equal(match("~replay", rq), true);
    assert.equal(match("~replay", rs), true);
    assert.equal(match("~replay", request), false);
    assert.equal(match("~replayq", rq), true);
    assert.equal(match("~replayq", rs), false);
    assert.equal(match("~replays", rs), true);
    assert.equal(match("~replays", rq), false);
  });
  it("~comment searches the comment with ^ and $ per line", () => {
    const f = httpFlow({ comment: "first line\nsuspicious login" });
    assert.equal(match("~comment ^suspicious", f), true);
    assert.equal(match("~comment line$", f), true);
    assert.equal(match("~comment ^login", f), false);
    assert.equal(match("~comment .", request), false);
  });
  it("~meta searches key: value lines", () => {
    const f = dnsFlow({ metadata: { tag: "blue", retries: 3, extra: { a: 1 } } });
    assert.equal(match('~meta "^tag: blue$"', f), true);
    assert.equal(match("~meta '^retries: 3$'", f), true);
    assert.equal(match('~meta \'extra: {"a":1}\'', f), true);
    assert.equal(match("~meta ^blue", f), false);
  });
});

describe("addresses", () => {
  it("~src matches ip:port of the client", () => {
    assert.equal(match("~src 127.0.0.1:51234", request), true);
    assert.equal(match("~src :51234$", tcp), true);
    assert.equal(match("~src 10\\.", request), false);
    assert.equal(match("~src .", httpFlow({ peername: undefined })), false);
  });
  it("~dst matches host:port of the server", () => {
    assert.equal(match("~dst :443$", request), true);
    assert.equal(match("~dst ^93\\.184", udp), true);
    assert.equal(match("~dst :80$", request), false);
    assert.equal(match("~dst .", httpFlow({ address: undefined })), false);
  });
});

describe("request line", () => {
  it("~u matches the pretty URL of HTTP flows", () => {
    assert.equal(match("~u /api/login", request), true);
    assert.equal(match("~u ^https://example\\.com/", request), true);
    assert.equal(match("~u /logout", request), false);
    assert.equal(match("~u .", tcp), false);
  });
  it("~u matches the first question name of DNS flows", () => {
    assert.equal(match("~u api\\.example\\.org", dnsQuery), true);
    assert.equal(match("~u other", dnsFlow({ questions: ["first.test", "other.test"] })), false);
    assert.equal(match("~u .", dnsFlow({ questions: [] })), false);
  });
  it("a bare regex means ~u", () => {
    assert.equal(match("api/login", request), true);
    assert.equal(match("'api/log.n'", request), true);
    assert.equal(match("nomatch", request), false);
  });
  it("~d matches request.host or pretty_host", () => {
    const f = httpFlow({ host: "93.184.216.34", pretty_host: "example.com" });
    assert.equal(match("~d example\\.com", f), true);
    assert.equal(match("~d ^93\\.", f), true);
    assert.equal(match("~d example\\.net", f), false);
    assert.equal(match("~d .", dnsQuery), false);
  });
  it("~h, ~hq and ~hs match non-ASCII text in UTF-8 header values, as mitmproxy's UTF-8 pattern does the bytes", () => {
    const utf8 = (t: string): string => Buffer.from(t, "utf8").toString("latin1");
    const f = httpFlow({ headers: [["X-Name", utf8("山田太郎")]], response: { headers: [["X-Utf8", utf8("日本 café")], ["X-Latin1", "caf\xe9"]] } });
    assert.equal(match("~hq 山田", f), true);
    assert.equal(match("~h 山田", f), true);
    assert.equal(match("~hs café", f), true);
    assert.equal(match("~hs 日本", f), true);
    assert.equal(match("~hq 日本", f), false);
  });
  it("~d matches an IDN host sent in punycode by the name it stands for, as mitmproxy's host is", () => {
    const f = httpFlow({ host: "xn--bcher-kva.test", url: "http://xn--bcher-kva.test:8080/" });
    assert.equal(match("~d bücher", f), true);
    assert.equal(match("~d xn--bcher", f), true);
    assert.equal(match("~d bucher", f), false);
  });
  it("~m matches the method", () => {
    assert.equal(match("~m POST", request), true);
    assert.equal(match("~m ^get$", response), true);
    assert.equal(match("~m PUT", request), false);
    assert.equal(match("~m .", tcp), false);
  });
});

describe("headers and content types", () => {
  const f = httpFlow({
    headers: [
      ["Host", "example.com"],
      ["Content-Type", "application/x-www-form-urlencoded"],
      ["Cookie", "session=abc"],
    ],
    response: {
      headers: [
        ["content-type", "image/png"],
        ["Set-Cookie", "id=1"],
      ],
    },
  });
  it("~h searches the request block, then the response block", () => {
    assert.equal(match('~h "^cookie: session"', f), true);
    assert.equal(match('~h "^set-cookie: id=1\\r$"', f), true);
    assert.equal(match("~h nope", f), false);
    assert.equal(match("~h .", tcp), false);
  });
  it("~h renders each header as name: value\\r\\n and matches blocks separately", () => {
    assert.equal(match('~h "^Host: example\\.com\\r\\nContent-Type"', f), true);
    // The last request header and the first response header are not adjacent.
    assert.equal(match('~h "session=abc\\r\\ncontent-type"', f), false);
  });
  it("~hq and ~hs search only one side", () => {
    assert.equal(match("~hq ^cookie:", f), true);
    assert.equal(match("~hq set-cookie", f), false);
    assert.equal(match("~hs set-cookie", f), true);
    assert.equal(match("~hs ^cookie:", f), false);
    assert.equal(match("~hs .", request), false);
  });
  it("~t, ~tq and ~ts look up Content-Type case-insensitively", () => {
    assert.equal(match("~t image/png", f), true);
    assert.equal(match("~t form-urlencoded", f), true);
    assert.equal(match("~tq form", f), true);
    assert.equal(match("~tq image", f), false);
    assert.equal(match("~ts ^image/", f), true);
    assert.equal(match("~ts form", f), false);
    assert.equal(match("~ts .", request), false);
    assert.equal(match("~t .", httpFlow({ headers: [["X-Content-Type", "text/plain"]] })), false);
  });
  it("~a matches asset content types in the response", () => {
    const asset = (ct: string) => httpFlow({ response: { headers: [["Content-Type", ct]] } });
    for (const ct of [
      "text/javascript",
      "application/x-javascript",
      "application/javascript; charset=utf-8",
      "text/css",
      "image/svg+xml",
      "font/woff2",
      "application/font-woff",
      "Image/PNG",
    ]) {
      assert.equal(match("~a", asset(ct)), true, ct);
    }
    assert.equal(match("~a", asset("text/html")), false);
    assert.equal(match("~a", asset("application/json")), false);
    assert.equal(match("~a", httpFlow({ headers: [["Content-Type", "text/css"]] })), false);
    assert.equal(match("~a", tcp), false);
  });
});

describe("bodies and messages", () => {
  it("~b searches request and response bodies", () => {
    assert.equal(match("~b alice", request), true);
    assert.equal(match("~b not.found", response), true, "DOTALL: . matches the newline");
    assert.equal(match("~b bob", request), false);
  });
  it("~bq and ~bs search one side", () => {
    const both = httpFlow({ body: "question", response: { body: "answer" } });
    assert.equal(match("~bq question", both), true);
    assert.equal(match("~bq answer", both), false);
    assert.equal(match("~bs answer", both), true);
    assert.equal(match("~bs question", both), false);
    assert.equal(match("~bs .", request), false);
  });
  it("an empty body matches no body operator, as in mitmproxy: ~bs \"^$\" finds nothing, !~bs . finds flows without one", () => {
    const empty = httpFlow({ body: "", response: { status_code: 302, body: "" } });
    assert.equal(match('~bs "^$"', empty), false);
    assert.equal(match('~bq "^$"', empty), false);
    assert.equal(match('~b "^$"', empty), false);
    assert.equal(match("!~bs .", empty), true);
  });
  it("body operators search WebSocket messages by direction", () => {
    assert.equal(match("~b price=42", ws), true);
    assert.equal(match("~bq subscribe", ws), true);
    assert.equal(match("~bq price=", ws), false);
    assert.equal(match("~bs price=", ws), true);
    assert.equal(match("~bs subscribe", ws), false);
  });
  it("body operators search TCP and UDP messages by direction", () => {
    assert.equal(match("~b welcome", tcp), true);
    assert.equal(match("~bq hello", tcp), true);
    assert.equal(match("~bq welcome", tcp), false);
    assert.equal(match("~bs welcome", tcp), true);
    assert.equal(match("~bs hello", tcp), false);
    assert.equal(match("~b ping", udp), true);
    assert.equal(match("~bs ping", udp), false);
  });
  it("body operators search the DNS request and response text", () => {
    assert.equal(match("~b 10\\.0\\.0\\.7", dnsAnswered), true);
    assert.equal(match("~bq ^query", dnsAnswered), true);
    assert.equal(match("~bq 10\\.0", dnsAnswered), false);
    assert.equal(match("~bs 10\\.0", dnsAnswered), true);
    assert.equal(match("~bs .", dnsQuery), false);
  });
  it("bodies are decoded as UTF-8, and binary bodies byte for byte", () => {
    assert.equal(match("~b grüße", httpFlow({ body: "viele Grüße" })), true);
    const jpeg = httpFlow({ response: { body: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00]) } });
    assert.equal(match('~bs "^\\xff\\xd8"', jpeg), true);
    assert.equal(match("~b .", httpFlow({ body: new Uint8Array() })), false);
  });
});
