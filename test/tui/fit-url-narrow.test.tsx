import { test } from "node:test";
import assert from "node:assert/strict";
import { columns, fitUrl, flowRowCells, rowLayout, UNICODE_GLYPHS } from "../../src/tui/format.ts";
import { makeFlow } from "./helpers/fake-engine.ts";

test("fitUrl never goes past its width, and a narrow column shares it between the host's end and the path's start", () => {
  const hosts = ["127.0.0.1:28080", "very.long.subdomain.chain.example.com", "example.com", "主机名.example"];
  const paths = ["/api/items/42", "/", "/x", `/${"日本語".repeat(5)}`];
  for (const host of hosts)
    for (const path of paths)
      for (let w = 1; w <= 60; w++) {
        const s = fitUrl(host, path, w);
        assert.ok(columns(s) <= w, `${host} ${path} at ${w}: ${JSON.stringify(s)} is ${columns(s)} columns`);
        if (columns(host + path) <= w) {
          assert.equal(s, host + path);
          continue;
        }
        // What is shown of the host is its whole or its end after an ellipsis, never its middle.
        const slash = s.indexOf("/");
        const shownHost = slash < 0 ? s.replace(/…$/, "") : s.slice(0, slash);
        assert.ok(shownHost === host || (shownHost.startsWith("…") && host.endsWith(shownHost.slice(1))) || shownHost === "" || host.endsWith(shownHost), `${host} ${path} at ${w}: ${JSON.stringify(s)}`);
        // From 6 columns on, a path of more than "/" keeps a part of it.
        if (w >= 6 && path.length > 1) assert.ok(slash >= 0 && s.length - slash >= 2, `${host} ${path} at ${w}: ${JSON.stringify(s)}`);
      }
  assert.equal(fitUrl("127.0.0.1:28080", "/api/items/42", 9), "…080/api…");
  assert.equal(fitUrl("127.0.0.1:28080", "/api/items/42", 14), "…:28080/api/i…");
});

test("a 30-column terminal's rows show the path, not the middle of the host", () => {
  const l = rowLayout(30);
  const text = flowRowCells(makeFlow({ host: "127.0.0.1", port: 28080, path: "/api/items/42" }), false, l, UNICODE_GLYPHS)
    .map((c) => c.text)
    .join("");
  assert.equal(columns(text), 30, JSON.stringify(text));
  assert.match(text, / …080\/api… /);
  assert.doesNotMatch(text, /0\.0\.1:28 /);
});
