import { test } from "node:test";
import assert from "node:assert/strict";
import { renderContent } from "../../../src/tui/contentviews/index.ts";
import { concat, enc, styleOf, texts } from "./helpers.ts";

test("urlencoded: one decoded `key: value` line per field", () => {
  const body = enc("username=j%C3%BCrgen&password=p%40ss+w%26rd&remember&&empty=&bad=%zz%4&q=a=b");
  const r = renderContent(body, "application/x-www-form-urlencoded", "auto");
  assert.equal(r.name, "URL-encoded");
  assert.deepEqual(texts(r), [
    "username: jürgen",
    "password: p@ss w&rd",
    "remember: ",
    "empty: ",
    "bad: %zz%4",
    "q: a=b",
  ]);
  assert.equal(styleOf(r, "username"), "key");
});

test("urlencoded: multi-line values continue aligned; controls are escaped", () => {
  const r = renderContent(enc("comment=first%0D%0Asecond&x=%1B"), "application/x-www-form-urlencoded", "urlencoded");
  assert.deepEqual(texts(r), ["comment: first", "         second", "x: \\x1b"]);
});

test("query: shows the given pairs; auto uses it for an empty body", () => {
  const query: [string, string][] = [["q", "hello world"], ["page", "2"]];
  const r = renderContent(new Uint8Array(0), undefined, "auto", { query });
  assert.equal(r.name, "Query");
  assert.deepEqual(texts(r), ["q: hello world", "page: 2"]);
  assert.deepEqual(texts(renderContent(new Uint8Array(0), undefined, "query")), ["[no query parameters]"]);
  assert.equal(renderContent(new Uint8Array(0), undefined, "auto").name, "Raw");
});

const PNG_BYTES = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52];
const BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

function browserUpload(): Uint8Array {
  return concat(
    `--${BOUNDARY}\r\n`,
    'Content-Disposition: form-data; name="title"\r\n\r\n',
    "Holiday\r\nday two\r\n",
    `--${BOUNDARY}\r\n`,
    'Content-Disposition: form-data; name="photo"; filename="beach \\"1\\".png"\r\n',
    "Content-Type: image/png\r\n\r\n",
    PNG_BYTES,
    `\r\n--${BOUNDARY}--\r\n`,
  );
}

test("multipart: heading per part, text bodies as lines, files summarised", () => {
  const r = renderContent(browserUpload(), `multipart/form-data; boundary=${BOUNDARY}`, "auto");
  assert.equal(r.name, "Multipart Form");
  assert.deepEqual(texts(r), [
    'name="title"',
    "  Holiday",
    "  day two",
    "",
    'name="photo"; filename="beach \\"1\\".png"  Content-Type: image/png',
    `  [${PNG_BYTES.length} bytes binary]`,
  ]);
  assert.equal(r.lines.at(0)![0]!.style, "heading");
});

test("multipart: quoted boundary, LF-only line breaks, empty field, text file", () => {
  const body = enc('--xyz\nContent-Disposition: form-data; name="a"\n\n\n--xyz\nContent-Disposition: form-data; name="f"; filename="n.txt"\nContent-Type: text/plain\n\nline --xyzzy\n--xyz-not\n--xyz--\n');
  const r = renderContent(body, 'multipart/form-data; boundary="xyz"', "multipart");
  assert.deepEqual(texts(r), [
    'name="a"',
    "  [empty]",
    "",
    'name="f"; filename="n.txt"  Content-Type: text/plain',
    "  line --xyzzy",
    "  --xyz-not",
  ]);
});

test("multipart: binary without a declared type is detected by content", () => {
  const body = concat("--b\r\nContent-Disposition: form-data; name=\"blob\"\r\n\r\n", [0, 1, 2, 0xff, 0xfe, 3], "\r\n--b--");
  assert.deepEqual(texts(renderContent(body, "multipart/form-data; boundary=b", "multipart")), ['name="blob"', "  [6 bytes binary]"]);
});

test("multipart: a text file sent as application/octet-stream (curl -F's label for any file) shows its lines", () => {
  const part = (type: string, bytes: string | number[]) => concat(`--b\r\nContent-Disposition: form-data; name="f"; filename="ca.pem"\r\nContent-Type: ${type}\r\n\r\n`, bytes, "\r\n--b--");
  const text = texts(renderContent(part("application/octet-stream", "-----BEGIN CERTIFICATE-----\nMIIB\n"), "multipart/form-data; boundary=b", "multipart"));
  assert.deepEqual(text.slice(1), ["  -----BEGIN CERTIFICATE-----", "  MIIB"]);
  const binary = texts(renderContent(part("application/octet-stream", [0, 1, 2, 0xff, 0xfe, 3]), "multipart/form-data; boundary=b", "multipart"));
  assert.deepEqual(binary.slice(1), ["  [6 bytes binary]"], "its bytes still decide");
});

test("multipart: a body without the boundary fails; auto falls back to raw", () => {
  const r = renderContent(enc("not multipart at all"), "multipart/form-data; boundary=abc", "auto");
  assert.equal(r.name, "Raw");
  assert.equal(r.error, "[failed to parse as Multipart Form]");
  assert.deepEqual(texts(r), ["not multipart at all"]);
  const explicit = renderContent(enc("x"), "text/plain", "multipart");
  assert.equal(explicit.lines.at(0)![0]!.style, "error");
  assert.match(texts(explicit).join("\n"), /boundary/i);
});
