import { now } from "../flow/now.ts";

/**
 * http_head_timeout: a request head must be whole within this many seconds of its first byte.
 * tcp_timeout alone never ends a client that sends a byte every few seconds and never finishes
 * its head (slowloris): each byte starts the idle timer again, and the connection is held forever.
 */
export class HeadDeadline {
  private timer: NodeJS.Timeout | undefined;
  /** When the head being read began (seconds since the epoch, as flows' timestamps), while the clock runs. */
  startedAt: number | undefined;

  constructor(
    private readonly seconds: () => number,
    private readonly expired: (seconds: number) => void,
  ) {}

  /** After each read: the clock starts at a head's first bytes and stops once the head is whole. */
  update(midHead: boolean): void {
    if (!midHead) return this.stop();
    if (this.timer) return;
    const seconds = this.seconds();
    if (!(seconds > 0)) return;
    this.startedAt = now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expired(seconds);
    }, seconds * 1000);
    // A connection's deadline is no reason to keep pryx running.
    this.timer.unref();
  }

  /** The clock from now again (reading waits behind earlier requests, so the head may be here unread). */
  restart(): void {
    this.stop();
    this.update(true);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.startedAt = undefined;
  }
}

/** What the client, the event log and the flow are told when the deadline passes. */
export function headTimeoutMessage(seconds: number): string {
  return `request head not complete within ${seconds} s (http_head_timeout)`;
}
