/**
 * Bodies: $EDITOR on a private temp file with the terminal handed over and taken back (a fake
 * editor script stands in for vi), the inline editor when there is none, and the size limits.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KEY, press, pressEach, renderConsole, runAtPrompt, until, waitForText } from "./helpers/tui.tsx";
import { makeDetail, makeFlow } from "./helpers/fake-engine.ts";
import { editPart, showFlows } from "./helpers/edit.ts";
import { ENTER_ALT, LEAVE_ALT, terminalHandover, type TerminalHandover } from "../../src/tui/edit/terminal.ts";
import { chooseEditor, editInExternalEditor, EditorError } from "../../src/tui/edit/external-editor.ts";
import * as text from "../../src/tui/edit/text-editor.ts";
import { rawPatch } from "../../src/tui/edit/parts.ts";
import { keyPressFromChar } from "../../src/tui/keys.ts";

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const CTRL_S = "\x13";

/** A handover that records what the console asked of the terminal. */
function spyTerminal(): TerminalHandover & { runs: number } {
  const t = {
    runs: 0,
    suspended: false,
    run<T>(fn: () => T): T {
      t.runs++;
      t.suspended = true;
      try {
        return fn();
      } finally {
        t.suspended = false;
      }
    },
    resume() {},
  };
  return t;
}

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};

/** A shell script editor: copies what it was given to `seen` (and the file's name to `seen.name`), then writes `content`. */
function fakeEditor(content: string, status = 0): { env: NodeJS.ProcessEnv; seen: string } {
  const dir = tempDir("pryx-fake-editor-");
  const seen = path.join(dir, "seen");
  const script = path.join(dir, "editor.sh");
  writeFileSync(script, `#!/bin/sh\ncp "$1" "${seen}"\nbasename "$1" > "${seen}.name"\nprintf '%s' '${content}' > "$1"\nexit ${status}\n`);
  chmodSync(script, 0o755);
  return { env: { PATH: process.env["PATH"], EDITOR: script }, seen };
}

test("request-body goes to $EDITOR with the terminal handed over; what it saves is sent as requestBody", async () => {
  const ed = fakeEditor("name=edited");
  const terminal = spyTerminal();
  const h = await renderConsole({ height: 40, env: ed.env, terminal });
  try {
    const flow = makeFlow({ seq: 1, method: "POST", path: "/form" });
    await showFlows(h, [flow]);
    await editPart(h, "a");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.equal(terminal.runs, 1);
    assert.equal(readFileSync(ed.seen, "utf8"), "name=widget&count=3", "the editor got the whole body");
    assert.equal(dec(h.engine.edits[0]!.patch.requestBody), "name=edited");
    assert.deepEqual(Object.keys(h.engine.edits[0]!.patch), ["requestBody"]);
    await waitForText(h, "edited request-body");
    // The full body was asked for, not the flow view's cut.
    const details = h.engine.requests.filter((r) => r.op === "detail");
    assert.ok(details.some((r) => r.op === "detail" && r.bodyLimit >= "name=widget&count=3".length));
  } finally {
    h.unmount();
  }
});

test("EDITOR as a shell command line (sh -c '…' sh) works, as git runs it; response-body of a flow without a response", async () => {
  const h = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], EDITOR: `sh -c 'printf edited > "$1"' sh` } });
  try {
    const flow = makeFlow({ seq: 1, status: undefined, reason: undefined, live: true, intercepted: true, interceptedAt: "request" });
    await showFlows(h, [flow]);
    await editPart(h, "b");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.deepEqual(h.engine.edits[0], { id: flow.id, patch: { responseBody: new TextEncoder().encode("edited") } });
  } finally {
    h.unmount();
  }
});

test("an editor that fails or saves nothing new changes nothing", async () => {
  const failing = fakeEditor("ignored", 3);
  const h = await renderConsole({ height: 40, env: failing.env });
  try {
    await showFlows(h, [makeFlow({ seq: 1, method: "POST" })]);
    await editPart(h, "a");
    await waitForText(h, /exited with status 3; nothing was changed/);
    assert.equal(h.engine.requests.filter((r) => r.op === "edit").length, 0);
  } finally {
    h.unmount();
  }
  const same = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], EDITOR: "true" } });
  try {
    await showFlows(same, [makeFlow({ seq: 1, method: "POST" })]);
    await editPart(same, "a");
    await waitForText(same, "request-body unchanged");
    assert.equal(same.engine.requests.filter((r) => r.op === "edit").length, 0);
  } finally {
    same.unmount();
  }
});

test("a body above 1 MiB asks first; n sends nothing, y edits it", async () => {
  const h = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], EDITOR: `sh -c 'printf small > "$1"' sh` } });
  try {
    const flow = makeFlow({ seq: 1, method: "POST" });
    h.engine.add([flow]);
    const big = new Uint8Array(1536 * 1024).fill(0x61);
    const d = makeDetail(flow);
    h.engine.details.set(flow.id, { ...d, request: { ...d.request!, body: big, bodySize: big.length } });
    await waitForText(h, "/1]");
    await editPart(h, "a");
    await waitForText(h, "Edit the 1.5m request body? (y/n)");
    await press(h, "n");
    assert.equal(h.engine.requests.filter((r) => r.op === "edit").length, 0);
    await editPart(h, "a");
    await waitForText(h, "Edit the 1.5m request body?");
    await press(h, "y");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.equal(dec(h.engine.edits[0]!.patch.requestBody), "small");
    const full = h.engine.requests.filter((r) => r.op === "detail" && r.bodyLimit >= big.length);
    assert.equal(full.length, 1, "the whole body was fetched once, after the confirmation");
  } finally {
    h.unmount();
  }
});

test("PRYX_EDITOR=inline: the body in the inline editor; Ctrl-S saves, Esc with changes asks", async () => {
  const h = await renderConsole({ height: 30, env: { PRYX_EDITOR: "inline" } });
  try {
    const flow = makeFlow({ seq: 1, method: "POST", path: "/form" });
    await showFlows(h, [flow]);
    await editPart(h, "a");
    const f = await waitForText(h, "Edit Request Body (inline)");
    assert.match(f, /ctrl-s save {2}esc cancel {2}1:1/);
    assert.match(f, /^name=widget&count=3/m);
    // q and a are text here, not keys.
    await pressEach(h, [KEY.end, "q", KEY.enter, "a=1"]);
    const typed = await press(h, KEY.left);
    assert.match(typed, /^name=widget&count=3q$/m);
    assert.match(typed, /2:3/);
    await press(h, KEY.esc);
    await waitForText(h, "Discard the changes to the body? (y/n)");
    await press(h, "n");
    await press(h, CTRL_S);
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.equal(dec(h.engine.edits[0]!.patch.requestBody), "name=widget&count=3q\na=1");
    const back = await waitForText(h, "edited request-body");
    assert.ok(!back.includes("(inline)"));
  } finally {
    h.unmount();
  }
});

test("no editor anywhere falls back to the inline editor; a binary body is refused there", async () => {
  const h = await renderConsole({ height: 30, env: { PATH: "/nonexistent" } });
  try {
    const flow = makeFlow({ seq: 1 });
    await showFlows(h, [flow]);
    await editPart(h, "b");
    await waitForText(h, "Edit Response Body (inline)");
    await press(h, KEY.esc);
    await waitForText(h, /^>>/m);
    const d = makeDetail(flow);
    h.engine.details.set(flow.id, { ...d, response: { ...d.response!, body: new Uint8Array([0xff, 0xfe, 0x00]), bodySize: 3 } });
    await editPart(h, "b");
    await waitForText(h, "the response-body is not UTF-8 text: set $EDITOR");
  } finally {
    h.unmount();
  }
});

test("chooseEditor: PRYX_EDITOR, then EDITOR, then VISUAL, then nano or vi, else inline", () => {
  const none = () => false;
  assert.deepEqual(chooseEditor({ PRYX_EDITOR: "inline", EDITOR: "vim" }, none), { kind: "inline" });
  assert.deepEqual(chooseEditor({ PRYX_EDITOR: "micro", EDITOR: "vim" }, none), { kind: "external", command: "micro" });
  assert.deepEqual(chooseEditor({ EDITOR: "vim", VISUAL: "emacs" }, none), { kind: "external", command: "vim" });
  assert.deepEqual(chooseEditor({ EDITOR: " ", VISUAL: "emacs" }, none), { kind: "external", command: "emacs" });
  assert.deepEqual(chooseEditor({}, (c) => c === "vi"), { kind: "external", command: "vi" });
  assert.deepEqual(chooseEditor({}, () => true), { kind: "external", command: "nano" });
  assert.deepEqual(chooseEditor({}, none), { kind: "inline" });
});

test("editInExternalEditor: a private temp file with the body, read back, removed after", () => {
  const dir = tempDir("pryx-ed-unit-");
  const log = path.join(dir, "log");
  const t = spyTerminal();
  const out = editInExternalEditor(new TextEncoder().encode("héllo"), {
    command: `sh -c 'ls -l "$1" > "${log}"; printf "%s!" "$(cat "$1")" > "$1"; echo "$1" >> "${log}"' sh`,
    terminal: t,
    extension: ".json",
    stdio: "ignore",
  });
  assert.equal(dec(out), "héllo!");
  assert.equal(t.runs, 1);
  const [mode, file] = readFileSync(log, "utf8").trim().split("\n");
  assert.match(mode!, /^-rw-------/, "only the user can read the body");
  assert.match(file!, /body\.json$/);
  assert.ok(!existsSync(file!), "the temp file is gone");
  assert.throws(() => editInExternalEditor(new Uint8Array(), { command: "exit 2", terminal: t, stdio: "ignore" }), EditorError);
});

test("terminalHandover: leaves the alternate screen and raw mode for the child, restores both and repaints, even on a throw", () => {
  const events: string[] = [];
  const stdin = {
    isTTY: true,
    isRaw: true,
    setRawMode(m: boolean) {
      this.isRaw = m;
      events.push(`raw:${m}`);
    },
  };
  const stdout = { write: (s: string) => events.push(s === LEAVE_ALT ? "leave" : s.startsWith(ENTER_ALT) ? "enter" : `write:${JSON.stringify(s)}`) };
  const t = terminalHandover(stdin, stdout, () => events.push("repaint"));
  const r = t.run(() => {
    events.push(`child (raw=${stdin.isRaw}, suspended=${t.suspended})`);
    return 42;
  });
  assert.equal(r, 42);
  assert.deepEqual(events, ["leave", "raw:false", "child (raw=false, suspended=true)", "raw:true", "enter", "repaint"]);
  assert.equal(t.suspended, false);
  events.length = 0;
  assert.throws(() => t.run(() => {
    throw new Error("spawn failed");
  }), /spawn failed/);
  assert.deepEqual(events, ["leave", "raw:false", "raw:true", "enter", "repaint"]);
  // Not a TTY (piped): only the screen switches.
  events.length = 0;
  terminalHandover({ isTTY: false }, stdout, () => events.push("repaint")).run(() => undefined);
  assert.deepEqual(events, ["leave", "enter", "repaint"]);
});

test("the inline editor's text state: typing, Enter, Backspace/Delete across lines, arrows", () => {
  let t = text.makeText("ab\ncd");
  const key = (ch: string) => {
    const r = text.textKey(t, keyPressFromChar(ch), 10);
    if (r.kind === "text") t = r.text;
    return r.kind;
  };
  const named = (name: string) => {
    const r = text.textKey(t, { name, text: "" }, 10);
    if (r.kind === "text") t = r.text;
    return r.kind;
  };
  named("end");
  key("X");
  assert.deepEqual(t.lines, ["abX", "cd"]);
  named("right");
  assert.deepEqual([t.row, t.col], [1, 0]);
  named("backspace");
  assert.deepEqual(t.lines, ["abXcd"]);
  assert.deepEqual([t.row, t.col], [0, 3]);
  named("enter");
  assert.deepEqual(t.lines, ["abX", "cd"]);
  named("up");
  named("end");
  named("ctrl d");
  assert.deepEqual(t.lines, ["abXcd"]);
  t = text.insertText(t, "1\n2\n3", 10);
  assert.deepEqual(t.lines, ["abX1", "2", "3cd"]);
  assert.deepEqual([t.row, t.col], [2, 1]);
  assert.equal(text.textValue(t), "abX1\n2\n3cd");
  assert.equal(named("ctrl s"), "save");
  assert.equal(named("esc"), "cancel");
  assert.equal(text.textValue(text.makeText("a\n")), "a\n", "a trailing newline survives");
  const long = text.makeText(Array.from({ length: 50 }, (_, i) => `l${i}`).join("\n"));
  const paged = text.moveCursor(long, "pagedown", 10);
  assert.deepEqual([paged.row, paged.top], [9, 0]);
  assert.deepEqual(text.moveCursor(paged, "pagedown", 10).top, 9);
});

test("the inline editor keeps CRLF line ends (multipart bodies): End then typing appends before the CR, Enter makes a CRLF line", () => {
  const body = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b--\r\n";
  let t = text.makeText(body);
  assert.equal(text.textValue(t), body, "unchanged, it is the same bytes");
  const step = (k: { name: string; text: string }) => {
    const r = text.textKey(t, k, 10);
    if (r.kind === "text") t = r.text;
  };
  for (let i = 0; i < 3; i++) step({ name: "down", text: "" });
  step({ name: "end", text: "" });
  step({ name: "x", text: "X" });
  step({ name: "enter", text: "" });
  step({ name: "y", text: "Y" });
  assert.equal(text.textValue(t), "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalueX\r\nY\r\n--b--\r\n");
  // A paste with CRLF in it does not double the CRs.
  t = text.insertText(t, "p\r\nq", 10);
  assert.ok(text.textValue(t).includes("Yp\r\nq\r\n--b--"), JSON.stringify(text.textValue(t)));
  // Mixed line ends are left as they are: each LF is a line end, a CR a character.
  assert.equal(text.textValue(text.makeText("a\r\nb\nc")), "a\r\nb\nc");
});

test("raw request: the whole message in $EDITOR, read back into one patch of what changed (method, path, headers, body)", async () => {
  const dir = tempDir("pryx-raw-editor-");
  const seen = path.join(dir, "seen");
  const script = path.join(dir, "editor.sh");
  writeFileSync(script, `#!/bin/sh\ncp "$1" "${seen}"\nbasename "$1" > "${seen}.name"\nprintf 'PUT /v2/form?x=1 HTTP/1.1\\nHost: api.example.com\\nX-Added:  yes\\nContent-Type: text/plain\\n\\nhello raw\\n' > "$1"\n`);
  chmodSync(script, 0o755);
  const h = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], EDITOR: script } });
  try {
    await showFlows(h, [makeFlow({ seq: 1, method: "POST", path: "/form" })]);
    await editPart(h, "g");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.equal(readFileSync(`${seen}.name`, "utf8"), "body.http\n", "an .http file, for the editor's highlighting");
    assert.equal(readFileSync(seen, "latin1"), "POST /form HTTP/1.1\nHost: api.example.com\nUser-Agent: curl/8.5.0\nAccept: */*\nContent-Type: application/x-www-form-urlencoded\n\nname=widget&count=3");
    const patch = h.engine.edits[0]!.patch;
    assert.equal(patch.method, "PUT");
    assert.equal(patch.path, "/v2/form?x=1");
    assert.deepEqual(patch.requestHeaders, [["Host", "api.example.com"], ["X-Added", "yes"], ["Content-Type", "text/plain"]]);
    assert.equal(dec(patch.requestBody), "hello raw", "the editor's final newline is not part of the body");
    await waitForText(h, "edited raw request");
  } finally {
    h.unmount();
  }
});

test("raw response saved untouched changes nothing; a broken header line is refused with its line number", async () => {
  const same = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], EDITOR: "true" } });
  try {
    await showFlows(same, [makeFlow({ seq: 1 })]);
    await editPart(same, "h");
    await waitForText(same, "raw response unchanged");
    assert.equal(same.engine.edits.length, 0);
  } finally {
    same.unmount();
  }
  const d = makeDetail(makeFlow({ seq: 2 }));
  assert.deepEqual(rawPatch("raw response", Buffer.from("HTTP/1.1 404 Gone Away\r\nContent-Type: text/plain\r\n\r\nbye"), d), {
    statusCode: 404,
    reason: "Gone Away",
    responseHeaders: [["Content-Type", "text/plain"]],
    responseBody: Buffer.from("bye"),
  });
  assert.throws(() => rawPatch("raw request", Buffer.from("GET / HTTP/1.1\nno colon here\n\n"), d), /line 2: expected "Name: value"/);
});

test("v in the flow view shows the chosen body in $PAGER with the terminal handed over (mitmproxy's console.bodyview); no body is said so", async () => {
  const dir = tempDir("pryx-fake-pager-");
  const seen = path.join(dir, "seen");
  const pager = path.join(dir, "pager.sh");
  writeFileSync(pager, `#!/bin/sh\ncp "$1" "${seen}"\n`);
  chmodSync(pager, 0o755);
  const terminal = spyTerminal();
  const h = await renderConsole({ height: 40, env: { PATH: process.env["PATH"], PAGER: pager }, terminal });
  try {
    const flow = makeFlow({ seq: 1, method: "POST", path: "/form" });
    await showFlows(h, [flow]);
    await press(h, KEY.enter);
    await press(h, "v");
    await waitForText(h, "View...");
    await pressEach(h, ["j", KEY.enter]);
    assert.ok(await until(() => existsSync(seen)), "the pager ran");
    assert.equal(terminal.runs, 1);
    assert.equal(readFileSync(seen, "utf8"), dec(makeDetail(flow).response?.body), "the whole response body, decoded");
    rmSync(seen);
    await runAtPrompt(h, `console.bodyview ${flow.id} trailers`);
    await waitForText(h, "console.bodyview views request or response");
  } finally {
    h.unmount();
  }
});

test("console_strip_trailing_newlines drops the newlines an editor adds at the end of a body; off, they are kept", async () => {
  const env = { PATH: process.env["PATH"], EDITOR: `sh -c 'printf "edited\\n\\n" > "$1"' sh` };
  for (const strip of [false, true]) {
    const h = await renderConsole({ height: 40, env });
    try {
      await runAtPrompt(h, `set console_strip_trailing_newlines ${strip}`);
      await showFlows(h, [makeFlow({ seq: 1, method: "POST" })]);
      await editPart(h, "a");
      assert.ok(await until(() => h.engine.edits.length === 1));
      assert.equal(dec(h.engine.edits[0]!.patch.requestBody), strip ? "edited" : "edited\n\n");
    } finally {
      h.unmount();
    }
  }
});

test("e on a TCP flow offers tcp-message: its last message goes to $EDITOR, and the edit is sent for that message", async () => {
  const ed = fakeEditor("edited reply");
  const h = await renderConsole({ height: 40, env: ed.env });
  try {
    const flow = makeFlow({ seq: 1, type: "tcp", scheme: "tcp", url: "tcp://10.0.0.2:6379", messages: 2, live: true, intercepted: true, interceptedAt: "message" });
    const enc = new TextEncoder();
    h.engine.details.set(flow.id, {
      ...makeDetail(flow),
      request: undefined,
      response: undefined,
      messages: [
        { fromClient: true, type: "binary", content: enc.encode("PING\r\n"), timestamp: 1 },
        { fromClient: false, type: "binary", content: enc.encode("+PONG\r\n"), timestamp: 2 },
      ],
    });
    await showFlows(h, [flow]);
    await press(h, "e");
    await waitForText(h, "tcp-message");
    assert.doesNotMatch(h.lastFrame() ?? "", /request-body/, "an HTTP part is not offered for a TCP flow");
    await press(h, "1");
    assert.ok(await until(() => h.engine.edits.length === 1));
    assert.equal(readFileSync(ed.seen, "utf8"), "+PONG\r\n", "the editor got the last message");
    assert.equal(readFileSync(`${ed.seen}.name`, "utf8"), "body.bin\n", "a binary message's file is a .bin");
    assert.deepEqual(h.engine.edits[0], { id: flow.id, patch: { message: { index: 1, content: enc.encode("edited reply") } } });
    await waitForText(h, "edited tcp-message");
  } finally {
    h.unmount();
  }
});
