import { test } from "node:test";
import assert from "node:assert/strict";
import { renderConsole, waitForText } from "./helpers/tui.tsx";
import { makeFlows } from "./helpers/fake-engine.ts";
import { have, tmuxSession } from "./helpers/tmux.ts";

// tmux's default set-clipboard (external) drops the OSC 52 a program writes: a copy that only wrote
// it said "copied" and left the clipboard as it was.
test("inside tmux, export.clip puts the text in tmux's paste buffer (which tmux sends on to the terminal's clipboard)", { skip: !have("tmux") ? "needs tmux" : false, timeout: 30_000 }, async () => {
  const t = tmuxSession(`pryx-clip-${process.pid}`, "clip");
  t.tmux("new-session", "-d", "-s", "clip", "-x", "80", "-y", "24", "sleep 60");
  const escapes: string[] = [];
  const socket = t.tmux("display-message", "-p", "-t", "clip", "#{socket_path}").trim();
  const h = await renderConsole({ env: { ...process.env, TMUX: `${socket},0,0` }, writeEscape: (e) => escapes.push(e) });
  try {
    h.engine.add(makeFlows(1));
    await waitForText(h, "/1]");
    h.engine.onCommand = (line) => (line.startsWith("export ") ? "curl -X GET 'https://x.test/'" : undefined);
    await h.ctrl.run("export.clip curl @focus", false);
    await waitForText(h, "copied 29 bytes to the clipboard (through tmux)");
    assert.equal(t.tmux("show-buffer"), "curl -X GET 'https://x.test/'");
    assert.deepEqual(escapes, [], "no OSC 52 for tmux to drop (or, with set-clipboard on, to keep twice)");
  } finally {
    h.unmount();
    t.stop();
  }
});

test("inside tmux whose server is gone, a copy is an error that says tmux failed and why", async () => {
  const h = await renderConsole({ env: { ...process.env, TMUX: "/nonexistent/pryx-tmux-socket,0,0" } });
  try {
    h.engine.add(makeFlows(1));
    await waitForText(h, "/1]");
    h.engine.onCommand = (line) => (line.startsWith("cut ") ? "https://x.test/" : undefined);
    await h.ctrl.run("cut.clip @focus request.url", false);
    const f = await waitForText(h, /tmux/);
    assert.match(f, /copying through tmux failed/);
    assert.doesNotMatch(f, /copied/);
  } finally {
    h.unmount();
  }
});
