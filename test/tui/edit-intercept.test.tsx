/**
 * Paused flows in the console: the list and the flow view say "intercepted"; a, A, X, r, D and V
 * reach the engine from the list and from the view; a bad intercept or view filter shows the
 * parser's message with its position and the old filter stays.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, focusedLine, press, renderConsole, until, waitForText } from "./helpers/tui.tsx";
import { makeFlow } from "./helpers/fake-engine.ts";
import { conciseError } from "../../src/tui/errors.ts";

test("an intercepted flow says so in the list row and in the flow view's tab titles", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    const req = makeFlow({ seq: 1, path: "/login", status: undefined, reason: undefined, respSize: undefined, live: true, intercepted: true, interceptedAt: "request" });
    const resp = makeFlow({ seq: 2, path: "/api", live: true, intercepted: true, interceptedAt: "response" });
    const done = makeFlow({ seq: 3, path: "/done" });
    h.engine.add([req, resp, done]);
    const f = await waitForText(h, "/3] [intercepted:2]");
    const row = (p: string) => f.split("\n").find((l) => l.includes(p))!;
    assert.match(row("/login"), /intercepted/);
    assert.match(row("/api"), /200 intercepted/);
    assert.doesNotMatch(row("/done"), /intercepted/);

    await press(h, KEY.enter);
    const v1 = await waitForText(h, "[Request intercepted]");
    assert.match(v1, /\[Request intercepted\] +Response +Detail/);
    assert.match(v1.split("\n")[0]!, /\/login +intercepted /);
    await press(h, "q");
    await press(h, "j");
    await press(h, KEY.enter);
    const v2 = await waitForText(h, "Response intercepted");
    assert.match(v2, /\[Request\] +Response intercepted +Detail/);
    assert.match(v2.split("\n")[0]!, /\/api +200 OK intercepted /);

    // Resumed: the titles go back to plain.
    h.engine.update([{ ...resp, intercepted: false, interceptedAt: undefined, live: false }]);
    const v3 = await waitForText(h, /\[Request\] +Response +Detail/);
    assert.doesNotMatch(v3.split("\n").slice(0, 2).join("\n"), /intercepted/);
  } finally {
    h.unmount();
  }
});

test("a, A, X, r, D and V run the flow commands on the focused flow, from the list and from the flow view", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    const flows = [makeFlow({ seq: 1, intercepted: true, interceptedAt: "request", status: undefined, live: true }), makeFlow({ seq: 2, modified: true })];
    h.engine.add(flows);
    await waitForText(h, "/2]");
    const expected = (id: string) => [`flow.resume ${id}`, "flow.resume @all", `flow.kill ${id}`, `replay.client ${id}`, `view.flows.duplicate ${id}`, `flow.revert ${id}`];
    for (const k of ["a", "A", "X", "r", "D", "V"]) await press(h, k);
    assert.ok(await until(() => h.engine.commandLines().length === 6));
    assert.deepEqual(h.engine.commandLines(), expected(flows[0]!.id));

    await press(h, "j");
    await press(h, KEY.enter);
    await waitForText(h, "User-Agent");
    for (const k of ["a", "A", "X", "r", "D", "V"]) await press(h, k);
    assert.ok(await until(() => h.engine.commandLines().length === 12));
    assert.deepEqual(h.engine.commandLines().slice(6), expected(flows[1]!.id));
    assert.match(h.lastFrame(), /\[Request\]/, "still in the flow view");
  } finally {
    h.unmount();
  }
});

test("a bad intercept filter shows the parser's message with the position; the old filter stays", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await press(h, "i");
    await press(h, "~q");
    await press(h, KEY.enter);
    await waitForText(h, "[i:~q]");

    await press(h, "i");
    assert.match(h.lastFrame(), /: set intercept '~q'/, "the prompt starts from the current filter");
    await press(h, " & ~bogus");
    await press(h, KEY.enter);
    const f = await waitForText(h, "Invalid filter expression");
    assert.match(f, /intercept: Invalid filter expression at column 6: unknown operator ~bogus/);
    assert.match(f, /\[i:~q\]/, "the old filter is still in force");
    assert.equal(h.engine.options.find((o) => o.name === "intercept")!.value, "~q");
    // The caret line is in the event log.
    assert.ok(h.ctrl.logs.all().some((e) => e.msg.includes("\n  ~q & ~bogus\n       ^")));
  } finally {
    h.unmount();
  }
});

test("a bad view filter from f: the message with the position, the list and [f:…] unchanged", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/alpha" }), makeFlow({ seq: 2, path: "/beta" })]);
    await waitForText(h, "/2]");
    await press(h, "f");
    await press(h, "~u alpha");
    await press(h, KEY.enter);
    await waitForText(h, "[1/1 of 2] [f:~u alpha]");
    await press(h, "f");
    // The cursor starts inside the closing quote: this makes "~u alpha ~bogus".
    await press(h, " ~bogus");
    await press(h, KEY.enter);
    const f = await waitForText(h, "Invalid filter expression");
    assert.match(f, /view_filter: Invalid filter expression at column 10: unknown operator ~bogus/);
    assert.match(f, /\[1\/1 of 2\] \[f:~u alpha\]/);
    assert.match(focusedLine(f)!, /\/alpha/);
  } finally {
    h.unmount();
  }
});

test("conciseError: the parser's line without the option's preamble; other multi-line errors keep their first line, the whole text for the event log", () => {
  const engineText =
    'option intercept expects a filter expression (empty for none), got "~q &": Invalid filter expression at column 4: expected an expression after &\n  ~q &\n     ^';
  assert.deepEqual(conciseError(engineText), { short: "intercept: Invalid filter expression at column 4: expected an expression after &", full: engineText });
  assert.deepEqual(conciseError("plain"), { short: "plain", full: undefined });
  assert.deepEqual(conciseError("first\nsecond"), { short: "first", full: "first\nsecond" });
});
