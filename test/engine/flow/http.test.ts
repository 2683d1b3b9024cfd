import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { Request, Response } from "../../../src/engine/flow/http.ts";
import { Headers } from "../../../src/engine/flow/headers.ts";

test("Response.make sets status, reason, headers and Content-Length from the body", () => {
  const r = Response.make(403, "blocked", { "content-type": "text/plain" });
  assert.equal(r.status_code, 403);
  assert.equal(r.reason, "Forbidden");
  assert.equal(r.text, "blocked");
  assert.deepEqual([...r.headers], [["content-type", "text/plain"], ["content-length", "7"]]);
  const empty = Response.make(204);
  assert.equal(empty.headers.get("content-length"), "0");
  const bytes = Response.make(200, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...(bytes.content ?? [])], [1, 2, 3]);
  assert.throws(() => Response.make(42), /invalid status code 42/);
});

test("setting text or content keeps Content-Length right, in place", () => {
  const r = Response.make(200, "hi", [["Content-Length", "2"], ["X-After", "1"]]);
  r.text = "héllo";
  assert.equal(r.headers.get("content-length"), String(Buffer.byteLength("héllo")));
  assert.deepEqual(r.headers.keys(), ["Content-Length", "X-After"]);
  r.content = new Uint8Array(10);
  assert.equal(r.headers.get("content-length"), "10");
});

test("a chunked message gets no Content-Length when its body is set", () => {
  const r = new Response({ status_code: 200, headers: [["Transfer-Encoding", "chunked"]], content: Buffer.from("x") });
  r.text = "longer body";
  assert.equal(r.headers.has("content-length"), false);
  assert.equal(r.text, "longer body");
});

test("with Content-Encoding gzip, content is decoded and setting it re-encodes", () => {
  const raw = zlib.gzipSync("hello, world");
  const r = new Response({ status_code: 200, headers: [["Content-Encoding", "gzip"], ["Content-Length", String(raw.length)]], content: raw });
  assert.equal(r.text, "hello, world");
  r.text = "goodbye ".repeat(50);
  const wire = r.raw_content as Uint8Array;
  assert.equal(zlib.gunzipSync(wire).toString(), "goodbye ".repeat(50));
  assert.equal(r.headers.get("content-length"), String(wire.length));
  assert.ok(wire.length < 400, "the body on the wire is the compressed one");
});

test("a body that does not decode as its Content-Encoding is an error for text and content, as in mitmproxy, and as it is for get_text(false)", () => {
  const r = new Response({ status_code: 200, headers: [["Content-Encoding", "gzip"]], content: Buffer.from("not gzip") });
  assert.throws(() => r.text, /the response body does not decode as Content-Encoding "gzip" \(.*\); get_content\(false\) and get_text\(false\) give it as it is/);
  assert.throws(() => r.content, /does not decode/);
  assert.equal(r.get_text(false), "not gzip");
  assert.equal(Buffer.from(r.get_content(false) ?? []).toString(), "not gzip");
  const stacked = new Request({ method: "POST", scheme: "http", host: "h", port: 80, path: "/", headers: [["Content-Encoding", "gzip, br"]], content: Buffer.from("x") });
  assert.throws(() => stacked.content, /the request body does not decode as Content-Encoding "gzip, br" \(pryx decodes gzip, x-gzip, deflate, br, zstd, identity, one at a time\)/);
});

test("Request.make: Host first, url and pretty_host, query, json", () => {
  const q = Request.make("POST", "http://example.test:8081/a/b?x=1&y=2", '{"k":[1]}', { "Content-Type": "application/json" });
  assert.deepEqual(q.headers.keys(), ["Host", "Content-Type", "content-length"]);
  assert.equal(q.headers.get("host"), "example.test:8081");
  assert.equal(q.url, "http://example.test:8081/a/b?x=1&y=2");
  assert.equal(q.path, "/a/b?x=1&y=2");
  assert.deepEqual([...q.query], [["x", "1"], ["y", "2"]]);
  assert.deepEqual(q.json(), { k: [1] });
  q.url = "https://other.test/c";
  assert.equal(q.host, "other.test");
  assert.equal(q.port, 443);
  assert.equal(q.headers.get("host"), "other.test");
  assert.equal(q.pretty_host, "other.test");
});

test("a request without a body gets no Content-Length when its empty body is set", () => {
  const q = Request.make("GET", "http://example.test/");
  q.text = "";
  assert.equal(q.headers.has("content-length"), false);
  q.text = "now a body";
  assert.equal(q.headers.get("content-length"), "10");
});

test("pretty_url follows every change to what it is built from (it is cached between reads)", () => {
  const r = Request.make("GET", "http://example.com/a?x=1");
  assert.equal(r.pretty_url, "http://example.com/a?x=1");
  r.path = "/b";
  assert.equal(r.pretty_url, "http://example.com/b");
  r.headers.set("Host", "other.test:8080");
  assert.equal(r.pretty_url, "http://other.test:8080/b");
  r.headers["host"] = "third.test";
  assert.equal(r.pretty_url, "http://third.test/b");
  r.scheme = "https";
  assert.equal(r.pretty_url, "https://third.test/b");
  r.headers.delete("host");
  assert.equal(r.pretty_url, "https://example.com:80/b");
  r.port = 443;
  assert.equal(r.pretty_url, "https://example.com/b");
  r.host = "h.test";
  assert.equal(r.pretty_url, "https://h.test/b");
  r.headers = new Headers([["Host", "new.test"]]);
  assert.equal(r.pretty_url, "https://new.test/b");
  r.method = "CONNECT";
  r.authority = "tunnel.test:443";
  assert.equal(r.pretty_url, "tunnel.test:443");
});

test("setting url keeps the path as typed (dot segments, %2e), as mitmproxy's: only what cannot go on a request line is encoded", () => {
  const q = Request.make("GET", "http://example.test/static/../../etc/passwd?x=../y");
  assert.equal(q.path, "/static/../../etc/passwd?x=../y", "Request.make resolved nothing");
  q.url = "http://example.test:8080/a/%2e%2e/b/./c?q=%2e%2e#frag";
  assert.equal(q.path, "/a/%2e%2e/b/./c?q=%2e%2e", "no dot segment resolved; the fragment is not sent");
  assert.equal(q.port, 8080);
  q.url = "https://other.test";
  assert.equal(q.path, "/");
  q.url = "http://other.test?x=1";
  assert.equal(q.path, "/?x=1");
  q.url = "http://other.test/a b/é|";
  assert.equal(q.path, "/a%20b/%C3%A9|");
  assert.equal(q.url, "http://other.test/a%20b/%C3%A9|");
});

test("mitmproxy's request and response API for ported scripts: query, cookies and urlencoded_form are live views; host_header, get_all, get_text", () => {
  const r = Request.make("POST", "http://app.test/api?a=1&a=3&b=2", "x=1&y=2", { "Content-Type": "application/x-www-form-urlencoded", Cookie: "c1=v1; c2=v2" });
  // flow.request.query["a"] = "2", as in mitmproxy: the first value read, every value replaced.
  assert.equal(r.query["a"], "1");
  assert.deepEqual(r.query.get_all("a"), ["1", "3"]);
  r.query["a"] = "2";
  assert.equal(r.path, "/api?a=2&b=2");
  r.query.add("c", "x y");
  delete r.query["b"];
  assert.equal(r.path, "/api?a=2&c=x+y");
  assert.ok("c" in r.query && !("b" in r.query));
  assert.deepEqual(r.query.keys(), ["a", "c"]);
  r.query = { only: "1" };
  assert.equal(r.path, "/api?only=1");

  assert.equal(r.cookies["c2"], "v2");
  r.cookies["c1"] = "changed";
  r.cookies.add("c3", "v3");
  assert.equal(r.headers.get("cookie"), "c1=changed; c2=v2; c3=v3");

  assert.equal(r.urlencoded_form.get("y"), "2");
  r.urlencoded_form["x"] = "a&b";
  assert.equal(r.get_text(), "x=a%26b&y=2");
  assert.equal(r.headers.get("content-length"), "11");
  const plain = Request.make("POST", "http://app.test/", "{}", { "Content-Type": "application/json" });
  assert.equal(plain.urlencoded_form.length, 0, "not a form: no fields");
  plain.urlencoded_form = [["k", "v"]];
  assert.equal(plain.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.equal(plain.get_text(), "k=v");

  assert.equal(r.host_header, "app.test");
  r.host_header = "other.test";
  assert.equal(r.headers.get("host"), "other.test");
  r.host_header = undefined;
  assert.equal(r.headers.has("host"), false);

  r.headers.add("X-Multi", "1");
  r.headers.add("X-Multi", "2");
  assert.deepEqual(r.headers.get_all("x-multi"), ["1", "2"]);
  r.set_text("plain");
  assert.equal(Buffer.from(r.get_content() ?? []).toString(), "plain");

  const res = Response.make(200, "", [["Set-Cookie", "a=1; Path=/; HttpOnly"], ["Set-Cookie", "b=2"]]);
  assert.deepEqual([...res.cookies], [["a", "1"], ["b", "2"]]);
  res.cookies["a"] = "9";
  res.cookies.add("n", "new");
  assert.deepEqual(res.headers.get_all("set-cookie"), ["a=9; Path=/; HttpOnly", "b=2", "n=new"]);
});

test("text reads and writes the charset the Content-Type names, as mitmproxy's: Latin-1 both ways, and UTF-8 with the type corrected where Node cannot encode it", () => {
  const latin = Response.make(200, "", { "Content-Type": "text/plain; charset=iso-8859-1" });
  latin.content = new Uint8Array([0x68, 0xe9, 0x6c, 0x6c, 0x6f]);
  assert.equal(latin.text, "héllo");
  latin.text = "café";
  assert.deepEqual([...(latin.content ?? [])], [0x63, 0x61, 0x66, 0xe9]);
  assert.equal(latin.headers.get("content-type"), "text/plain; charset=iso-8859-1");
  latin.text = "€";
  assert.equal(Buffer.from(latin.content ?? []).toString("utf8"), "€");
  assert.equal(latin.headers.get("content-type"), "text/plain; charset=utf-8", "€ is not Latin-1: the type says what the bytes are");

  const sjis = Response.make(200, "", { "Content-Type": "text/html; charset=Shift_JIS" });
  sjis.content = new Uint8Array([0x82, 0xa0]);
  assert.equal(sjis.text, "あ");
  const image = Response.make(200, "", { "Content-Type": "image/png; charset=iso-8859-1" });
  image.content = Buffer.from("é", "utf8");
  assert.equal(image.text, "é", "not a text type: read as UTF-8");
});

test("text finds the charset as mitmproxy does (a page's <meta charset>, a style sheet's @charset), reads UTF-8 where nothing names one and Latin-1 where the bytes are no UTF-8, and writes the body back in it", () => {
  const page = Response.make(200, Buffer.from('<meta charset="iso-8859-2"><p>\xb1 caf\xe9</p>', "latin1"), { "Content-Type": "text/html" });
  assert.equal(page.text, '<meta charset="iso-8859-2"><p>\u0105 caf\u00e9</p>');
  page.text = page.text!.replace("\u0105", "\u0104");
  assert.deepEqual(Buffer.from(page.content ?? []), Buffer.from('<meta charset="iso-8859-2"><p>\xa1 caf\xe9</p>', "latin1"), "written in Latin-2 again");
  const css = Response.make(200, Buffer.from('@charset "iso-8859-1"; a::after { content: "\xe9" }', "latin1"), { "Content-Type": "text/css" });
  assert.match(css.text ?? "", /content: "é"/);
  const modern = Response.make(200, Buffer.from("<p>grüße</p>", "utf8"), { "Content-Type": "text/html" });
  assert.equal(modern.text, "<p>grüße</p>", "UTF-8 bytes with no charset read as UTF-8 (mitmproxy's Latin-1 would give grÃ¼Ã\u009fe)");
  const binary = Response.make(200, new Uint8Array([0x61, 0xff, 0x80]), { "Content-Type": "application/octet-stream" });
  binary.text = binary.text!.replace("a", "b");
  assert.deepEqual([...(binary.content ?? [])], [0x62, 0xff, 0x80], "no UTF-8: Latin-1, which keeps every byte");
  const json = Response.make(200, Buffer.from('{"a":"\xe9"}', "latin1"), { "Content-Type": "application/json" });
  assert.equal(json.text, '{"a":"\ufffd"}', "JSON is UTF-8, as in mitmproxy");
});

test("text set to what it was leaves the bytes and the type as they were (Shift_JIS, which pryx cannot write); UTF-16 is written with a byte order mark, in the body's order", () => {
  const sjis = Response.make(200, new Uint8Array([0x93, 0xfa, 0x96, 0x7b]), { "Content-Type": "text/plain; charset=shift_jis" });
  sjis.text = sjis.text;
  assert.deepEqual([...(sjis.content ?? [])], [0x93, 0xfa, 0x96, 0x7b]);
  assert.equal(sjis.headers.get("content-type"), "text/plain; charset=shift_jis");
  sjis.text = "ｱ!";
  assert.deepEqual([...(sjis.content ?? [])], [0xb1, 0x21], "a half-width kana is one Shift_JIS byte");
  const be = Response.make(200, Buffer.from([0xfe, 0xff, 0x00, 0x68, 0x00, 0x69]), { "Content-Type": "text/plain; charset=utf-16" });
  assert.equal(be.text, "hi");
  be.text = "hé";
  assert.deepEqual([...(be.content ?? [])], [0xfe, 0xff, 0x00, 0x68, 0x00, 0xe9]);
  assert.equal(be.headers.get("content-type"), "text/plain; charset=utf-16");
  const le = Response.make(200, Buffer.from([0x68, 0x00]), { "Content-Type": "text/plain; charset=utf-16le" });
  le.text = "é";
  assert.deepEqual([...(le.content ?? [])], [0xe9, 0x00]);
});

test("a cookie value with ; or a space is quoted in the Cookie header and read back as one value (mitmproxy's format_cookie_header), so an edit cannot add cookies", () => {
  const r = Request.make("GET", "http://c.test/", "", { Cookie: "c1=v1; c2=v2" });
  r.cookies["c1"] = "a;b=c";
  r.cookies["c2"] = 'x "y"';
  assert.equal(r.headers.get("cookie"), 'c1="a;b=c"; c2="x \\"y\\""');
  assert.deepEqual([...r.cookies], [["c1", "a;b=c"], ["c2", 'x "y"']]);
  // A plain value stays bare; a header with a quoted value from a browser reads unquoted.
  r.headers.set("cookie", 'sid=abc; pref="dark;wide"; n=1');
  assert.deepEqual([...r.cookies], [["sid", "abc"], ["pref", "dark;wide"], ["n", "1"]]);
});

test("request.multipart_form is mitmproxy's live view of the parts: a changed value keeps a file part's headers; set on another body it makes a multipart form", async () => {
  const { parseMultipart, multipartBoundary } = await import("../../../src/multipart.ts");
  const body = '--B\r\nContent-Disposition: form-data; name="title"\r\n\r\nold\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\ncontents\r\n--B--\r\n';
  const r = Request.make("POST", "http://m.test/up", body, { "Content-Type": "multipart/form-data; boundary=B" });
  assert.deepEqual([...r.multipart_form], [["title", "old"], ["file", "contents"]]);
  r.multipart_form["title"] = "new";
  const parts = parseMultipart(r.content!, "B");
  assert.deepEqual(parts.map((p) => [p.name, p.content.toString()]), [["title", "new"], ["file", "contents"]]);
  assert.match(parts[1]!.head, /filename="x\.txt"/);
  const plain = Request.make("POST", "http://m.test/up", "a=1", { "Content-Type": "application/x-www-form-urlencoded" });
  plain.multipart_form = [["k", "v"]];
  const boundary = multipartBoundary(plain.headers.get("content-type"));
  assert.ok(boundary, "the Content-Type names the new boundary");
  assert.deepEqual(parseMultipart(plain.content!, boundary!).map((p) => [p.name, p.content.toString()]), [["k", "v"]]);
});

test("mitmproxy's Request methods and properties ported scripts call: path_components, anticache(), anticomp(), constrain_encoding()", () => {
  const r = Request.make("GET", "http://app.test/q/a%20b/c?x=1", "", { "if-none-match": '"e"', "if-modified-since": "Mon", "accept-encoding": "gzip, foo, br;q=0.5, zstd" });
  assert.deepEqual(r.path_components, ["q", "a b", "c"]);
  r.path_components = ["new", "a b", "é"];
  assert.equal(r.path, "/new/a%20b/%C3%A9?x=1", "segments encoded, the query kept");
  r.constrain_encoding();
  assert.equal(r.headers.get("accept-encoding"), "gzip, br;q=0.5, zstd");
  r.anticache();
  assert.equal(r.headers.get("if-none-match"), undefined);
  assert.equal(r.headers.get("if-modified-since"), undefined);
  r.anticomp();
  assert.equal(r.headers.get("accept-encoding"), "identity");
});

test("a field's value that is not text is a TypeError naming it, not sent as [object Object] (mitmproxy's cookie tuple ported as an array)", () => {
  const res = Response.make(200, "ok", { "set-cookie": "sid=abc; Path=/" });
  assert.throws(() => {
    res.cookies["sid"] = ["newval", { Path: "/x" }] as unknown as string;
  }, /TypeError: a field's value is text, not an array/);
  assert.equal(res.headers.get("set-cookie"), "sid=abc; Path=/", "nothing was written");
});

test("an HTTP/2 request's host_header is its authority (no Host header is made up), as mitmproxy's: pretty_host, pretty_url and the setters follow it", () => {
  const r = new Request({ method: "GET", scheme: "https", host: "10.0.0.1", port: 443, path: "/p", http_version: "HTTP/2.0", headers: [["accept", "*/*"]], authority: "app.test", content: new Uint8Array(0) });
  assert.equal(r.host_header, "app.test");
  assert.equal(r.pretty_host, "app.test");
  assert.equal(r.pretty_url, "https://app.test/p");
  assert.equal(r.headers.get("host"), undefined);
  // mitmproxy: setting host_header on HTTP/2 sets the authority and makes no Host header.
  r.host_header = "other.test:8443";
  assert.equal(r.authority, "other.test:8443");
  assert.equal(r.headers.get("host"), undefined);
  assert.equal(r.pretty_url, "https://other.test:8443/p");
  // A new URL moves the authority with it (map_remote's and addons' way of sending a request elsewhere).
  r.url = "https://moved.test:9443/q";
  assert.equal(r.authority, "moved.test:9443");
  assert.equal(r.pretty_url, "https://moved.test:9443/q");
  r.host_header = undefined;
  assert.equal(r.authority, "");
  assert.equal(r.pretty_url, "https://moved.test:9443/q", "the URL's own host without an authority");
  // HTTP/1.1 reads the Host header alone, as before.
  const h1 = new Request({ method: "GET", scheme: "http", host: "a.test", port: 80, path: "/", headers: [], content: new Uint8Array(0) });
  assert.equal(h1.host_header, undefined);
  h1.host_header = "b.test";
  assert.equal(h1.headers.get("host"), "b.test");
  assert.equal(h1.pretty_host, "b.test");
});
