import os from "node:os";
import v8 from "node:v8";

/**
 * Warns before memory runs out. The console keeps every flow (mitmproxy's users ask for long
 * sessions without running out of memory: mitmproxy#4129, #8246); at the engine's heap limit V8
 * stops the engine, and when the machine's memory is gone the kernel kills the process: either
 * way the flows not saved are lost. A warning first leaves the user time to save them, clear
 * them, or bound the session. Bodies are kept outside the heap, so the process's resident
 * memory is watched against the machine's (or its cgroup's) as well.
 */
export interface MemoryReading {
  readonly heapUsed: number;
  readonly heapLimit: number;
  /** The process's resident memory. */
  readonly rss: number;
  /** The memory the process may use: the machine's, or a smaller cgroup limit. */
  readonly available: number;
}

/** Shares of a limit at which the user is told, each once until use falls below it again. */
export const MEMORY_WARN_LEVELS = [0.7, 0.85] as const;
/** How often memory is read: cheap, but a flood flushes 30 times a second. */
const CHECK_EVERY_MS = 5000;

function readMemory(): MemoryReading {
  const heap = v8.getHeapStatistics();
  const total = os.totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return { heapUsed: heap.used_heap_size, heapLimit: heap.heap_size_limit, rss: process.memoryUsage.rss(), available: constrained > 0 && constrained < total ? constrained : total };
}

const mib = (bytes: number): string => `${Math.round(bytes / 1048576).toLocaleString("en-US")} MiB`;

export class MemoryWatch {
  /** How many levels use was at when last read. */
  private level = 0;
  private lastCheck = -Infinity;

  constructor(private readonly read: () => MemoryReading = readMemory, private readonly everyMs = CHECK_EVERY_MS) {}

  /** A warning for the event log when use has risen past another level since the last read; at most one read per interval. */
  check(now: number, flowsKept: number): string | undefined {
    if (now - this.lastCheck < this.everyMs) return undefined;
    this.lastCheck = now;
    const m = this.read();
    const heap = m.heapUsed / m.heapLimit;
    const resident = m.rss / m.available;
    const share = Math.max(heap, resident);
    let level = 0;
    while (level < MEMORY_WARN_LEVELS.length && share >= MEMORY_WARN_LEVELS[level]!) level++;
    const rose = level > this.level;
    this.level = level;
    if (!rose) return undefined;
    const what =
      heap >= resident
        ? `the engine's heap is at ${Math.round(100 * heap)}% of its limit (${mib(m.heapUsed)} of ${mib(m.heapLimit)})`
        : `pryx holds ${Math.round(100 * resident)}% of the memory it may use (${mib(m.rss)} of ${mib(m.available)})`;
    return (
      `memory: ${what} with ${flowsKept.toLocaleString("en-US")} flows kept; when it runs out pryx stops and the flows not saved ` +
      `are lost: save them (w, or --set save_stream_file=FILE from the start), clear them (z), or keep the newest only with --set max_flows=N`
    );
  }
}
