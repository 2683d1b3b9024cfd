import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Options } from "./options.ts";
import type { Log } from "./log.ts";
import type { Flow } from "./flow/flow.ts";
import { decodeFlow } from "./flow/codec.ts";
import { flowRecord, formatNote, leftOutReason, sniffFlowFile, type FlowFileFormat } from "./flow-file-format.ts";
import { fromHar } from "./flow/har.ts";
import { parseTnetstring } from "./flow/tnetstring.ts";
import { flowFromMitmproxyState } from "./flow/mitmproxy-flow.ts";
import { FinishedFlows } from "./finished-flows.ts";
import { savePath } from "./save-path.ts";

/**
 * Built-in addon behind `-w/--save-stream-file`: appends every finished flow to the
 * file as one record. A leading "+" appends to an existing file; otherwise the file is
 * started anew (mitmproxy's convention). See `savePath` for the rest of the path's form.
 */
export class SaveStreamAddon extends FinishedFlows {
  readonly name = "save_stream";
  private fd: number | undefined;
  private path: string | undefined;
  private format: FlowFileFormat = "pryx";
  /** Flow types the file's format cannot hold, each said once. */
  private readonly warnedTypes = new Set<string>();

  constructor(
    private readonly options: Options,
    private readonly log: Log,
  ) {
    super();
  }

  configure(updated: Set<string>): void {
    if (updated.has("save_stream_filter")) this.setFilter(this.options.get<string | undefined>("save_stream_filter"));
    if (!updated.has("save_stream_file")) return;
    this.close();
    const spec = this.options.get<string | undefined>("save_stream_file");
    if (!spec) return;
    // A HAR is one JSON document, written whole: a stream of flows appended to it is no HAR.
    if (/\.har$/i.test(spec)) throw new Error(`cannot stream flows to ${spec}: a HAR is one JSON document, written whole; --set hardump=${spec.replace(/^\+/, "")} writes it when pryx stops, as mitmproxy's hardump does`);
    const { file, append, format } = savePath(spec);
    // Appending to the file -r reads reads back what is appended, without end (a disk filled in
    // seconds); writing it empties it before it is read. mitmdump does both.
    const rfile = this.options.get<string | undefined>("rfile");
    if (rfile && sameFile(file, rfile)) throw new Error(`cannot save flows to ${file}: it is the file -r reads (${append ? "appending, it would read its own flows again without end" : "writing would empty it before it is read"}); save to another file`);
    try {
      this.fd = fs.openSync(file, append ? "a" : "w");
      this.path = file;
      this.format = format;
      const note = formatNote(file, format);
      if (note) this.log.info(`saving flows to ${file}${note}`);
    } catch (err) {
      throw new Error(`cannot open ${file} to save flows: ${(err as Error).message}`);
    }
  }

  protected finished(flow: Flow): void {
    if (this.fd === undefined) return;
    const record = flowRecord(this.format, flow);
    if (record === undefined) {
      if (!this.warnedTypes.has(flow.type)) this.log.warn(`${this.path}: ${flow.type.toUpperCase()} flows are not saved: ${leftOutReason([flow])}`);
      this.warnedTypes.add(flow.type);
      return;
    }
    try {
      this.append(this.fd, record);
    } catch (err) {
      this.failures++;
      this.log.error(`cannot write flow to ${this.path}: ${(err as Error).message}; the file keeps the flows before it whole`);
    }
  }

  /** Flows that could not be saved this run: pryx dump then fails, as mitmdump does. */
  failures = 0;

  /**
   * The whole record or nothing: a disk that fills takes part of a write without an error (the
   * error comes with the next), which left a flow cut off and the next one glued to it, both lost
   * unsaid. What a failed record wrote is cut off again, so the file stays whole lines.
   */
  private append(fd: number, record: Uint8Array): void {
    const start = fs.fstatSync(fd).size;
    let written = 0;
    try {
      // At `start + written`: in "w" mode the offset after a cut would leave a hole; with "a" Linux appends whatever the offset.
      while (written < record.length) written += fs.writeSync(fd, record, written, record.length - written, start + written);
    } catch (err) {
      try {
        fs.ftruncateSync(fd, start);
      } catch {
        // The error that matters is the write's.
      }
      throw err;
    }
  }

  done(): void {
    this.takeUnfinished();
    if (this.failures > 0) this.log.error(`${this.failures} flow${this.failures === 1 ? "" : "s"} could not be saved to ${this.path ?? "the save file"}`);
    this.close();
  }

  private close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Whether two paths name one existing file (by device and inode: a link or another spelling is the same file). */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Flows encoded and written per write: a megabyte or so, so the proxy serves between writes. */
const SAVE_BATCH = 1000;

/**
 * Writes the flows named by `ids` (as `read` gives them; one gone meanwhile is skipped) to a flow
 * file in `format`, a batch at a time with the engine free between writes: 100,000 flows are over
 * 200 MB, and one string of them all was seconds of a stalled proxy and as much memory again.
 * Returns how many were written, and the flows the format cannot hold, which were not.
 */
export async function writeFlowFile(file: string, append: boolean, format: FlowFileFormat, ids: readonly string[], read: (id: string) => Flow | undefined): Promise<{ written: number; leftOut: Flow[] }> {
  const out = await fs.promises.open(file, append ? "a" : "w");
  let written = 0;
  const leftOut: Flow[] = [];
  try {
    for (let start = 0; start < ids.length; start += SAVE_BATCH) {
      const records: Buffer[] = [];
      for (const id of ids.slice(start, start + SAVE_BATCH)) {
        const flow = read(id);
        if (!flow) continue;
        const record = flowRecord(format, flow);
        if (record === undefined) leftOut.push(flow);
        else records.push(record);
      }
      written += records.length;
      if (records.length) await out.write(Buffer.concat(records));
    }
  } finally {
    await out.close();
  }
  return { written, leftOut };
}

export interface FlowFileRead {
  count: number;
  /** One message per line (or mitmproxy flow) that could not be read, naming the file and where. */
  errors: string[];
  format: "pryx" | "har" | "mitmproxy";
}

/**
 * A mitmproxy flow file: tnetstring dicts one after another, parsed as the pieces arrive so a
 * large capture is never whole in memory. A flow of a kind pryx does not read is reported and
 * skipped; a file cut off mid-flow reports where.
 */
function* mitmproxyFlowsIn(file: string, buf: Buffer, n: number, read: () => number): Generator<Flow, FlowFileRead> {
  const errors: string[] = [];
  let count = 0;
  let pending = Buffer.from(buf.subarray(0, n));
  let offset = 0;
  /** Where `pending` starts in the file, so an error names the file's byte. */
  let base = 0;
  let index = 0;
  for (;;) {
    let r: ReturnType<typeof parseTnetstring>;
    try {
      r = parseTnetstring(pending, offset, base);
    } catch (err) {
      errors.push(`${file}: flow ${index + 1}: ${(err as Error).message}; the rest of the file is not read`);
      break;
    }
    if (!r) {
      const more = read();
      if (more === 0) {
        if (offset < pending.length) errors.push(`${file}: flow ${index + 1} is cut off at the end of the file`);
        break;
      }
      pending = Buffer.concat([pending.subarray(offset), buf.subarray(0, more)]);
      base += offset;
      offset = 0;
      continue;
    }
    offset = r.end;
    index++;
    let flow: Flow;
    try {
      flow = flowFromMitmproxyState(r.value);
    } catch (err) {
      errors.push(`${file}: flow ${index}: ${(err as Error).message}`);
      continue;
    }
    count++;
    yield flow;
  }
  return { count, errors, format: "mitmproxy" };
}

/**
 * The flows of a pryx flow file (or a HAR or mitmproxy file, told by their first bytes), one
 * at a time as they are decoded, and at the end what was read. A pryx file is read line by line
 * in 1 MiB pieces: a 200 MB file never sits in memory whole, and the caller may await between
 * flows (hooks) or pass them on in batches. Unreadable lines are reported and the rest are read.
 */
/** What a read of standard input waits on, 5 ms at a time, when the pipe has nothing yet. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export function* flowsIn(file: string): Generator<Flow, FlowFileRead> {
  // `-`: standard input (`gunzip -c capture.mitm.gz | pryx dump -r -`), left open: it is not the file's to close.
  const stdin = file === "-";
  const cannot = (err: unknown): Error => new Error(`cannot read flow file ${stdin ? "from standard input" : file}: ${(err as Error).message}`);
  let fd: number;
  try {
    fd = stdin ? 0 : fs.openSync(file, "r");
  } catch (err) {
    throw cannot(err);
  }
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const read = (): number => {
      for (;;) {
        try {
          return fs.readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          // A pipe left non-blocking by whoever wrote it: wait for its next bytes.
          if ((err as NodeJS.ErrnoException).code === "EAGAIN") Atomics.wait(PAUSE, 0, 0, 5);
          else throw cannot(err);
        }
      }
    };
    let n = read();
    // A gzipped capture (capture.mitm.gz) read as flows failed on every "line" with JSON errors.
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
      throw cannot(new Error(stdin ? "it is gzip-compressed; put gunzip -c before pryx in the pipe" : `it is gzip-compressed; decompress it as you read it: gunzip -c ${file} | pryx dump -n -r - (or gunzip it first)`));
    }
    const content = sniffFlowFile(buf.subarray(0, n));
    if (content === "mitmproxy") return yield* mitmproxyFlowsIn(file, buf, n, read);
    if (content === "har") {
      const chunks = [Buffer.from(buf.subarray(0, n))];
      while ((n = read()) > 0) chunks.push(Buffer.from(buf.subarray(0, n)));
      let har: ReturnType<typeof fromHar>;
      try {
        har = fromHar(Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        throw new Error(`cannot read HAR file ${file}: ${(err as Error).message}`);
      }
      yield* har.flows;
      return { count: har.flows.length, errors: har.errors.map((e) => `${file}: ${e}`), format: "har" };
    }
    const errors: string[] = [];
    let count = 0;
    let lineNo = 0;
    const take = (line: string): Flow | undefined => {
      lineNo++;
      if (!line.trim()) return undefined;
      try {
        const flow = decodeFlow(line);
        count++;
        return flow;
      } catch (err) {
        errors.push(`${file}:${lineNo}: ${(err as Error).message}`);
        return undefined;
      }
    };
    const decoder = new StringDecoder("utf8");
    let rest = "";
    for (; n > 0; n = read()) {
      const lines = (rest + decoder.write(buf.subarray(0, n))).split("\n");
      rest = lines.pop() as string;
      for (const line of lines) {
        const flow = take(line);
        if (flow) yield flow;
      }
    }
    const last = take(rest + decoder.end());
    if (last) yield last;
    return { count, errors, format: "pryx" };
  } finally {
    if (!stdin) fs.closeSync(fd);
  }
}

/** Every flow of a file handed to `onFlow` as it is decoded; an error thrown by `onFlow` propagates. */
export function readFlows(file: string, onFlow: (flow: Flow) => void): FlowFileRead {
  const flows = flowsIn(file);
  try {
    for (;;) {
      const next = flows.next();
      if (next.done) return next.value;
      onFlow(next.value);
    }
  } finally {
    // Closes the file when onFlow threw (a no-op once the generator has finished).
    flows.return(NOTHING_READ);
  }
}

/**
 * Every flow of a file, for the replays; unreadable entries are logged under `label` (the option
 * or command that read it). A file with no flow in it at all is an error, as for -r (mitmdump
 * exits 1): a CI run replaying a broken capture replayed nothing and passed.
 */
export function flowsOfFile(file: string, log: Log, label: string): Flow[] {
  const flows: Flow[] = [];
  const { errors } = readFlows(file, (f) => flows.push(f));
  if (flows.length === 0 && errors.length > 0) throw noFlowError(file, errors);
  for (const e of errors) log.warn(`${label}: ${e}`);
  return flows;
}

/** A file that was read and held no flow at all: the first reason, and how many more. */
export function noFlowError(file: string, errors: readonly string[]): Error {
  return new Error(`no flow could be read from ${file}: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length === 2 ? "" : "s"})` : ""}`);
}

const NOTHING_READ: FlowFileRead = { count: 0, errors: [], format: "pryx" };
