import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { CommandHistory, HISTORY_LIMIT } from "../../src/tui/command-history.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { KEY, press, renderConsole, waitForText } from "./helpers/tui.tsx";

test("the command history outlives the session: lines run are appended to the file and read back by the next console", () => {
  const file = path.join(tempDir("pryx-history-"), "command_history");
  const first = new CommandHistory(file);
  assert.deepEqual(first.entries, [], "no file yet: an empty history, no problem");
  assert.equal(first.takeProblem(), undefined);
  first.add("set view_filter ~u /api");
  first.add("set view_filter ~u /api");
  first.add("export.clip curl @focus");
  assert.deepEqual(new CommandHistory(file).entries, ["set view_filter ~u /api", "export.clip curl @focus"], "a repeat of the last line is kept once");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, "only the user reads what they typed");
});

test("the history file stays bounded: rewritten to the newest lines once appends double it", () => {
  const file = path.join(tempDir("pryx-history-"), "command_history");
  const h = new CommandHistory(file);
  for (let i = 0; i < 2 * HISTORY_LIMIT + 10; i++) h.add(`cmd ${i}`);
  assert.ok(fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length <= 2 * HISTORY_LIMIT);
  const again = new CommandHistory(file).entries;
  assert.equal(again.length, HISTORY_LIMIT);
  assert.equal(again.at(-1), `cmd ${2 * HISTORY_LIMIT + 9}`);
});

test("a history file that cannot be written is said once and the history goes on in memory", () => {
  const dir = tempDir("pryx-history-");
  const h = new CommandHistory(path.join(dir, "missing-dir", "command_history"));
  h.add("a");
  assert.match(h.takeProblem() ?? "", /cannot write the command history .*missing-dir.*for this session only/);
  h.add("b");
  assert.equal(h.takeProblem(), undefined, "not repeated for every line");
  assert.deepEqual(h.entries, ["a", "b"]);
});

test("a new console recalls the last session's filter with f and up, from <confdir>/command_history", async () => {
  const file = path.join(tempDir("pryx-history-"), "command_history");
  const earlier = await renderConsole({ history: new CommandHistory(file) });
  try {
    await press(earlier, "f");
    await press(earlier, "~u /api");
    await press(earlier, KEY.enter);
    await waitForText(earlier, "[f:~u /api]");
  } finally {
    earlier.unmount();
  }
  const later = await renderConsole({ history: new CommandHistory(file) });
  try {
    await press(later, "f");
    const frame = await press(later, KEY.up);
    assert.match(frame, /^: set view_filter '~u \/api'$/m, "the filter of the last session, though none is set now");
  } finally {
    later.unmount();
  }
});

test("down after up found nothing, or after stepping back past the newest line, gives the line back as typed, the text after the cursor included", async () => {
  const con = await renderConsole({ history: new CommandHistory() });
  try {
    await press(con, ":");
    await press(con, "set anticache true");
    for (let i = 0; i < 5; i++) await press(con, KEY.left);
    await press(con, KEY.up);
    let frame = await press(con, KEY.down);
    assert.match(frame, /^: set anticache true$/m, "nothing in the history starts so: the line is as typed");
    await press(con, KEY.enter);
    await press(con, "f");
    await press(con, "~u /old");
    await press(con, KEY.enter);
    // `f` opens with the cursor before the closing quote; up recalls the last filter, down comes back with the quote.
    await press(con, "f");
    frame = await press(con, KEY.up);
    assert.match(frame, /^: set view_filter '~u \/old'$/m);
    frame = await press(con, KEY.down);
    assert.match(frame, /^: set view_filter '~u \/old'$/m, "the line as f opened it, filled with the current filter");
  } finally {
    con.unmount();
  }
});
