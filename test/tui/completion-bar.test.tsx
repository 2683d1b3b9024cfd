import { test } from "node:test";
import assert from "node:assert/strict";
// Colour support is decided when chalk loads: force it before Ink is imported, so the mark shows in frames.
process.env["FORCE_COLOR"] = "1";
const { renderConsole, press, KEY, waitForText } = await import("./helpers/tui.tsx");
const { candidatePage } = await import("../../src/tui/components/status-bar.tsx");

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
/** The line above the prompt: the completion candidates. */
const barLine = (frame: string) => {
  const lines = frame.split("\n");
  const prompt = lines.findIndex((l) => plain(l).startsWith(": "));
  return lines[prompt - 1] ?? "";
};
/** The text the bar draws inverse: the candidate marked as current. */
const marked = (line: string) => /\x1b\[7m(?:\x1b\[[0-9;]*m)*([^\x1b]*)/.exec(line)?.[1];

test("the completion bar follows Tab to the page with the current candidate and marks it", async () => {
  const h = await renderConsole({ width: 60 });
  try {
    await press(h, ":");
    await press(h, "vie");
    let f = await press(h, KEY.tab);
    const first = h.ctrl.state.prompt!.completion!;
    assert.ok(first.candidates.length > 12, `enough view.* commands for several pages: ${first.candidates.join(" ")}`);
    assert.equal(marked(barLine(f)), first.candidates[0], barLine(f));
    for (let i = 1; i <= 11; i++) {
      f = await press(h, KEY.tab);
      const c = h.ctrl.state.prompt!.completion!;
      const cur = c.candidates[c.index]!;
      assert.equal(c.index, i);
      // The candidate, then (dimmed) the arguments it takes, if any.
      assert.match(plain(f), new RegExp(`^: ${cur.replace(/\./g, "\\.")}(?: ?| [a-z[*].*)$`, "m"));
      const bar = barLine(f);
      assert.equal(marked(bar), cur, `Tab ${i}: ${JSON.stringify(bar)}`);
      assert.ok(plain(bar).length <= 60, bar);
    }
    // By now the bar has turned a page: the first candidate is off it, an ellipsis says so.
    assert.ok(!plain(barLine(f)).includes(`${first.candidates[0]}  `), barLine(f));
    assert.match(plain(barLine(f)), /^… /);
    // Back with shift-Tab to the first page.
    for (let i = 0; i < 11; i++) f = await press(h, KEY.shiftTab);
    assert.equal(marked(barLine(f)), first.candidates[0]);
    // Typing ends the cycle and the bar: the status line is back.
    await press(h, "x");
    f = await waitForText(h, `${first.candidates[0]}x`);
    assert.match(plain(barLine(f)), /\[0\/0\]/);
  } finally {
    h.unmount();
  }
});

test("candidatePage cuts pages from the first candidate and keeps the current one on screen", () => {
  const labels = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
  // 20 columns leave 15 for the labels (the two ellipsis markers take 5).
  assert.deepEqual(candidatePage(labels, 0, 20, "…"), { before: "", current: "alpha", after: "  beta  …" });
  assert.deepEqual(candidatePage(labels, 1, 20, "…"), { before: "alpha  ", current: "beta", after: "  …" });
  assert.deepEqual(candidatePage(labels, 2, 20, "…"), { before: "… ", current: "gamma", after: "  delta  …" });
  assert.deepEqual(candidatePage(labels, 5, 20, "…"), { before: "… epsilon  ", current: "zeta", after: "" });
  // One wider than the room still gets a page of its own.
  assert.deepEqual(candidatePage(["a", "a-very-long-candidate-name", "b"], 1, 20, "…"), { before: "… ", current: "a-very-long-candidate-name", after: "  …" });
  // Everything fits: no markers.
  assert.deepEqual(candidatePage(["a", "b", "c"], 1, 80, "…"), { before: "a  ", current: "b", after: "  c" });
});

test("Tab in a filter completes its operators, listed with their help", async () => {
  const h = await renderConsole({ width: 100 });
  try {
    // `f`: the view filter's prompt, the cursor inside its quotes.
    await press(h, "f");
    await press(h, "~");
    let f = await press(h, KEY.tab);
    const c = h.ctrl.state.prompt!.completion!;
    assert.ok(c.candidates.includes("~websocket") && c.candidates.includes("~c"), c.candidates.join(" "));
    assert.equal(c.candidates[0], "~a");
    assert.match(plain(f), /^: set view_filter '~a'$/m);
    assert.match(marked(barLine(f)) ?? "", /^~a: Match asset in response/);
    // Further into the filter, after a connective: only the operator at the cursor is replaced.
    await press(h, KEY.esc);
    await press(h, "i");
    await press(h, "!~q & ~b");
    f = await press(h, KEY.tab);
    assert.deepEqual(h.ctrl.state.prompt!.completion!.candidates, ["~b", "~bq", "~bs"]);
    assert.match(plain(f), /^: set intercept '!~q & ~b'$/m);
    assert.match(plain(barLine(f)), /~b regex: Body {2}~bq regex: Request body {2}~bs regex: Response body/);
    // One match is put in whole, its help above the prompt.
    await press(h, KEY.esc);
    await press(h, ":");
    await press(h, "flow.resume ~webs");
    f = await press(h, KEY.tab);
    assert.match(plain(f), /^: flow\.resume ~websocket +$/m);
    assert.match(plain(barLine(f)), /~websocket: Match WebSocket flows/);
  } finally {
    h.unmount();
  }
});
