/**
 * Ink hides the cursor through cli-cursor, whose restore-cursor writes ESC[?25h to stderr as the
 * process exits: `pryx 2>log` must not find it in its log. Run in a child process, whose exit is
 * where the write happens, with its stderr a pipe (not a terminal) as under `2>log`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const index = fileURLToPath(new URL("../../src/tui/index.tsx", import.meta.url));

function runChild(redirect: boolean): { stdout: string; stderr: string } {
  const script = `
    import cliCursor from "cli-cursor";
    const { cursorRestoreToTerminal } = await import(${JSON.stringify(index)});
    // The console's terminal: a TTY, here the child's stdout under another name.
    const terminal = { isTTY: true, write: (s) => process.stdout.write(s) };
    // What Ink does on its first frame: hide the cursor on its stdout, which arms restore-cursor.
    cliCursor.hide(terminal);
    if (${redirect}) cursorRestoreToTerminal(terminal);
    process.stderr.write("a log line\\n");
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", cwd: fileURLToPath(new URL("../..", import.meta.url)) });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

test("without the redirect, restore-cursor shows the cursor on stderr at exit (what `pryx 2>log` logged)", () => {
  const r = runChild(false);
  assert.equal(r.stderr, "a log line\n\x1b[?25h");
});

test("the console's exit shows the cursor on its terminal, not on a stderr that is not one", () => {
  const r = runChild(true);
  assert.equal(r.stderr, "a log line\n");
  assert.ok(r.stdout.endsWith("\x1b[?25h"), JSON.stringify(r.stdout));
});
