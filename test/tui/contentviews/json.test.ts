import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { renderContent } from "../../../src/tui/contentviews/index.ts";
import { enc, styleOf, texts } from "./helpers.ts";

const API_RESPONSE = `{"user":{"id":18446744073709551615,"name":"Zoë \\u00e9\\ud83d\\ude00","tags":["a\\"b","c\\\\d"],
  "ratio":-1.5e-7,"active":true,"deleted":false,"parent":null,"empty":{},"list":[],"nested":[[1,[2]],{"k":"v"}]},
  "id":1,"id":2}`;

test("json: pretty-prints with 2-space indent, keeps key order, duplicates and big numbers", () => {
  const r = renderContent(enc(API_RESPONSE), "application/json; charset=utf-8", "auto");
  assert.equal(r.name, "JSON");
  assert.equal(r.error, undefined);
  assert.deepEqual(texts(r), [
    "{",
    '  "user": {',
    '    "id": 18446744073709551615,',
    '    "name": "Zoë é😀",',
    '    "tags": [',
    '      "a\\"b",',
    '      "c\\\\d"',
    "    ],",
    '    "ratio": -1.5e-7,',
    '    "active": true,',
    '    "deleted": false,',
    '    "parent": null,',
    '    "empty": {},',
    '    "list": [],',
    '    "nested": [',
    "      [",
    "        1,",
    "        [",
    "          2",
    "        ]",
    "      ],",
    "      {",
    '        "k": "v"',
    "      }",
    "    ]",
    "  },",
    '  "id": 1,',
    '  "id": 2',
    "}",
  ]);
});

test("json: segment styles", () => {
  const r = renderContent(enc(API_RESPONSE), "application/json", "json");
  assert.equal(styleOf(r, '"user"'), "key");
  assert.equal(styleOf(r, '"Zoë é😀"'), "string");
  assert.equal(styleOf(r, "18446744073709551615"), "number");
  assert.equal(styleOf(r, "true"), "boolean");
  assert.equal(styleOf(r, "null"), "null");
  assert.equal(styleOf(r, ": "), "punct");
  assert.equal(styleOf(r, "{}"), "punct");
  for (const line of r.lines) for (const seg of line) assert.ok(!seg.text.includes("\n"));
});

test("json: scalars at top level, BOM, surrounding whitespace", () => {
  assert.deepEqual(texts(renderContent(enc("  42  "), "application/json", "json")), ["42"]);
  assert.deepEqual(texts(renderContent(enc('\ufeff"x"'), "application/json", "json")), ['"x"']);
});

test("json: control characters inside strings stay escaped", () => {
  const r = renderContent(enc('{"esc":"\\u001b[2J\\u009b"}'), "application/json", "json");
  assert.deepEqual(texts(r), ["{", '  "esc": "\\u001b[2J\\u009b"', "}"]);
});

test("json: invalid documents are rejected", () => {
  for (const bad of ['{"a":1,}', "[1 2]", "{'a':1}", '{"a":01}', "[1.]", "tru", '{"a":1} x', '"\u0001"', "[", "{]"]) {
    const r = renderContent(enc(bad), "application/json", "json");
    assert.equal(r.lines.at(0)![0]!.style, "error", bad);
  }
});

test("json: output equals JSON.stringify(v, null, 2) for any JSON value", () => {
  const c1 = (s: string): string => s.replace(/[\x7f-\x9f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const r = renderContent(enc(JSON.stringify(v)), "application/json", "json", { maxLines: Infinity });
      assert.equal(texts(r).join("\n"), c1(JSON.stringify(v, null, 2)));
    }),
    { numRuns: 300 },
  );
});
