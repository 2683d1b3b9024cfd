import { test } from "node:test";
import assert from "node:assert/strict";
import { renderContent } from "../../../src/tui/contentviews/index.ts";
import { enc, styleOf, texts } from "./helpers.ts";

test("xml: one tag per line, indented by nesting, short text folded", () => {
  const body = enc('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Example</title><link href="https://example.com/"/><entry><id>urn:1</id><summary>  </summary><!-- note --><content><![CDATA[a < b]]></content></entry></feed>');
  const r = renderContent(body, "application/atom+xml", "auto");
  assert.equal(r.name, "XML/HTML");
  assert.deepEqual(texts(r), [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    "  <title>Example</title>",
    '  <link href="https://example.com/"/>',
    "  <entry>",
    "    <id>urn:1</id>",
    "    <summary></summary>",
    "    <!-- note -->",
    "    <content>",
    "      <![CDATA[a < b]]>",
    "    </content>",
    "  </entry>",
    "</feed>",
  ]);
  assert.equal(styleOf(r, "feed"), "key");
  assert.equal(styleOf(r, '"http://www.w3.org/2005/Atom"'), "string");
  assert.equal(styleOf(r, "<!-- note -->"), "dim");
});

test("html: void elements, raw script text, unclosed elements and stray closers", () => {
  const body = enc(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><script>
    if (a < b && c > d) {
      go("</div>");
    }
</script></head>
<body><ul><li>one<li>two</ul></span><img src="x.png" alt='a > b'></body></html>`);
  const r = renderContent(body, "text/html; charset=utf-8", "auto");
  assert.deepEqual(texts(r), [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    '    <meta charset="utf-8">',
    "    <script>",
    "      if (a < b && c > d) {",
    '        go("</div>");',
    "      }",
    "    </script>",
    "  </head>",
    "  <body>",
    "    <ul>",
    "      <li>",
    "        one",
    "        <li>",
    "          two",
    "    </ul>",
    "    </span>",
    "    <img src=\"x.png\" alt='a > b'>",
    "  </body>",
    "</html>",
  ]);
});

test("xml: unterminated markup is shown, not dropped", () => {
  assert.deepEqual(texts(renderContent(enc("<a>x</a><b attr=\"1"), "text/xml", "xml")), ["<a>x</a>", '<b attr="1']);
});

test("css: one declaration per line, nested blocks, strings and url() left intact", () => {
  const body = enc('@import url("base.css");@media (max-width:600px){.nav a:hover,.nav b{color:#fff;background:url(data:image/png;base64,AA==) no-repeat}}/* footer */\nfooter{content:"a;b{}";margin:0  auto}');
  const r = renderContent(body, "text/css", "auto");
  assert.equal(r.name, "CSS");
  assert.deepEqual(texts(r), [
    '@import url("base.css");',
    "@media (max-width:600px) {",
    "  .nav a:hover,.nav b {",
    "    color: #fff;",
    "    background: url(data:image/png;base64,AA==) no-repeat",
    "  }",
    "}",
    "/* footer */",
    "footer {",
    '  content: "a;b{}";',
    "  margin: 0 auto",
    "}",
  ]);
  assert.equal(styleOf(r, "color"), "key");
  assert.equal(styleOf(r, "footer"), "heading");
});
