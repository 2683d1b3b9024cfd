import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, press, renderConsole, until, waitForText } from "./helpers/tui.tsx";
import { makeDetail, makeFlow, makeFlows } from "./helpers/fake-engine.ts";
import { splitPanes } from "../../src/tui/layout.ts";

test("- cycles the layout: vertical previews the focused flow's response below the list, horizontal beside it, then single again", async () => {
  const h = await renderConsole({ width: 120, height: 30 });
  try {
    h.engine.add(makeFlows(3, (i) => ({ seq: 1 + i, path: `/items/${1 + i}` })));
    await waitForText(h, "/items/3");
    await press(h, "-");
    const v = await waitForText(h, '"name": "item 1"');
    const lines = v.split("\n");
    const listAt = lines.findIndex((l) => l.includes("/items/3"));
    const tabsAt = lines.findIndex((l) => /Request +\[Response\] +Detail/.test(l));
    assert.ok(listAt >= 0 && tabsAt > listAt, "the preview (on its Response tab) is below the list");
    assert.equal(h.engine.requests.filter((r) => r.op === "detail").length, 1);
    // The focus moves: once it rests, the preview follows.
    await press(h, "j");
    await waitForText(h, '"name": "item 2"');
    await press(h, "-");
    const hz = await waitForText(h, '"name": "item 2"');
    assert.ok(hz.split("\n").some((l) => /\/items\/2.*│ Request \[Response\] Detail/.test(l)), `the focused row beside the preview's tabs, a rule between:\n${hz}`);
    // Tab switches the preview's tab; Enter opens the flow view on it.
    assert.match(await press(h, KEY.tab), /Request +Response +\[Detail\]/);
    assert.match(await press(h, KEY.enter), /^ ?Request +Response +\[Detail\]/m);
    await press(h, "q");
    await press(h, "-");
    assert.ok(await until(() => !h.lastFrame().includes("[Detail]")), "single: the preview is gone");
    assert.equal(h.ctrl.layout(), "single");
  } finally {
    h.unmount();
  }
});

test("a split that does not fit stays single; the list's viewport is its pane's height", () => {
  assert.deepEqual(splitPanes("vertical", 100, 20), { list: { width: 100, height: 10 }, preview: { width: 100, height: 10 } });
  assert.deepEqual(splitPanes("horizontal", 101, 20), { list: { width: 51, height: 20 }, preview: { width: 50, height: 20 } });
  assert.equal(splitPanes("vertical", 100, 4).preview, undefined);
  assert.equal(splitPanes("horizontal", 30, 20).preview, undefined);
});

test("ctrl right gives the preview pane the keys: j and G scroll its body, ctrl left gives them back to the list", async () => {
  const h = await renderConsole({ width: 100, height: 24 });
  try {
    const [flow] = makeFlows(2, (i) => ({ seq: 1 + i, path: `/long/${1 + i}` }));
    const detail = makeDetail(flow!);
    const body = new TextEncoder().encode(Array.from({ length: 80 }, (_, i) => `line ${i + 1}`).join("\n"));
    h.engine.details.set(flow!.id, { ...detail, response: { ...detail.response!, body, bodySize: body.length, contentType: "text/plain" } });
    h.engine.add(makeFlows(2, (i) => ({ seq: 1 + i, path: `/long/${1 + i}`, id: i === 0 ? flow!.id : `other-${i}` })));
    await waitForText(h, "/long/2");
    await press(h, "-");
    await waitForText(h, "line 1");
    assert.equal(h.ctrl.state.previewFocused, false);
    await press(h, KEY.ctrlRight);
    assert.equal(h.ctrl.state.previewFocused, true);
    await press(h, "j");
    await press(h, "j");
    assert.equal(h.ctrl.state.preview?.scroll, 2, "j scrolled the preview");
    assert.equal(h.ctrl.store.focusIndex(), 0, "the list's focus stayed");
    const end = await press(h, "G");
    assert.match(end, /line 80/);
    assert.doesNotMatch(end, /line 1\n/);
    await press(h, KEY.ctrlLeft);
    await press(h, "j");
    assert.equal(h.ctrl.store.focusIndex(), 1, "the list has the keys again");
    // shift tab is mitmproxy's key for the next pane too.
    await press(h, KEY.shiftTab);
    assert.equal(h.ctrl.state.previewFocused, true, "shift tab gave the keys to the preview");
  } finally {
    h.unmount();
  }
});

test("ctrl right with one pane says how to split", async () => {
  const h = await renderConsole();
  try {
    assert.match(await press(h, KEY.ctrlRight), /one pane only: - splits the screen/);
  } finally {
    h.unmount();
  }
});

test("the preview wraps long lines at its own width, below the list and again beside it", async () => {
  const h = await renderConsole({ width: 100, height: 30 });
  try {
    const [f] = makeFlows(1, () => ({ seq: 1, path: "/p" }));
    const base = makeDetail(f!);
    const csp = Array.from({ length: 10 }, (_, i) => `script-src-${i} https://cdn${i}.example.com`).join("; ");
    h.engine.details.set(f!.id, { ...base, response: { ...base.response!, headers: [...base.response!.headers, ["Content-Security-Policy", csp]] } });
    h.engine.add([f!]);
    await waitForText(h, "/1]");
    // The value's rows, right of the rule when beside the list.
    const valueRows = (frame: string, beside: boolean) => {
      const lines = frame.split("\n").map((l) => (beside ? l.slice(l.indexOf("│") + 1) : l));
      const at = lines.findIndex((l) => l.startsWith("Content-Security-Policy: "));
      const rows = [lines[at]!];
      for (let i = at + 1; lines[i]?.startsWith("    "); i++) rows.push(lines[i]!);
      return rows;
    };
    await press(h, "-");
    // Nothing of the value is lost (a word too long for half a row is cut, so compare without spaces).
    const whole = (rows: string[]) => rows.join("").replace(/\s/g, "");
    const below = valueRows(await waitForText(h, "Content-Security-Policy"), false);
    assert.equal(whole(below), `Content-Security-Policy:${csp}`.replace(/\s/g, ""));
    await press(h, "-");
    assert.ok(await until(() => valueRows(h.lastFrame(), true).length > below.length), h.lastFrame());
    const beside = valueRows(h.lastFrame(), true);
    assert.equal(whole(beside), `Content-Security-Policy:${csp}`.replace(/\s/g, ""), h.lastFrame());
    assert.ok(beside.every((r) => r.trimEnd().length <= 49), beside.join("\n"));
  } finally {
    h.unmount();
  }
});

test("beside the preview at 80 columns, a TCP or UDP row keeps its type where the method goes and an HTTP row its method and status; the addresses are cut", async () => {
  const h = await renderConsole({ width: 80, height: 24 });
  try {
    const stream = (seq: number, type: "tcp" | "udp") =>
      makeFlow({ seq, type, scheme: type, method: "", host: "127.0.0.1", port: 7000, url: `${type}://127.0.0.1:7000`, path: "", client: "127.0.0.1:56532", server: "127.0.0.1:7000", status: undefined, reason: undefined, contentType: undefined, reqSize: 5, respSize: 5, duration: 0.5 });
    h.engine.add([makeFlow({ seq: 1, path: "/a/b/c" }), stream(2, "tcp"), stream(3, "udp")]);
    await waitForText(h, "/a/b/c");
    await press(h, "-");
    await press(h, "-");
    assert.equal(h.ctrl.layout(), "horizontal");
    const list = (await waitForText(h, "│")).split("\n").map((l) => l.slice(0, l.indexOf("│")));
    assert.equal(list[0]!.length, 40, "the list pane is half of 80 columns");
    assert.match(list[0]!, /^>> {4}GET {2}….*\/a\/b\/c 200 +1\.2k$/);
    // Both endpoints keep their ports, each cut from its start.
    assert.match(list[1]!, /^ {6}TCP {2}…[\d.]*:\d+ <-> …[\d.]*:\d+ +10b$/);
    assert.match(list[2]!, /^ {6}UDP {2}…/);
  } finally {
    h.unmount();
  }
});
