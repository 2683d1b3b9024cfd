/**
 * The grid editor: headers, query and form fields as rows; a/A/d/Enter/Tab as mitmproxy's grid;
 * leaving writes everything back with one edit request, and a refused edit keeps the grid open.
 */
import { test } from "node:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { KEY, press, pressEach, renderConsole, until, waitForText, type Harness } from "./helpers/tui.tsx";
import { makeFlow } from "./helpers/fake-engine.ts";
import { editPart, showFlows } from "./helpers/edit.ts";
import * as grid from "../../src/tui/edit/grid.ts";
import { gridPatch, gridRows, queryOf } from "../../src/tui/edit/parts.ts";
import { makeDetail } from "./helpers/fake-engine.ts";
import { CHOOSER_SHORTCUTS } from "../../src/tui/controller.ts";

const edits = (h: { engine: { requests: { op: string }[] } }) => h.engine.requests.filter((r) => r.op === "edit");
const CTRL_U = "\x15";

/** `e` `5`: the request-headers grid of the focused flow; its first frame. */
async function openRequestHeaders(h: Harness): Promise<string> {
  await editPart(h, "8");
  return waitForText(h, "Edit Request Headers");
}

/** `a` adds a row after the cursor: the key typed, Tab, the value typed, Enter; the frame after. */
async function addRow(h: Harness, key: string, value: string): Promise<string> {
  await press(h, "a");
  await press(h, key);
  await press(h, KEY.tab);
  await press(h, value);
  return press(h, KEY.enter);
}

test("request-headers: add, edit and delete rows, then q writes back one patch with the edited list", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1 });
    await showFlows(h, [flow]);
    const g = await openRequestHeaders(h);
    assert.match(g, /Key +Value/);
    assert.match(g, /^>> Host +api\.example\.com/m);
    assert.match(g, /^ {3}User-Agent +curl\/8\.5\.0/m);

    // a: a new row after the cursor, its key cell ready for typing; Tab goes on to the value.
    const added = await addRow(h, "X-Edited", "yes");
    assert.match(added, /^>> X-Edited +yes/m);
    const lines = added.split("\n");
    assert.ok(lines.findIndex((l) => l.includes("X-Edited")) === lines.findIndex((l) => l.includes("Host")) + 1, "added after the cursor");

    // d on User-Agent.
    await press(h, "j");
    const del = await press(h, "d");
    assert.ok(!del.includes("User-Agent"), del);

    // Enter edits the focused cell: the value of Accept.
    assert.match(del, /^>> Accept/m);
    await press(h, "l");
    await press(h, KEY.enter);
    await press(h, CTRL_U);
    await press(h, "text/html");
    assert.match(await press(h, KEY.enter), /^>> Accept +text\/html/m);

    // A inserts before the cursor.
    await press(h, "A");
    await press(h, "X-First");
    await press(h, KEY.tab);
    await press(h, "1");
    await press(h, KEY.esc);
    assert.equal(edits(h).length, 0, "nothing is sent before leaving");

    await press(h, "q");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.equal(edits(h).length, 1, "one edit request for the whole grid");
    assert.deepEqual(h.engine.edits[0], {
      id: flow.id,
      patch: {
        requestHeaders: [
          ["Host", "api.example.com"],
          ["X-Edited", "yes"],
          ["X-First", "1"],
          ["Accept", "text/html"],
        ],
      },
    });
    const back = await waitForText(h, "edited request-headers");
    assert.ok(!back.includes("Edit Request Headers"), "the grid closed");
  } finally {
    h.unmount();
  }
});

test("a refused grid stays open with the engine's message; leaving again unchanged discards it", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    await showFlows(h, [makeFlow({ seq: 1 })]);
    await openRequestHeaders(h);
    await addRow(h, "Bad Name", "x");
    await press(h, "q");
    const f = await waitForText(h, 'invalid header name "Bad Name"');
    assert.match(f, /fix it, or leave again to discard/);
    assert.match(f, /Edit Request Headers/);
    assert.equal(h.engine.edits.length, 0);

    await press(h, "q");
    const gone = await waitForText(h, "discarded the changes to request-headers");
    assert.ok(!gone.includes("Edit Request Headers"));
    assert.equal(edits(h).length, 1, "discarding sends nothing");
  } finally {
    h.unmount();
  }
});

test("a fix after a refusal is sent; leaving an unchanged grid sends nothing", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    await showFlows(h, [makeFlow({ seq: 1 })]);
    await openRequestHeaders(h);
    await press(h, "q");
    await waitForText(h, /^>>.*\/v1\/items\/1/m);
    assert.equal(edits(h).length, 0);

    await openRequestHeaders(h);
    await press(h, "a");
    await press(h, "Bad Name");
    await press(h, KEY.enter);
    await press(h, KEY.esc);
    await waitForText(h, "invalid header name");
    await press(h, KEY.enter);
    await press(h, CTRL_U);
    await press(h, "Good-Name");
    await press(h, KEY.enter);
    await press(h, KEY.esc);
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0]!.patch.requestHeaders!.at(1), ["Good-Name", ""]);
  } finally {
    h.unmount();
  }
});

test("an empty grid says how to start; response-headers on a flow without a response", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const flow = makeFlow({ seq: 1, status: undefined, reason: undefined, live: true, intercepted: true, interceptedAt: "request" });
    await showFlows(h, [flow]);
    await editPart(h, "9");
    const f = await waitForText(h, "Edit Response Headers");
    assert.match(f, /No values - you should add some\. Press \? for help\./);
    const help = await press(h, "?");
    assert.match(help, /Keys for this view \(grideditor\)/);
    assert.match(help, /Add a row after cursor/);
    assert.match(help, /Insert a row before cursor/);
    assert.match(help, /Delete this row/);
    await press(h, "q");
    await waitForText(h, "No values");
    await addRow(h, "Content-Type", "text/plain");
    await press(h, "q");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0]!.patch, { responseHeaders: [["Content-Type", "text/plain"]] });
    await waitForText(h, "press a to resume the flow");
  } finally {
    h.unmount();
  }
});

test("query and urlencoded form are grids too", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    const get = makeFlow({ seq: 1, path: "/search?q=cats&page=2" });
    const post = makeFlow({ seq: 2, method: "POST", path: "/form" });
    await showFlows(h, [get, post]);
    await editPart(h, "6");
    const q = await waitForText(h, "Edit Query");
    assert.match(q, /^>> q +cats/m);
    assert.match(q, /^ {3}page +2/m);
    await press(h, "j");
    await press(h, "d");
    await press(h, "q");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0]!.patch, { query: [["q", "cats"]] });
    await waitForText(h, /\/search\?q=cats /);

    await press(h, "j");
    await editPart(h, "2");
    const form = await waitForText(h, "Edit UrlEncoded Form");
    assert.match(form, /^>> name +widget/m);
    await pressEach(h, ["j", "l", KEY.enter, KEY.backspace, "4", KEY.enter, "q"]);
    assert.ok(await until(() => h.engine.edits.length === 2));
    assert.deepEqual(new TextDecoder().decode(h.engine.edits[1]!.patch.requestBody), "name=widget&count=4");
    assert.equal(h.engine.edits[1]!.patch.requestHeaders, undefined, "the form's content type is already right");
  } finally {
    h.unmount();
  }
});

test("grid state: add/insert/delete/step/commit as pure functions", () => {
  let g = grid.makeGrid(["Key", "Value"], [["a", "1"], ["b", "2"]]);
  g = grid.addRow(g, 10);
  assert.equal(g.row, 1);
  assert.deepEqual(g.editing, { value: "", cursor: 0 });
  g = grid.setEditing(g, { value: "c", cursor: 1 });
  // Adding again commits the cell being typed first.
  g = grid.addRow(g, 10);
  assert.deepEqual(g.rows, [["a", "1"], ["c", ""], ["", ""], ["b", "2"]]);
  assert.deepEqual(grid.gridValues(g), [["a", "1"], ["c", ""], ["b", "2"]], "rows with no text are left out");
  g = grid.deleteRow(grid.commitEdit(g), 10);
  assert.equal(g.row, 2);
  g = grid.deleteRow(grid.toRow(g, 99, 10), 10);
  assert.deepEqual(g.rows, [["a", "1"], ["c", ""]]);
  assert.equal(g.row, 1);
  g = grid.insertRow(grid.toRow(g, 0, 10), 10);
  assert.equal(g.row, 0);
  assert.deepEqual(grid.commitEdit(g).rows[0], ["", ""]);
  // Tab order runs along the row, then to the next one; it stops at the ends.
  let t = grid.makeGrid(["Key", "Value"], [["a", "1"], ["b", "2"]]);
  t = grid.stepCell(t, 1, 10)!;
  assert.deepEqual([t.row, t.col], [0, 1]);
  t = grid.stepCell(t, 1, 10)!;
  assert.deepEqual([t.row, t.col], [1, 0]);
  assert.equal(grid.stepCell(grid.moveCol(t, 1), 1, 10), undefined);
  assert.equal(grid.stepCell(grid.makeGrid(["K"], [["x"]]), -1, 10), undefined);
  assert.deepEqual(grid.moveCol(grid.moveCol(t, 5), -9).col, 0);
  // The window follows the cursor.
  const many = grid.makeGrid(["K", "V"], Array.from({ length: 30 }, (_, i) => [`k${i}`, `${i}`]));
  const down = grid.moveRow(many, 20, 5);
  assert.deepEqual([down.row, down.top], [20, 16]);
  assert.ok(grid.sameRows([["a"]], [["a"]]));
  assert.ok(!grid.sameRows([["a"]], [["b"]]));
  assert.deepEqual(grid.deleteRow(grid.makeGrid(["K"], []), 5).rows, []);
});

test("grid parts: rows from the detail and the patch back", () => {
  const d = makeDetail(makeFlow({ seq: 7, method: "PUT", path: "/x?a=1&a=2&b=%20c" }));
  assert.deepEqual(queryOf("/x?a=1&a=2&b=%20c"), [["a", "1"], ["a", "2"], ["b", " c"]]);
  assert.deepEqual(gridRows("query", d), [["a", "1"], ["a", "2"], ["b", " c"]]);
  assert.deepEqual(gridRows("urlencoded form", d), [], "not a form request");
  const patch = gridPatch("urlencoded form", [["k", "v w"]], d);
  assert.equal(new TextDecoder().decode(patch.requestBody), "k=v+w");
  assert.deepEqual(patch.requestHeaders!.at(-1), ["content-type", "application/x-www-form-urlencoded"], "a form body says it is one");
  assert.deepEqual(gridPatch("response-headers", [["A", "1"]], d), { responseHeaders: [["A", "1"]] });
});

test("cookies and set-cookies grids (mitmproxy's e choices): a Cookie header's pairs, and each Set-Cookie line's name then value with its attributes", () => {
  const base = makeDetail(makeFlow({ seq: 11 }));
  const d = {
    ...base,
    request: { ...base.request!, headers: [["Host", "app.test"], ["Cookie", "a=1; b=2"], ["Accept", "*/*"], ["Cookie", "c=3"]] as [string, string][] },
    response: { ...base.response!, headers: [["Content-Type", "text/html"], ["Set-Cookie", "sid=xyz; Path=/; HttpOnly"], ["Set-Cookie", "theme=dark"]] as [string, string][] },
  };
  const cookies = gridRows("cookies", d);
  assert.deepEqual(cookies, [["a", "1"], ["b", "2"], ["c", "3"]]);
  cookies[1] = ["b", "changed"];
  assert.deepEqual(gridPatch("cookies", cookies, d), { requestHeaders: [["Host", "app.test"], ["Cookie", "a=1; b=changed; c=3"], ["Accept", "*/*"]] }, "one Cookie header where the first was");
  assert.deepEqual(gridPatch("cookies", [], d), { requestHeaders: [["Host", "app.test"], ["Accept", "*/*"]] });
  const set = gridRows("set-cookies", d);
  assert.deepEqual(set, [["sid", "xyz; Path=/; HttpOnly"], ["theme", "dark"]]);
  assert.deepEqual(gridPatch("set-cookies", [...set, ["new", "1; Secure"]], d), {
    responseHeaders: [["Content-Type", "text/html"], ["Set-Cookie", "sid=xyz; Path=/; HttpOnly"], ["Set-Cookie", "theme=dark"], ["Set-Cookie", "new=1; Secure"]],
  });
});

test("the cookie grids title their columns Name and Value, as mitmproxy's; a header grid keeps Key", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await showFlows(h, [makeFlow({ seq: 1 })]);
    for (const [part, title] of [["cookies", "Edit Cookies"], ["set-cookies", "Edit SetCookies"]] as const) {
      await press(h, "e");
      const o = h.ctrl.state.overlay;
      assert.ok(o?.kind === "chooser", "e opens the parts to edit");
      const g = await press(h, CHOOSER_SHORTCUTS[o.choices.indexOf(part)]!);
      assert.match(await waitForText(h, title), /^ {3}Name +Value *$/m, g);
      await press(h, "q");
      await waitForText(h, "/1]");
    }
    assert.match(await openRequestHeaders(h), /^ {3}Key +Value *$/m);
  } finally {
    h.unmount();
  }
});

test("query and form grids keep bytes that are not UTF-8 and bare keys: an untouched field goes back as it came", () => {
  const base = makeDetail(makeFlow({ seq: 9, method: "POST", path: "/s?q=%FF&flag&t=caf%C3%A9" }));
  const rows = gridRows("query", base);
  assert.deepEqual(rows, [["q", "\\xff"], ["flag", ""], ["t", "café"]]);
  assert.deepEqual(gridPatch("query", rows, base), { query: [["q", "\udcff"], ["flag", ""], ["t", "café"]] }, "the engine's Request.query encodes \udcff back to %FF");
  const form = { ...base, request: { ...base.request!, contentType: "application/x-www-form-urlencoded", body: new TextEncoder().encode("a=%FE&b&c=1"), bodySize: 11 } };
  const formRows = gridRows("urlencoded form", form);
  assert.deepEqual(formRows, [["a", "\\xfe"], ["b", ""], ["c", "1"]]);
  formRows[2] = ["c", "2"];
  assert.equal(new TextDecoder().decode(gridPatch("urlencoded form", formRows, form).requestBody), "a=%FE&b&c=2");
});

test("header cells show bytes as the flow view does (\\xNN, \\\\) and typed non-ASCII goes out as UTF-8, as mitmproxy's grid", () => {
  const base = makeDetail(makeFlow({ seq: 8 }));
  // Header values are byte strings (one char per byte): "ü€" as UTF-8 on the wire, a backslash, a lone 0xfc.
  const d = { ...base, request: { ...base.request!, headers: [["X-Utf8", "\xc3\xbc\xe2\x82\xac"], ["X-Path", "C:\\tmp"], ["X-Latin1", "\xfc"]] as [string, string][] } };
  const rows = gridRows("request-headers", d);
  assert.deepEqual(rows, [["X-Utf8", "\\xc3\\xbc\\xe2\\x82\\xac"], ["X-Path", "C:\\\\tmp"], ["X-Latin1", "\\xfc"]]);
  assert.deepEqual(gridPatch("request-headers", rows, d), { requestHeaders: d.request.headers }, "unchanged cells give back the same bytes");
  assert.deepEqual(gridPatch("response-headers", [["X-Typed", "ü€"], ["X-Esc", "a\\x41\\\\z\\q"]], d), {
    responseHeaders: [["X-Typed", "\xc3\xbc\xe2\x82\xac"], ["X-Esc", "aA\\z\\q"]],
  });
});

test("w saves the grid's rows as CSV, r reads a file into the current cell, e edits the cell in $EDITOR (mitmproxy's grideditor keys)", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "pryx-grid-io-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, "editor.sh");
  // Ending its file with a newline, as vim and nano do: the cell does not keep it (mitmproxy's clean_hanging_newline).
  writeFileSync(script, `#!/bin/sh\nprintf 'from, the "editor"\\n' > "$1"\n`);
  chmodSync(script, 0o755);
  const h = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], EDITOR: script } });
  try {
    await showFlows(h, [makeFlow({ seq: 1 })]);
    await openRequestHeaders(h);
    const csv = path.join(dir, "headers.csv");
    await press(h, "w");
    await pressEach(h, [...csv, KEY.enter]);
    await waitForText(h, `saved 3 rows to ${csv}`);
    assert.equal(readFileSync(csv, "utf8"), "Host,api.example.com\r\nUser-Agent,curl/8.5.0\r\nAccept,*/*\r\n");

    const value = path.join(dir, "value.txt");
    writeFileSync(value, "read from a file");
    await press(h, "l");
    await press(h, "r");
    await pressEach(h, [...value, KEY.enter]);
    assert.match(await waitForText(h, "read from a file"), /^>> Host +read from a file/m);
    // r takes the file's bytes: a backslash and a tab in it show escaped, so they go back as they were.
    writeFileSync(value, "C:\\tmp\tx");
    await press(h, "r");
    await pressEach(h, [...value, KEY.enter]);
    assert.match(await waitForText(h, "C:\\\\tmp"), /^>> Host +C:\\\\tmp\\x09x/m);
    // R takes escaped text as it is (mitmproxy's load_escaped): \x41 stays an escape in the cell.
    writeFileSync(value, "esc\\x41aped");
    await press(h, "R");
    await pressEach(h, [...value, KEY.enter]);
    assert.match(await waitForText(h, "esc\\x41aped"), /^>> Host +esc\\x41aped/m);

    await press(h, "e");
    assert.match(await waitForText(h, "from, the"), /^>> Host +from, the "editor"/m);
    await press(h, "w");
    await pressEach(h, [...csv, KEY.enter]);
    await waitForText(h, "saved 3 rows");
    assert.match(readFileSync(csv, "utf8"), /^Host,"from, the ""editor"""\r\n/, "a cell with a comma or a quote is quoted");
  } finally {
    h.unmount();
  }
});

test("multipart form grid (mitmproxy's e choice): a row per part; written back, an untouched part keeps its headers (a file's name and type) and a new one is a plain field; any other body becomes a multipart form", async () => {
  const { parseMultipart } = await import("../../src/multipart.ts");
  const base = makeDetail(makeFlow({ seq: 12, method: "POST" }));
  const boundary = "XyZ";
  const body = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="field"\r\n\r\nhello\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\xff\r\n` +
      `--${boundary}--\r\n`,
    "latin1",
  );
  const d = { ...base, request: { ...base.request!, contentType: `multipart/form-data; boundary=${boundary}`, body, bodySize: body.length } };
  const rows = gridRows("multipart form", d);
  assert.deepEqual(rows, [["field", "hello"], ["upload", "\\x00\\xff"]]);
  rows[0] = ["field", "changed; value"];
  const patch = gridPatch("multipart form", [...rows, ["added", "new"]], d);
  assert.equal(patch.requestHeaders, undefined, "the Content-Type stays as it was");
  const parts = parseMultipart(patch.requestBody!, boundary);
  assert.deepEqual(parts.map((p) => [p.name, p.content.toString("latin1")]), [["field", "changed; value"], ["upload", "\x00\xff"], ["added", "new"]]);
  assert.match(parts[1]!.head, /filename="a\.bin"\r\nContent-Type: application\/octet-stream$/, "the file part keeps its headers");
  assert.equal(parts[2]!.head, 'Content-Disposition: form-data; name="added"');
  // An urlencoded request saved from the multipart grid becomes multipart, with a boundary of its own.
  const plain = makeDetail(makeFlow({ seq: 13, method: "POST" }));
  const made = gridPatch("multipart form", [["k", "v"]], plain);
  const ct = made.requestHeaders!.at(-1)!;
  assert.equal(ct[0], "content-type");
  const own = /boundary=(\S+)$/.exec(ct[1])![1]!;
  assert.deepEqual(parseMultipart(made.requestBody!, own).map((p) => [p.name, p.content.toString()]), [["k", "v"]]);
});

test("a cell with CJK text being edited stays in its column: the row is not pushed off the screen", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await showFlows(h, [makeFlow({ seq: 1, path: "/q?name=日本語テキスト&x=1" })]);
    await editPart(h, "6");
    await waitForText(h, "Edit Query");
    await press(h, "l");
    const f = await press(h, KEY.enter);
    const row = f.split("\n").find((l) => l.startsWith(">> name"))!;
    assert.match(row, /^>> name +日本語テキスト *$/, "the value, then spaces to the edge, no ellipsis");
    const typed = await press(h, "🎉");
    assert.match(typed.split("\n").find((l) => l.startsWith(">> name"))!, /^>> name +日本語テキスト🎉 *$/);
    // The cursor on the emoji draws the emoji, not half of its surrogate pair.
    const onEmoji = await press(h, KEY.left);
    assert.match(onEmoji.split("\n").find((l) => l.startsWith(">> name"))!, /^>> name +日本語テキスト🎉 *$/);
  } finally {
    h.unmount();
  }
});

test("a CJK key gets the columns it takes in the grid, not half of them", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await showFlows(h, [makeFlow({ seq: 1, path: "/q?名前は日本語テキスト=1&x=2" })]);
    await editPart(h, "6");
    const g = await waitForText(h, "Edit Query");
    assert.match(g, /^>> 名前は日本語テキスト +1$/m, g);
  } finally {
    h.unmount();
  }
});

test("a form of 200,000 fields opens in the grid, its key column as wide as its widest key", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    const post = makeFlow({ seq: 1, method: "POST", path: "/form" });
    await showFlows(h, [post]);
    const d = makeDetail(post);
    // The widest key is the last: every key is measured, not only those on screen.
    const fields = Array.from({ length: 200_000 }, (_, i) => (i === 199_999 ? "the_widest_key_of_all=1" : `f${i}=1`));
    const body = new TextEncoder().encode(fields.join("&"));
    h.engine.details.set(post.id, { ...d, request: { ...d.request!, body, bodySize: body.length } });
    await editPart(h, "2");
    const form = await waitForText(h, "Edit UrlEncoded Form");
    assert.match(form, /^>> f0 {22}1/m, form);
    assert.match(await press(h, "j"), /^>> f1 {22}1/m);
  } finally {
    h.unmount();
  }
});
