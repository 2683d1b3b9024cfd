import { test } from "node:test";
import assert from "node:assert/strict";
import type { ViewName } from "../../../src/tui/contentviews/index.ts";
import { VIEW_NAMES, pickAutoView, renderContent, viewTitle } from "../../../src/tui/contentviews/index.ts";
import { enc, texts } from "./helpers.ts";
import { lineArray } from "../../../src/tui/contentviews/line-list.ts";

test("VIEW_NAMES: mitmproxy's order (auto, raw, hex, graphql, json ...), so m then a digit picks what it picks there; pryx's own after", () => {
  assert.deepEqual(VIEW_NAMES.slice(0, 5), ["auto", "raw", "hex", "graphql", "json"]);
  assert.equal(new Set(VIEW_NAMES).size, 19);
});

test("pickAutoView: by content type", () => {
  const body = enc("x");
  const cases: [string, string][] = [
    ["application/json", "json"],
    ["application/problem+json; charset=utf-8", "json"],
    ["Application/JSON", "json"],
    ["application/x-www-form-urlencoded", "urlencoded"],
    ["multipart/form-data; boundary=abc", "multipart"],
    ["image/png", "image"],
    // Markup, not pixels, as mitmproxy leaves it out of its image view.
    ["image/svg+xml", "xml"],
    ["text/html; charset=utf-8", "xml"],
    ["text/xml", "xml"],
    ["application/xml", "xml"],
    ["application/rss+xml", "xml"],
    ["text/css", "css"],
    ["application/javascript", "javascript"],
    ["text/javascript; charset=utf-8", "javascript"],
    ["text/plain", "raw"],
  ];
  for (const [ct, view] of cases) assert.equal(pickAutoView(body, ct), view, ct);
});

test("pickAutoView: multipart without a boundary is not picked", () => {
  assert.equal(pickAutoView(enc("hello"), "multipart/form-data"), "raw");
});

test("pickAutoView: sniffs JSON, markup and binary when the type says nothing", () => {
  assert.equal(pickAutoView(enc(' \n[{"a": 1}]'), undefined), "json");
  // A declared type is the server's word: as mitmproxy's auto view, JSON only from a JSON type.
  assert.equal(pickAutoView(enc('{"a": 1}'), "text/plain"), "raw");
  assert.equal(pickAutoView(enc('{"query": "{ a }"}'), "text/plain"), "raw");
  assert.equal(pickAutoView(enc('{"a": 1}'), "application/json-rpc"), "json");
  assert.equal(pickAutoView(enc("[INFO] server started"), undefined), "raw");
  assert.equal(pickAutoView(enc("{not json}"), "application/octet-stream"), "raw");
  assert.equal(pickAutoView(enc("<!doctype html><p>hi"), undefined), "xml");
  assert.equal(pickAutoView(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xcb, 0x48]), undefined), "hex");
  assert.equal(pickAutoView(enc("Grüße aus Köln, ünïcödé text ✓".repeat(20)), undefined), "raw");
});

test("pickAutoView: a huge JSON array is sniffed from a prefix", () => {
  const big = enc("[" + Array.from({ length: 20000 }, (_, i) => `{"i":${i},"s":"${"x".repeat(i % 7)}"}`).join(",") + "]");
  assert.ok(big.length > 64 * 1024);
  assert.equal(pickAutoView(big, undefined), "json");
});

test("binary body without a content type renders as hex", () => {
  const body = Uint8Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff);
  const r = renderContent(body, undefined, "auto");
  assert.equal(r.name, "Hex");
  assert.equal(r.lines.length, 3);
  assert.match(texts(r)[0]!, /^00000000  00 25 4a 6f/);
});

test("auto: a view that fails falls back to raw with the error note", () => {
  const r = renderContent(enc('{"truncated": [1, 2'), "application/json", "auto");
  assert.equal(r.name, "Raw");
  assert.equal(r.error, "[failed to parse as JSON]");
  assert.deepEqual(texts(r), ['{"truncated": [1, 2']);
});

test("explicit view: failure is reported as error-styled lines, then the body raw", () => {
  const r = renderContent(enc("<html>"), "text/html", "json");
  assert.equal(r.name, "JSON");
  assert.equal(r.error, undefined);
  const lines = lineArray(r.lines);
  assert.ok(lines.length >= 2);
  for (const line of lines.slice(0, -1)) for (const seg of line) assert.equal(seg.style, "error");
  assert.match(texts(r).join(" "), /Unexpected "<" at byte 0/);
  assert.equal(texts(r).at(-1), "<html>");
});

test("explicit view: overrides the content type", () => {
  const r = renderContent(enc('{"a":1}'), "text/plain", "hex");
  assert.equal(r.name, "Hex");
  assert.equal(renderContent(enc('{"a":1}'), "text/plain", "raw").lines.length, 1);
});

test("an unknown view name (e.g. from a saved option) behaves like auto", () => {
  const r = renderContent(enc('{"a":1}'), "application/json", "wbxml" as ViewName);
  assert.equal(r.name, "JSON");
  assert.equal(viewTitle("multipart"), "Multipart Form");
  assert.equal(viewTitle("auto"), "Auto");
});

test("a body in the charset its type names (Latin-1, windows-1252, Shift_JIS) is shown as text; hex still shows the bytes sent", () => {
  const latin1 = new Uint8Array([0x68, 0xe9, 0x6c, 0x6c, 0x6f]);
  const shown = renderContent(latin1, "text/plain; charset=iso-8859-1", "auto");
  assert.equal(shown.name, "Raw");
  assert.deepEqual(texts(shown), ["héllo"]);
  assert.deepEqual(texts(renderContent(latin1, "text/plain; charset=ISO-8859-1", "raw")), ["héllo"]);
  assert.deepEqual(texts(renderContent(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), "text/html; charset=windows-1252", "raw")), ["café"]);
  assert.deepEqual(texts(renderContent(new Uint8Array([0x82, 0xa0]), "text/plain; charset=shift_jis", "raw")), ["あ"]);
  assert.deepEqual(texts(renderContent(Buffer.from('{"k":"\xe9"}', "latin1"), "application/json; charset=latin1", "auto")).join(""), texts(renderContent(enc('{"k":"é"}'), "application/json", "auto")).join(""));
  assert.match(texts(renderContent(latin1, "text/plain; charset=iso-8859-1", "hex"))[0]!, /68 e9 6c 6c 6f/);
  // A charset Node does not know, and no charset: read as UTF-8, as before.
  assert.deepEqual(texts(renderContent(latin1, "text/plain; charset=x-made-up", "raw")), ["h\\xe9llo"]);
});

test("a view picked with m that cannot parse the body says so and shows the body raw, as mitmproxy falls back to Raw", () => {
  const r = renderContent(enc("needle1 is not json"), "text/plain", "json");
  const lines = texts(r);
  assert.match(lines[0]!, /^Couldn't parse as JSON: falling back to Raw$/);
  assert.equal(lines.at(-1), "needle1 is not json", "the content is still on screen");
});
