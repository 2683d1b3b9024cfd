/**
 * The terminal's clipboard, through OSC 52: the escape travels with the screen over SSH and
 * through tmux (with `set -g set-clipboard on`), so a copy lands on the user's own machine,
 * where mitmproxy's pyperclip would have copied to the server's clipboard, or failed.
 */

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
