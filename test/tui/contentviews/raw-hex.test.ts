import { test } from "node:test";
import assert from "node:assert/strict";
import { renderContent } from "../../../src/tui/contentviews/index.ts";
import { concat, enc, texts } from "./helpers.ts";

test("raw: splits on LF and CRLF, escapes controls, expands tabs", () => {
  const r = renderContent(enc("GET done\r\n\x1b[31mred\x1b[0m\nname\tvalue\nlast"), "text/plain", "raw");
  assert.equal(r.name, "Raw");
  assert.deepEqual(texts(r), ["GET done", "\\x1b[31mred\\x1b[0m", "name    value", "last"]);
});

test("raw: a trailing newline adds no empty line, blank lines inside are kept", () => {
  assert.deepEqual(texts(renderContent(enc("a\n\nb\n"), undefined, "raw")), ["a", "", "b"]);
  assert.deepEqual(texts(renderContent(new Uint8Array(0), undefined, "raw")), []);
});

test("raw: invalid UTF-8 bytes show as \\xNN, valid multi-byte text is kept, C1 controls are escaped", () => {
  const body = concat("caf", [0xe9], " – ok ", [0xc2, 0x9b], "x");
  assert.deepEqual(texts(renderContent(body, undefined, "raw")), ["caf\\xe9 – ok \\x9bx"]);
});

test("raw: bytes that are not text (as many invalid bytes as characters beyond ASCII) are escaped whole, not drawn as the stray glyphs some of them form", () => {
  // A gzip stream labelled br, as a helper saw it: 0xd2 0x93 is valid UTF-8 (ғ) among invalid bytes.
  assert.deepEqual(texts(renderContent(Uint8Array.from([0x1f, 0xf3, 0xd2, 0x93, 0x8a, 0x41]), undefined, "raw")), ["\\x1f\\xf3\\xd2\\x93\\x8aA"]);
});

test("raw: a lone CR is shown, not used as a line break", () => {
  assert.deepEqual(texts(renderContent(enc("50%\r100%"), undefined, "raw")), ["50%\\x0d100%"]);
});

test("hex: offset, two groups of 8, padded ASCII column", () => {
  const r = renderContent(enc("Hello world\n"), undefined, "hex");
  assert.equal(r.name, "Hex");
  assert.deepEqual(texts(r), ["00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              Hello world."]);
  assert.equal(r.lines.at(0)![0]!.style, "offset");
});

test("hex: full and partial lines, non-printables as dots", () => {
  const body = Uint8Array.from({ length: 21 }, (_, i) => (i < 16 ? 0x41 + i : i * 10));
  assert.deepEqual(texts(renderContent(body, undefined, "hex")), [
    "00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP",
    "00000010  a0 aa b4 be c8                                    .....",
  ]);
});

test("javascript: raw lines under its own name", () => {
  const r = renderContent(enc("function f() {\n\treturn 1;\n}\n"), "application/javascript", "auto");
  assert.equal(r.name, "JavaScript");
  assert.deepEqual(texts(r), ["function f() {", "        return 1;", "}"]);
});
