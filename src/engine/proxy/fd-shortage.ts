import fs from "node:fs";
import type { Log } from "../log.ts";

/** Out of file descriptors: the process's limit (EMFILE) or the whole system's (ENFILE). */
export type FdShortageCode = "EMFILE" | "ENFILE";

export function fdShortageCode(err: unknown): FdShortageCode | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === "EMFILE" || code === "ENFILE" ? code : undefined;
}

/**
 * The soft limit on open files, read while descriptors are to be had: reading it at the moment
 * they have run out would need one. Linux only (/proc); elsewhere undefined.
 */
export function readOpenFileLimit(limitsFile = "/proc/self/limits"): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync(limitsFile, "latin1"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const openFileLimit = readOpenFileLimit();

/** What to tell a user, and a client's 502, when descriptors have run out: the limit to raise, and how. */
export function fdShortageText(code: FdShortageCode, limit = openFileLimit): string {
  if (code === "ENFILE") return "too many open files in the system (ENFILE): the system's file table is full (raise fs.file-max)";
  return `too many open files (EMFILE): raise \`ulimit -n\` (now ${limit ?? "unknown"})`;
}

/** How long without another failure ends a burst: the next one is logged again. */
const BURST_QUIET_MS = 5000;

/**
 * Logs running out of descriptors once per burst, not once per connection: under a flood each
 * accept and each server connection fails, and a line for each would bury the one that says what
 * to do. When the failures stop (descriptors free again), how many there were is said.
 */
export class FdShortage {
  private failures = 0;
  private quiet: NodeJS.Timeout | undefined;

  constructor(private readonly log: Log) {}

  /** `what` failed for lack of descriptors (`connecting to HOST:PORT`, `accepting a connection`). */
  report(code: FdShortageCode, what: string): void {
    if (this.failures++ === 0) this.log.warn(`${what}: ${fdShortageText(code)}`);
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => this.endBurst(), BURST_QUIET_MS);
    this.quiet.unref();
  }

  private endBurst(): void {
    if (this.failures > 1) this.log.info(`file descriptors ran short for ${this.failures} connections in all; none since ${BURST_QUIET_MS / 1000} s`);
    this.failures = 0;
    this.quiet = undefined;
  }
}
