import type { LogEntry, LogLevel } from "../protocol.ts";

export type LogSink = (entry: LogEntry) => void;

/** The engine's event log: what the console's event log and dump's stderr show. */
export class Log {
  private sink: LogSink = () => undefined;
  /** How many errors were written: dump stops on any at start-up, as mitmdump's errorcheck does. */
  errorCount = 0;

  setSink(sink: LogSink): void {
    this.sink = sink;
  }

  write(level: LogLevel, msg: string): void {
    if (level === "error") this.errorCount++;
    this.sink({ ts: Date.now() / 1000, level, msg });
  }

  error(msg: string): void {
    this.write("error", msg);
  }
  warn(msg: string): void {
    this.write("warn", msg);
  }
  info(msg: string): void {
    this.write("info", msg);
  }
  debug(msg: string): void {
    this.write("debug", msg);
  }
}
