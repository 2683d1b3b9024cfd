import { test } from "node:test";
import assert from "node:assert/strict";
import { ASCII_GLYPHS, UNICODE_GLYPHS, columns, fitEndpoints, fitRowUrl, fitUrl, flowRowCells, humanDuration, humanSize, localeIsUtf8, rowLayout, sanitize, statusClass, wrapColumns } from "../../src/tui/format.ts";
import { themeFromEnv, paint } from "../../src/tui/theme.ts";
import { makeFlow } from "./helpers/fake-engine.ts";
import { loadMarkerNames } from "../../src/markers.ts";
import { formatFlowLine } from "../../src/dump.ts";

test("sizes and durations", () => {
  assert.equal(humanSize(0), "0b");
  assert.equal(humanSize(1023), "1023b");
  assert.equal(humanSize(1536), "1.5k");
  assert.equal(humanSize(50 * 1024), "50.0k");
  // mitmproxy's pretty_size: a decimal below 100 (12.2m, not 12m), whole numbers from there, never over 5 characters.
  assert.equal(humanSize(12_777_786), "12.2m");
  assert.equal(humanSize(100 * 1024), "100k");
  assert.equal(humanSize(1023 * 1024), "1023k");
  assert.equal(humanSize(3 * 1024 * 1024), "3.0m");
  assert.equal(humanSize(undefined), "");
  assert.equal(humanDuration(0.042), "42ms");
  assert.equal(humanDuration(1.25), "1.3s");
  assert.equal(humanDuration(75), "1m15s");
  assert.equal(humanDuration(undefined), "");
});

test("wrapColumns breaks after the last space that fits, cuts only a word longer than a row, and counts wide characters as two", () => {
  assert.deepEqual(wrapColumns("client TLS handshake failed for example.com", 20, 20), ["client TLS handshake", "failed for", "example.com"]);
  // The first row may be narrower (the time and level are in front of it).
  assert.deepEqual(wrapColumns("aaa bbb ccc", 4, 8), ["aaa", "bbb ccc"]);
  assert.deepEqual(wrapColumns("https://example.com/very/long/path", 10, 10), ["https://ex", "ample.com/", "very/long/", "path"]);
  assert.deepEqual(wrapColumns("short", 10, 10), ["short"]);
  assert.deepEqual(wrapColumns("", 10, 10), [""]);
  for (const row of wrapColumns("主机 名称很长的服务器 连接失败了", 8, 8)) assert.ok(columns(row) <= 8, row);
  assert.deepEqual(wrapColumns("主机名", 1, 1), ["主", "机", "名"]);
});

test("emoji sequences are measured a code point at a time, as tmux draws them: a line of ZWJ families or skin tones is wrapped, not taken to fit", () => {
  const family = "\u{1F468}\u200d\u{1F469}\u200d\u{1F467}";
  const thumbs = "\u{1F44D}\u{1F3FD}";
  // string-width calls each one glyph two columns wide; tmux gives each part its own.
  assert.equal(columns(family), 6);
  assert.equal(columns(thumbs), 4);
  const line = `"fam": "${family.repeat(30)}"`;
  assert.ok(columns(line) > 80, "the line is wider than the screen: it must be wrapped");
  for (const row of wrapColumns(line, 80, 80)) assert.ok(columns(row) <= 80, row);
});

test("fitUrl keeps the end of a long host and the start of the path", () => {
  assert.equal(fitUrl("example.com", "/a", 40), "example.com/a");
  const s = fitUrl("very.long.subdomain.chain.example.com", "/api/v1/items/12345?x=1", 30);
  assert.equal(s.length, 30);
  assert.ok(s.startsWith("…"), s);
  assert.ok(s.includes("example.com/api"), s);
});

test("sanitize escapes control characters", () => {
  assert.equal(sanitize("a\x1b[2Jb"), "a\\x1b[2Jb");
  assert.equal(sanitize("ok"), "ok");
});

test("rowLayout fills the width exactly at 80 and 100 columns and keeps the URL wide", () => {
  for (const w of [40, 60, 80, 100, 132, 200]) {
    const l = rowLayout(w);
    const f = makeFlow({});
    const text = flowRowCells(f, true, l, UNICODE_GLYPHS).map((c) => c.text).join("");
    assert.equal(text.length, w, `width ${w}: ${JSON.stringify(text)}`);
    assert.ok(l.url >= w / 3, `url column at ${w}: ${l.url}`);
  }
  assert.equal(rowLayout(80).time, false);
  assert.equal(rowLayout(100).time, true);
});

test("a row with a CJK path fills the width in columns, so its duration column stays on screen", () => {
  for (const w of [80, 100]) {
    const l = rowLayout(w);
    for (const path of ["/日本語", `/${"日本語".repeat(30)}`]) {
      const text = flowRowCells(makeFlow({ path, duration: 0.006 }), true, l, UNICODE_GLYPHS).map((c) => c.text).join("");
      assert.equal(columns(text), w, `width ${w}: ${JSON.stringify(text)}`);
      assert.match(text, /6ms$/);
    }
  }
  assert.equal(columns("/日本語"), 7);
  assert.equal(fitUrl("127.0.0.1:9000", `/${"日本語".repeat(10)}`, 20), "….0.0.1:9000/日本語…");
});

test("row cells show markers, status and error", () => {
  const l = rowLayout(100);
  const text = (over: Parameters<typeof makeFlow>[0]) => flowRowCells(makeFlow(over), false, l, UNICODE_GLYPHS).map((c) => c.text).join("");
  assert.match(text({ intercepted: true, interceptedAt: "request", status: undefined }), /^ {2}\d\d:\d\d:\d\d !/);
  assert.match(text({ marker: ":default:" }), /● /);
  assert.match(text({ replay: "request" }), /↺/);
  assert.match(text({ error: "connection refused", status: undefined }), / err /);
  assert.match(text({ status: 404 }), / 404 /);
  assert.match(text({ scheme: "http", port: 8080, host: "localhost", path: "/x" }), /HTTP +GET +localhost:8080\/x/);
  // A Host header without a port, on a connection to 18390: the row names the URL's authority (as dump and ~u), not host:18390.
  assert.match(text({ scheme: "http", port: 18390, host: "virtual.example", path: "/vhost", url: "http://virtual.example/vhost" }), /GET +virtual\.example\/vhost /);
  assert.equal(statusClass({ status: 503, error: undefined }), "5xx");
  const ascii = flowRowCells(makeFlow({ marker: ":default:" }), false, l, ASCII_GLYPHS).map((c) => c.text).join("");
  assert.match(ascii, /# /);
});

test("a named marker is drawn as its emoji (a letter as itself, an unknown name as ●) and the row keeps its width; ASCII terminals get # for an emoji", async () => {
  await loadMarkerNames();
  const l = rowLayout(100);
  const row = (marker: string, g = UNICODE_GLYPHS) => flowRowCells(makeFlow({ marker, replay: "request" }), false, l, g).map((c) => c.text).join("");
  assert.match(row(":grapes:"), /\d  🍇↺HTTP/);
  assert.match(row("X"), / X↺ HTTP/);
  assert.match(row(":no_such_emoji:"), / ●↺ HTTP/);
  // A sequence joined by zero-width joiners draws its first emoji only.
  assert.match(row(":family_man_woman_girl:"), / 👨↺HTTP/);
  for (const m of [":grapes:", "X", ":default:", ":family_man_woman_girl:"]) assert.equal(columns(row(m)), columns(row("")), `${m} keeps the row's width`);
  assert.match(row(":grapes:", ASCII_GLYPHS), / #r HTTP/);
  assert.match(row("X", ASCII_GLYPHS), / Xr HTTP/);
});

test("NO_COLOR turns colours off, and the locale picks the glyphs", () => {
  assert.equal(themeFromEnv({ NO_COLOR: "1" }).noColor, true);
  assert.equal(themeFromEnv({ NO_COLOR: "" }).noColor, false);
  assert.equal(paint(themeFromEnv({ NO_COLOR: "1" }), "red"), undefined);
  assert.equal(paint(themeFromEnv({}), "red"), "red");
  assert.equal(localeIsUtf8({ LANG: "en_US.UTF-8" }), true);
  assert.equal(localeIsUtf8({ LANG: "C" }), false);
  assert.equal(themeFromEnv({ LC_ALL: "POSIX" }).glyphs, ASCII_GLYPHS);
});

test("a DNS row names its rcode, coloured as its HTTP equivalent, and shows no byte size", () => {
  const l = rowLayout(120);
  const cells = (over: Parameters<typeof makeFlow>[0]) => flowRowCells(makeFlow({ type: "dns", scheme: "dns", method: "A", host: "example.test", path: "", port: 0, contentType: undefined, reqSize: 1, respSize: 2, ...over }), false, l, UNICODE_GLYPHS);
  const ok = cells({ status: 0, reason: "NOERROR" });
  const text = ok.map((c) => c.text).join("");
  assert.match(text, /NOERROR/);
  assert.doesNotMatch(text, / 0 /, "no bare rcode number where HTTP statuses go");
  assert.doesNotMatch(text, /3b/, "one question and two answers are no '3b'");
  assert.equal(ok.find((c) => c.text.startsWith("NOERROR"))?.color, "green");
  assert.equal(cells({ status: 3, reason: "NXDOMAIN" }).find((c) => c.text.startsWith("NXDOMAIN"))?.color, "yellow");
  // The answers after the name, as mitmproxy's list shows them; "?" for none; nothing while pending.
  assert.match(cells({ status: 0, reason: "NOERROR", path: "10.1.2.3, 10.1.2.4" }).map((c) => c.text).join(""), /example\.test = 10\.1\.2\.3, 10\.1\.2\.4 +NOERROR/);
  assert.match(cells({ status: 3, reason: "NXDOMAIN", path: "" }).map((c) => c.text).join(""), /example\.test = \? +NXDOMAIN/);
  assert.doesNotMatch(cells({ status: undefined, reason: undefined, path: "" }).map((c) => c.text).join(""), /=/);
  // Dump: the query type, and the answers after the rcode (mitmdump's " << 10.1.2.3, 10.1.2.4").
  assert.equal(formatFlowLine(makeFlow({ type: "dns", client: "127.0.0.1:5353", method: "A", url: "dns://example.test", status: 0, reason: "NOERROR", path: "10.1.2.3", reqSize: 1, respSize: 1, duration: 0.004 })), "127.0.0.1:5353 DNS A dns://example.test << NOERROR 10.1.2.3 4ms");
  assert.equal(formatFlowLine(makeFlow({ type: "dns", client: "127.0.0.1:5353", method: "TXT", url: "dns://example.test", status: 0, reason: "NOERROR", path: "hello\x1b[2J txt", reqSize: 1, respSize: 1, duration: 0.004 })), "127.0.0.1:5353 DNS TXT dns://example.test << NOERROR hello\\x1b[2J txt 4ms");
});

test("the dump line names the HTTP versions as mitmdump does: both unless client and server spoke the same HTTP/1.x", () => {
  const line = (httpVersion: string, responseVersion?: string, answered = true) =>
    formatFlowLine(makeFlow({ client: "127.0.0.1:50000", url: "https://app.test/", httpVersion, responseVersion, status: answered ? 200 : undefined, reason: answered ? "OK" : undefined, respSize: 2048, duration: 0.012 }));
  assert.equal(line("HTTP/2.0"), "127.0.0.1:50000 GET https://app.test/ HTTP/2.0 << HTTP/2.0 200 OK 2.0k 12ms");
  assert.equal(line("HTTP/1.1"), "127.0.0.1:50000 GET https://app.test/ << 200 OK 2.0k 12ms");
  assert.equal(line("HTTP/1.0"), "127.0.0.1:50000 GET https://app.test/ << 200 OK 2.0k 12ms");
  // An HTTP/2 client of an HTTP/1.1 server, and an HTTP/1.0 client answered in HTTP/1.1.
  assert.equal(line("HTTP/2.0", "HTTP/1.1"), "127.0.0.1:50000 GET https://app.test/ HTTP/2.0 << HTTP/1.1 200 OK 2.0k 12ms");
  assert.equal(line("HTTP/1.0", "HTTP/1.1"), "127.0.0.1:50000 GET https://app.test/ HTTP/1.0 << HTTP/1.1 200 OK 2.0k 12ms");
  // No response (an error): the request's version unless it is HTTP/1.1, as mitmdump compares it with that.
  assert.equal(line("HTTP/1.0", undefined, false), "127.0.0.1:50000 GET https://app.test/ HTTP/1.0 << 2.0k 12ms");
});

test("markMatches cuts a line where the term occurs, ignoring case, keeping each segment's style on both sides", async () => {
  const { markMatches } = await import("../../src/tui/contentviews/index.ts");
  assert.equal(markMatches([{ text: "nothing here" }], "x"), undefined);
  assert.equal(markMatches([{ text: "anything" }], ""), undefined);
  const marked = markMatches([{ text: "ab", style: "key" }, { text: "cAB" }], "bc")!;
  assert.deepEqual(marked, [
    { seg: { text: "a", style: "key" }, match: false },
    { seg: { text: "b", style: "key" }, match: true },
    { seg: { text: "c" }, match: true },
    { seg: { text: "AB" }, match: false },
  ]);
  // Matches do not overlap: "aaaa" holds "aa" twice, side by side.
  assert.deepEqual(markMatches([{ text: "aaaa" }], "aa")!.map((m) => [m.seg.text, m.match]), [["aa", true], ["aa", true]]);
});

test("a stream's endpoints fitted to a narrow column keep both ports: each side is cut from its start", () => {
  const client = "127.0.0.1:56532";
  const server = "192.168.100.200:18700";
  assert.equal(fitEndpoints(client, server, 60), "127.0.0.1:56532 <-> 192.168.100.200:18700");
  const narrow = fitEndpoints(client, server, 25);
  assert.equal(columns(narrow), 25);
  assert.match(narrow, /:56532 <-> .*:18700$/, narrow);
  // A short side leaves its room to the other.
  assert.equal(fitEndpoints("1.2.3.4:5", server, 25), "1.2.3.4:5 <-> ….200:18700");
  assert.equal(fitRowUrl({ host: client, path: ` <-> ${server}`, server }, 25), narrow);
});
