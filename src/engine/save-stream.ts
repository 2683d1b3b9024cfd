import fs from "node:fs";
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

/** Reads a flow file: the flows, and a message per line that could not be read. */
export function readFlowFile(file: string, decode: (line: string) => Flow): { flows: Flow[]; errors: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read flow file ${file}: ${(err as Error).message}`);
  }
  const flows: Flow[] = [];
  const errors: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      flows.push(decode(line));
    } catch (err) {
      errors.push(`${file}:${i + 1}: ${(err as Error).message}`);
    }
  });
  return { flows, errors };
}
