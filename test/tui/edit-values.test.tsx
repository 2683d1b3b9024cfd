/**
 * `e` on a flow: the chooser of parts, and single values edited in the prompt (method, status code,
 * url, comment), each sent as one `edit` request; an engine refusal shows and changes nothing.
 */
import { test } from "node:test";
import { partsFor } from "../../src/tui/edit/parts.ts";
import assert from "node:assert/strict";
import { KEY, focusedLine, press, pressEach, renderConsole, until, waitForText } from "./helpers/tui.tsx";
import { makeFlow } from "./helpers/fake-engine.ts";
import { editPart, showFlows } from "./helpers/edit.ts";
import { HTTP_PARTS } from "../../src/tui/edit/parts.ts";
import { CHOOSER_SHORTCUTS } from "../../src/tui/controller.ts";

const edits = (h: { engine: { requests: { op: string }[] } }) => h.engine.requests.filter((r) => r.op === "edit");

test("e opens the Edit chooser with every part and a one-key shortcut for each", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    await showFlows(h, [makeFlow({ seq: 1 })]);
    const f = await press(h, "e");
    assert.match(f, /Edit\.\.\./);
    HTTP_PARTS.forEach((p, i) => assert.ok(f.includes(`${CHOOSER_SHORTCUTS[i]} ${p}`), `${CHOOSER_SHORTCUTS[i]} ${p} in\n${f}`));
    assert.deepEqual(
      [...HTTP_PARTS],
      ["cookies", "urlencoded form", "multipart form", "path", "method", "query", "reason", "request-headers", "response-headers", "request-body", "response-body", "status_code", "set-cookies", "url", "comment", "raw request", "raw response"],
    );
    await press(h, KEY.esc);
    assert.ok(!h.lastFrame().includes("Edit..."));
    assert.equal(edits(h).length, 0);
  } finally {
    h.unmount();
  }
});

test("the edit chooser shows all its parts on a 24-row terminal, as mitmproxy's does, and the edited flow's row above it", async () => {
  const h = await renderConsole({ height: 24 });
  try {
    await showFlows(h, [makeFlow({ seq: 1, path: "/the-flow" })]);
    const f = await press(h, "e");
    assert.match(f, /Edit\.\.\. \(key or ⏎ to pick/, "no scroll position: nothing out of sight");
    assert.ok(f.includes("raw response"), f);
    assert.match(f.split("\n")[0]!, /^>>.*\/the-flow/);
    await press(h, KEY.esc);
    // Over the flow view, its line and its tabs stay in sight; the body gives way.
    await press(h, KEY.enter);
    const v = (await press(h, "e")).split("\n");
    assert.match(v[0]!, /^GET https:\/\/api\.example\.com\/the-flow/);
    assert.match(v[1]!, /\[Request\] +Response +Detail/);
    assert.match(v[2]!, /^┌/);
    await press(h, KEY.esc);
  } finally {
    h.unmount();
  }
});

test("a chooser with more choices than rows says where it stands and which way the rest is; moving down shows the last", async () => {
  const h = await renderConsole({ height: 16 });
  try {
    await showFlows(h, [makeFlow({ seq: 1 })]);
    const f = await press(h, "e");
    assert.match(f, /Edit\.\.\. ⇩ 1-\d+ of 17 \(key or ⏎ to pick/);
    assert.ok(!f.includes("raw response"), "the last choice is out of sight");
    let last = f;
    for (let i = 0; i < 16; i++) last = await press(h, "j");
    assert.match(last, /Edit\.\.\. ⇧ \d+-17 of 17/);
    assert.ok(last.includes("raw response"));
    await press(h, KEY.esc);
  } finally {
    h.unmount();
  }
});

test("choosing method opens the prompt on the current value; Enter sends {method} and the list shows it", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1, path: "/login" });
    await showFlows(h, [flow]);
    const p = await editPart(h, "5");
    assert.match(p, /^method: GET/m);
    await pressEach(h, [KEY.backspace, KEY.backspace, KEY.backspace]);
    await press(h, "POST");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0], { id: flow.id, patch: { method: "POST" } });
    const after = await waitForText(h, /^>>.*POST/m);
    assert.match(focusedLine(after)!, /POST .*\/login/);
    assert.match(after, /edited method/);
  } finally {
    h.unmount();
  }
});

test("an engine refusal (invalid method) shows in the status bar and the flow stays as it was", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1 });
    await showFlows(h, [flow]);
    await editPart(h, "5");
    await press(h, " X");
    await press(h, KEY.enter);
    const f = await waitForText(h, 'invalid HTTP method "GET X"');
    assert.equal(edits(h).length, 1, "the edit was sent");
    assert.equal(h.engine.edits.length, 0, "and refused");
    assert.equal(h.engine.flows.get(flow.id)!.method, "GET");
    assert.match(focusedLine(f)!, /GET /);
    assert.ok(!f.includes("method: "), "the prompt closed");
  } finally {
    h.unmount();
  }
});

test("status_code from the flow view: a number is sent as statusCode, anything else is refused by the console", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1 });
    await showFlows(h, [flow]);
    await press(h, KEY.enter);
    await waitForText(h, "User-Agent");
    const p = await editPart(h, "c");
    assert.match(p, /^status code: 200/m);
    await pressEach(h, [KEY.backspace, KEY.backspace, KEY.backspace]);
    await press(h, "4o4");
    await press(h, KEY.enter);
    await waitForText(h, 'invalid status code "4o4"');
    assert.equal(edits(h).length, 0);

    await editPart(h, "c");
    await pressEach(h, [KEY.backspace, KEY.backspace, KEY.backspace]);
    await press(h, "404");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0]!.patch, { statusCode: 404 });
    // The view fetches the flow again and shows the new status.
    await waitForText(h, /404 OK/);

    await editPart(h, "c");
    await pressEach(h, [KEY.backspace, KEY.backspace, KEY.backspace]);
    await press(h, "1000");
    await press(h, KEY.enter);
    await waitForText(h, "invalid status code 1000: must be an integer from 100 to 999");
    assert.equal(h.engine.edits.length, 1);
    assert.equal(h.engine.flows.get(flow.id)!.status, 404);
  } finally {
    h.unmount();
  }
});

test("url, path and reason start from the flow's values; Esc sends nothing; an unchanged value sends nothing", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1, path: "/a?b=1" });
    await showFlows(h, [flow]);
    assert.match(await editPart(h, "e"), /^url: https:\/\/api\.example\.com\/a\?b=1/m);
    await press(h, KEY.esc);
    assert.match(await editPart(h, "4"), /^path: \/a\?b=1/m);
    await press(h, KEY.enter);
    assert.match(await editPart(h, "7"), /^reason: OK/m);
    await press(h, " then some");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0]!.patch, { reason: "OK then some" });
    assert.equal(edits(h).length, 1);
  } finally {
    h.unmount();
  }
});

test("comment: HTTP flows get an edit; other flows (DNS) offer only the comment, set with flow.comment", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const web = makeFlow({ seq: 1 });
    const dns = makeFlow({ seq: 2, type: "dns", method: "QUERY", host: "example.com", path: "A" });
    await showFlows(h, [web, dns]);
    await editPart(h, "f");
    await press(h, "first look");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0]!.patch, { comment: "first look" });

    await press(h, "j");
    const f = await press(h, "e");
    assert.match(f, /1 comment/);
    assert.ok(!f.includes("method"), f);
    await press(h, "1");
    await press(h, "it's DNS");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.commandLines().some((l) => l.startsWith("flow.comment"))));
    assert.deepEqual(h.engine.commandLines(), [`flow.comment ${dns.id} "it's DNS"`]);
  } finally {
    h.unmount();
  }
});

test("console.edit.focus takes a part by name; a bad part or no flow is an error", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    await h.ctrl.run("console.edit.focus method");
    assert.match(h.ctrl.state.message!.text, /no flow is in focus/);
    await showFlows(h, [makeFlow({ seq: 1 })]);
    await h.ctrl.run("console.edit.focus bogus");
    assert.match(h.ctrl.state.message!.text, /cannot edit "bogus"; one of cookies, urlencoded form/);
    await h.ctrl.run("console.edit.focus status");
    assert.equal(h.ctrl.state.prompt?.label, "status code: ");
    await h.ctrl.run("console.prompt.abort");
    // Tab offers the focused flow's parts (flow.encode's `part`, request or response, is another parameter).
    const line = "console.edit.focus u";
    assert.deepEqual((await h.ctrl.completions(line, line.length)).candidates, ["url", "urlencoded form"]);
    // From the prompt, a list wider than the status line opens in the data viewer, one item a line.
    await h.ctrl.run("console.edit.focus.options", true);
    const top = h.ctrl.state.stack.at(-1)!;
    assert.ok(top.kind === "help" && top.title === "Data viewer");
    assert.deepEqual(top.lines.slice(0, 4).map((l) => l.map((s) => s.text).join("")), ["cookies", "urlencoded form", "multipart form", "path"]);
  } finally {
    h.unmount();
  }
});

test("e on a WebSocket flow held at a message offers that message first; one not held at a message, last", () => {
  const held = makeFlow({ seq: 1, messages: 2, intercepted: true, interceptedAt: "message" });
  assert.equal(partsFor(held)[0], "websocket-message");
  const open = makeFlow({ seq: 2, messages: 2 });
  assert.equal(partsFor(open).at(-1), "websocket-message");
  assert.equal(partsFor(open)[0], "cookies");
});

test("e on a flow still in progress and not paused says so before any editor opens; its comment can still be set", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1, path: "/slow", live: true, status: undefined });
    await showFlows(h, [flow]);
    await editPart(h, "5");
    const f = await waitForText(h, "the flow is still in progress");
    assert.ok(!f.includes("method: "), "no prompt opened");
    assert.equal(h.engine.edits.length, 0);
  } finally {
    h.unmount();
  }
});
