import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, focusedLine, press, renderConsole, waitForText } from "./helpers/tui.tsx";
import { makeFlow } from "./helpers/fake-engine.ts";
import type { FlowSummary } from "../../src/protocol.ts";

test("100,000 flows: only the visible rows are drawn and keys still repaint", async () => {
  const h = await renderConsole({ width: 100, height: 30 });
  try {
    // As the engine sends them under a flood: many batches of a few thousand.
    const all: FlowSummary[] = [];
    for (let i = 0; i < 100_000; i++) all.push(makeFlow({ seq: i + 1, path: `/bulk/${i + 1}` }));
    for (let i = 0; i < all.length; i += 5000) h.engine.add(all.slice(i, i + 5000));
    const f = await waitForText(h, "/100000]", 5000);
    const lines = f.split("\n");
    assert.ok(lines.length <= 30, `frame has ${lines.length} lines`);
    assert.equal(lines.filter((l) => l.includes("/bulk/")).length, 28);

    let fr = await press(h, "j");
    assert.match(focusedLine(fr)!, /\/bulk\/2 /);
    fr = await press(h, "G");
    assert.match(focusedLine(fr)!, /\/bulk\/100000 /);
    assert.ok(fr.split("\n").length <= 30);
    fr = await press(h, KEY.enter);
    await waitForText(h, "GET https://api.example.com/bulk/100000 HTTP/1.1");
    fr = await press(h, "q");
    assert.match(focusedLine(fr)!, /\/bulk\/100000 /);
    fr = await press(h, "k");
    assert.match(focusedLine(fr)!, /\/bulk\/99999 /);

    // More flows arriving while the user looks at the top do not move the view.
    await press(h, "g");
    h.engine.add([makeFlow({ seq: 100_001, path: "/bulk/100001" })]);
    fr = await waitForText(h, "/100001]");
    assert.match(focusedLine(fr)!, /\/bulk\/1 /);
  } finally {
    h.unmount();
  }
});
