import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ViewName } from "../../../src/tui/contentviews/index.ts";
import { VIEW_NAMES, lineArray, renderContent, searchLines, lineText } from "../../../src/tui/contentviews/index.ts";

const CONTENT_TYPES = [undefined, "application/json", "multipart/form-data; boundary=b", "text/html", "text/css", "image/png", "text/plain"];
// Arbitrary bytes biased towards the characters the formatters treat specially.
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .array(fc.constantFrom(..."{}[]\":,<>/=!-?&%+;*'\\\r\n\t\x1b 0a1.eE--b".split("")), { maxLength: 200 })
    .map((cs) => new TextEncoder().encode(cs.join(""))),
);

test("no view throws, and no line contains a newline or a terminal control character", () => {
  fc.assert(
    fc.property(body, fc.constantFrom(...VIEW_NAMES), fc.constantFrom(...CONTENT_TYPES), fc.integer({ min: 0, max: 40 }), (b, view: ViewName, ct, maxLines) => {
      const r = renderContent(b, ct, view, { maxLines, query: [["q", "\x1b"]] });
      assert.ok(r.lines.length <= maxLines + (lineArray(r.lines).some((l) => l[0]?.style === "error") ? 50 : 1));
      for (const line of r.lines) {
        for (const seg of line) assert.doesNotMatch(seg.text, /[\x00-\x1f\x7f-\x9f]/, `${view} ${JSON.stringify(seg.text)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test("hex line count is ceil(n / 16) for any body", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), (b) => {
      assert.equal(renderContent(b, undefined, "hex", { maxLines: Infinity }).lines.length, Math.ceil(b.length / 16));
    }),
  );
});

test("searchLines returns a line containing the term, or undefined only if none does", () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 10 }), fc.string({ minLength: 1, maxLength: 2 }), fc.integer({ min: -1, max: 10 }), fc.boolean(), (strs, term, from, back) => {
      const lines = strs.map((s) => [{ text: s }]);
      const hit = searchLines(lines, term, from, back);
      const any = strs.some((s) => s.toLowerCase().includes(term.toLowerCase()));
      if (hit === undefined) assert.ok(!any);
      else assert.ok(lineText(lines[hit]!).toLowerCase().includes(term.toLowerCase()));
    }),
  );
});
