/**
 * The terminal's clipboard, through OSC 52: the escape travels with the screen over SSH (and,
 * inside tmux, tmux's own copy sends it on), so a copy lands on the user's own machine, where
 * mitmproxy's pyperclip would have copied to the server's clipboard, or failed.
 */
import { spawn } from "node:child_process";

/**
 * Many terminals drop a longer OSC 52 (xterm's default limit is about 100 kB of base64): past
 * this, the copy is refused with advice rather than silently lost.
 */
export const CLIPBOARD_MAX_BYTES = 74_000;

export class ClipboardError extends Error {}

/** The escape that puts `text` (as UTF-8) on the clipboard. */
export function osc52(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > CLIPBOARD_MAX_BYTES) {
    throw new ClipboardError(`${bytes.length} bytes is more than a terminal clipboard takes (${CLIPBOARD_MAX_BYTES}): save it with export.file or cut.save`);
  }
  return `\x1b]52;c;${bytes.toString("base64")}\x07`;
}

/**
 * tmux drops the OSC 52 a program writes unless its set-clipboard is `on`, and its default is
 * `external`. Inside tmux the copy goes in by `load-buffer -w` (tmux 3.2), which keeps it in a paste
 * buffer and sends it on to the terminal's clipboard as far as the user's tmux setting allows.
 */
function tmuxLoadBuffer(text: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("tmux", ["load-buffer", "-w", "-"], { env, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => reject(new ClipboardError(`copying through tmux failed (TMUX is set): ${e.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new ClipboardError(`copying through tmux failed (tmux load-buffer -w, tmux 3.2 or later): ${stderr.trim() || `exit code ${code}`}`));
    });
    // A tmux that exits before reading its input: the close above reports why.
    child.stdin.on("error", () => undefined);
    child.stdin.end(text);
  });
}

/**
 * Puts `text` where the user's next paste finds it: through tmux when pryx runs inside it, else
 * by OSC 52 through `writeEscape`. Says where it went, for the status line.
 */
export async function copyToClipboard(text: string, env: NodeJS.ProcessEnv, writeEscape: (escape: string) => void): Promise<string> {
  // Too big is refused either way: tmux sends the copy on to the terminal as an OSC 52 too.
  const escape = osc52(text);
  if (env["TMUX"]) {
    await tmuxLoadBuffer(text, env);
    return "the clipboard (through tmux)";
  }
  writeEscape(escape);
  return "the clipboard";
}
