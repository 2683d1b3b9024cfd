import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Options } from "./options.ts";
import type { Log } from "./log.ts";
import type { Flow } from "./flow/flow.ts";
import type { HTTPFlow } from "./flow/http.ts";
import type { TCPFlow } from "./flow/tcp.ts";
import { encodeFlow } from "./flow/codec.ts";

/**
 * Built-in addon behind `-w/--save-stream-file`: appends every finished flow to the
 * file as one line. A leading "+" appends to an existing file; otherwise the file is
 * started anew (mitmproxy's convention).
 */
export class SaveStreamAddon {
  readonly name = "save_stream";
  private fd: number | undefined;
  private path: string | undefined;

  constructor(
    private readonly options: Options,
    private readonly log: Log,
  ) {}

  configure(updated: Set<string>): void {
    if (!updated.has("save_stream_file")) return;
    this.close();
    const spec = this.options.get<string | undefined>("save_stream_file");
    if (!spec) return;
    const append = spec.startsWith("+");
    const file = append ? spec.slice(1) : spec;
    try {
      this.fd = fs.openSync(file, append ? "a" : "w");
      this.path = file;
    } catch (err) {
      throw new Error(`cannot open ${file} to save flows: ${(err as Error).message}`);
    }
  }

  private write(flow: Flow): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, `${encodeFlow(flow)}\n`);
    } catch (err) {
      this.log.error(`cannot write flow to ${this.path}: ${(err as Error).message}`);
    }
  }

  response(flow: HTTPFlow): void {
    this.write(flow);
  }
  error(flow: HTTPFlow): void {
    this.write(flow);
  }
  tcp_end(flow: TCPFlow): void {
    this.write(flow);
  }
  tcp_error(flow: TCPFlow): void {
    this.write(flow);
  }

  done(): void {
    this.close();
  }

  private close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Reads a pryx flow file line by line in 1 MiB pieces, handing each flow over as it is
 * decoded: a 200 MB file never sits in memory whole, and the caller can pass flows on in
 * batches. Unreadable lines are reported by file and line number; the rest are read.
 */
export function readFlowFile(file: string, decode: (line: string) => Flow, onFlow: (flow: Flow) => void): { count: number; errors: string[] } {
  const errors: string[] = [];
  let count = 0;
  let lineNo = 0;
  const take = (line: string): void => {
    lineNo++;
    if (!line.trim()) return;
    try {
      onFlow(decode(line));
      count++;
    } catch (err) {
      errors.push(`${file}:${lineNo}: ${(err as Error).message}`);
    }
  };
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new Error(`cannot read flow file ${file}: ${(err as Error).message}`);
  }
  try {
    const decoder = new StringDecoder("utf8");
    const buf = Buffer.allocUnsafe(1 << 20);
    let rest = "";
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        throw new Error(`cannot read flow file ${file}: ${(err as Error).message}`);
      }
      if (n === 0) break;
      const lines = (rest + decoder.write(buf.subarray(0, n))).split("\n");
      rest = lines.pop() as string;
      for (const line of lines) take(line);
    }
    const last = rest + decoder.end();
    if (last) take(last);
  } finally {
    fs.closeSync(fd);
  }
  return { count, errors };
}
