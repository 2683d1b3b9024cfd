import { test } from "node:test";
import assert from "node:assert/strict";
import type { ViewName } from "../../../src/tui/contentviews/index.ts";
import { DEFAULT_MAX_LINES, renderContent } from "../../../src/tui/contentviews/index.ts";
import { enc, texts } from "./helpers.ts";

const NOTICE = "Stopped displaying data after 512 lines. Press f to load all data.";

test("hex of a 10 MB body stops after 512 lines plus the notice", () => {
  const body = new Uint8Array(10 * 1024 * 1024).fill(0x41);
  const r = renderContent(body, "application/octet-stream", "hex");
  assert.equal(DEFAULT_MAX_LINES, 512);
  assert.equal(r.lines.length, 513);
  assert.equal(texts(r)[511]!.slice(0, 8), (511 * 16).toString(16).padStart(8, "0"));
  const last = r.lines.at(512)!;
  assert.deepEqual(last, [{ text: NOTICE, style: "dim" }]);
});

test("exactly maxLines lines shows no notice; one more does", () => {
  const lines = (n: number): Uint8Array => enc(Array.from({ length: n }, (_, i) => `line ${i}`).join("\n"));
  assert.equal(renderContent(lines(10), undefined, "raw", { maxLines: 10 }).lines.length, 10);
  const cut = renderContent(lines(11), undefined, "raw", { maxLines: 10 });
  assert.equal(cut.lines.length, 11);
  assert.equal(texts(cut)[10], "Stopped displaying data after 10 lines. Press f to load all data.");
  assert.equal(renderContent(lines(2000), undefined, "raw", { maxLines: Infinity }).lines.length, 2000);
});

test("every view honours maxLines on a large body", () => {
  const n = 5000;
  const bodies: [ViewName, string, Uint8Array][] = [
    ["raw", "text/plain", enc("x\n".repeat(n))],
    ["javascript", "text/javascript", enc("f();\n".repeat(n))],
    ["json", "application/json", enc(JSON.stringify(Array.from({ length: n }, (_, i) => ({ i }))))],
    ["urlencoded", "application/x-www-form-urlencoded", enc(Array.from({ length: n }, (_, i) => `k${i}=v`).join("&"))],
    ["xml", "text/xml", enc("<r>" + "<i>1</i>".repeat(n) + "</r>")],
    ["css", "text/css", enc("a{b:c}".repeat(n))],
    ["multipart", "multipart/form-data; boundary=B", enc(`--B\r\nContent-Disposition: form-data; name="f"\r\n\r\n${"t\r\n".repeat(n)}\r\n--B--`)],
    ["hex", "application/octet-stream", new Uint8Array(n * 16)],
  ];
  for (const [view, ct, body] of bodies) {
    const r = renderContent(body, ct, "auto", { maxLines: 100 });
    assert.equal(r.name.toLowerCase().includes(view === "urlencoded" ? "url" : view === "multipart" ? "multipart" : view === "xml" ? "xml" : view), true, `${view}: ${r.name}`);
    assert.equal(r.error, undefined, view);
    assert.equal(r.lines.length, 101, view);
    assert.equal(texts(r)[100], "Stopped displaying data after 100 lines. Press f to load all data.", view);
  }
});

test("json cut off before the error is shown as far as it goes", () => {
  const body = enc("[" + "1,".repeat(1000) + "oops]");
  const r = renderContent(body, "application/json", "auto", { maxLines: 20 });
  assert.equal(r.name, "JSON");
  assert.equal(r.lines.length, 21);
  assert.equal(renderContent(body, "application/json", "auto", { maxLines: Infinity }).error, "[failed to parse as JSON]");
});

test("one enormous line is broken into 16 KiB pieces, so it is cut like many lines", () => {
  const line = new Uint8Array(10 * 1024 * 1024).fill(0x61);
  const r = renderContent(line, "text/plain", "raw", { maxLines: 5 });
  assert.equal(r.lines.length, 6);
  assert.equal(texts(r)[0]!.length, 16 * 1024);
  // Pieces never split a UTF-8 sequence.
  const euros = enc("€".repeat(20000));
  const pieces = texts(renderContent(euros, "text/plain", "raw", { maxLines: Infinity }));
  assert.equal(pieces.join(""), "€".repeat(20000));
  assert.ok(pieces.length > 1);
});

test("json: a huge string value continues on further lines", () => {
  const value = "QUJD".repeat(10000);
  const r = renderContent(enc(JSON.stringify({ file: value })), "application/json", "json");
  const lines = texts(r);
  assert.equal(lines[0], "{");
  assert.ok(lines[1]!.startsWith('  "file": "QUJD'));
  assert.ok(lines.length > 3);
  assert.equal(lines.slice(1, -1).map((l) => l.trimStart()).join("").replace('"file": ', ""), JSON.stringify(value));
});

test("urlencoded: a many-megabyte field is previewed with a note, and shown whole without a cap", () => {
  const body = enc("a=1&data=" + "x".repeat(3 * 1024 * 1024) + "&z=2");
  const r = renderContent(body, "application/x-www-form-urlencoded", "urlencoded");
  const lines = texts(r);
  assert.equal(lines[0], "a: 1");
  assert.ok(lines.includes(`[${3 * 1024 * 1024 - 256 * 1024} more bytes in this field; press f to load all data]`));
  assert.equal(lines.at(-1), "z: 2");
  const full = texts(renderContent(body, "application/x-www-form-urlencoded", "urlencoded", { maxLines: Infinity }));
  assert.equal(full.length, 2 + (3 * 1024 * 1024) / (16 * 1024));
});

test("a long line of words is broken after a space near 16 KiB, never inside a word, and no piece starts with the space", () => {
  const words = Array.from({ length: 4000 }, (_, i) => `tok${String(i + 1).padStart(5, "0")}`).join(" ");
  const pieces = texts(renderContent(enc(words), "text/plain", "raw", { maxLines: Infinity }));
  assert.ok(pieces.length > 1);
  assert.equal(pieces.join(""), words, "nothing lost or added");
  for (const p of pieces) {
    assert.ok(!p.startsWith(" "), "no piece starts with a space");
    assert.ok(p.length <= 16 * 1024);
  }
  // Every token is whole in some piece, so / finds it.
  for (const t of ["tok01821", "tok03999"]) assert.ok(pieces.some((p) => p.includes(t)), t);
});
