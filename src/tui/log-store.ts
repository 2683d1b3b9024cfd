/**
 * The event log the console keeps from the engine's batches (and its own messages), newest last.
 * Bounded, so a chatty addon cannot grow the console's memory without end.
 */
import type { LogEntry } from "../protocol.ts";

export class LogStore {
  private entries: LogEntry[] = [];
  private readonly listeners = new Set<() => void>();
  version = 0;

  constructor(readonly limit = 10_000) {}

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;

  append(logs: readonly LogEntry[]): void {
    if (logs.length === 0) return;
    for (const l of logs) this.entries.push(l);
    // Trim in chunks, so the copy happens once per limit/10 entries rather than on every append.
    if (this.entries.length > this.limit + this.limit / 10) this.entries = this.entries.slice(-this.limit);
    this.bump();
  }

  clear(): void {
    this.entries = [];
    this.bump();
  }

  get size(): number {
    return this.entries.length;
  }

  all(): readonly LogEntry[] {
    return this.entries;
  }

  private bump(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}
