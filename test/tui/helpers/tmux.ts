import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Whether a command exists (tmux end-to-end tests skip without tmux or curl). */
export const have = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** The repository root, where `node bin/pryx.mjs` runs. */
export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** One tmux server (its own socket) and session, read and typed into as a user would. */
export function tmuxSession(socket: string, session: string) {
  const tmux = (...args: string[]): string => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  const screen = (): string => tmux("capture-pane", "-t", session, "-p");
  return {
    tmux,
    screen,
    /**
     * Kills the server and waits until a client finds none: a session started on the same
     * socket while the old server is still exiting fails with "server exited unexpectedly".
     * (tmux leaves the socket file behind, so that is no sign.)
     */
    stop(): void {
      spawnSync("tmux", ["-L", socket, "kill-server"]);
      const gone = (): boolean => /no server running/.test(spawnSync("tmux", ["-L", socket, "list-sessions"], { encoding: "utf8" }).stderr);
      const deadline = Date.now() + 5000;
      while (!gone() && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      // The socket file tmux leaves: each test run's own name would otherwise pile them up in /tmp.
      if (gone()) rmSync(path.join(process.env["TMUX_TMPDIR"] ?? os.tmpdir(), `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
    },
    /** Keys by tmux name (Enter, Tab, Escape). */
    keys: (...k: string[]): string => tmux("send-keys", "-t", session, ...k),
    /** Text typed as is: `~`, `&` and spaces are not key names. */
    type: (s: string): string => tmux("send-keys", "-t", session, "-l", s),
    /** Polls the screen until `pred` holds; fails with the last screen. */
    async waitScreen(pred: (s: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      let s = "";
      while (Date.now() < deadline) {
        s = screen();
        if (pred(s)) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
    },
  };
}
