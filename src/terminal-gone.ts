/**
 * After a hang-up (an SSH connection dropped, a tmux server killed) Node 20 still resets the
 * terminal it started on as it exits, and aborts when that fails on a terminal that is gone
 * (nodejs/node#51519, fixed in Node 24): a core dump and exit code 134 after a clean shutdown.
 * Descriptors closed by then are skipped.
 */
import fs from "node:fs";

function closeStdio(): void {
  for (const fd of [0, 1, 2]) {
    try {
      fs.closeSync(fd);
    } catch {
      // Closed already.
    }
  }
}

let registered = false;

/** Closes stdin, stdout and stderr as the process exits, so Node leaves the lost terminal alone. */
export function leaveLostTerminalAtExit(): void {
  if (registered) return;
  registered = true;
  process.once("exit", closeStdio);
}
