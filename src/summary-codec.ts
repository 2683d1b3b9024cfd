/**
 * Flow summaries in the packed form they cross the thread boundary in, and the console keeps:
 * the UTF-8 bytes of all the text of a batch and one Float64Array for its numbers.
 *
 * Why not the objects: a structured clone of a summary builds a 28-property object and its
 * strings on the receiving side, and the console keeps every one of them for the session.
 * Under a flood that is ten thousand objects a second for the main thread's garbage collector
 * to copy and then walk, on the same two cores as the proxy. A packed batch is two objects to
 * clone. Its text crosses as bytes, not as a string: the console keeps every batch's text,
 * and a string of a hundred kilobytes a batch is young-generation data its collector copied
 * twice (3–14 ms pauses under a flood, some of them landing on a key press); bytes live
 * outside the heap, and a record is decoded when its row is drawn.
 */
import type { FlowSummary, FlowType } from "./protocol.ts";

export interface SummaryBatch {
  readonly count: number;
  /** Each flow's record (its text fields joined by SEP, see TEXT_FIELDS), the records joined by SEP too, in UTF-8. */
  readonly bytes: Uint8Array;
  /** SUMMARY_NUMS numbers per flow (see the N_ offsets); NaN stands for undefined. */
  readonly nums: Float64Array;
}

export const SEP = "\u0000";

/** The text fields of a record, in order; `id` comes first so a record's id is a prefix. */
const TEXT_FIELDS = ["id", "type", "method", "scheme", "host", "path", "url", "httpVersion", "reason", "contentType", "error", "interceptedAt", "client", "server", "comment", "marker", "responseVersion"] as const;
type TextField = (typeof TEXT_FIELDS)[number];
const INDEX = Object.fromEntries(TEXT_FIELDS.map((name, i) => [name, i])) as Record<TextField, number>;
export const T_METHOD = INDEX.method;
export const T_URL = INDEX.url;

/** Optional text fields: a flag says whether each is there, since "" is a value of its own. */
const OPTIONAL: readonly TextField[] = ["reason", "contentType", "error", "interceptedAt", "server", "responseVersion"];

export const N_SEQ = 0;
export const N_TS = 1;
export const N_PORT = 2;
export const N_STATUS = 3;
export const N_REQ_SIZE = 4;
export const N_RESP_SIZE = 5;
export const N_DURATION = 6;
export const N_MESSAGES = 7;
export const N_FLAGS = 8;
/** The record's length in `bytes`. */
export const N_LENGTH = 9;
export const SUMMARY_NUMS = 10;

export const F_INTERCEPTED = 1;
export const F_MARKED = 2;
const F_REPLAY = 4;
const F_MODIFIED = 8;
const F_LIVE = 16;
export const F_SHOWN = 32;
/** The flag saying each optional field is there: 64, 128, and so on. */
const PRESENT: readonly [TextField, number][] = OPTIONAL.map((name, k) => [name, 64 << k]);
const PRESENT_BIT = Object.fromEntries(PRESENT) as Partial<Record<TextField, number>>;
/** With F_REPLAY: the response was replayed (server replay), not the request. The bit after the presence flags. */
const F_REPLAY_RESPONSE = 64 << OPTIONAL.length;

/** The presence flags of the optional fields (see `SummaryWriter.end`). */
const P_REASON = PRESENT_BIT.reason as number;
const P_CONTENT_TYPE = PRESENT_BIT.contentType as number;
const P_ERROR = PRESENT_BIT.error as number;
const P_INTERCEPTED_AT = PRESENT_BIT.interceptedAt as number;
const P_SERVER = PRESENT_BIT.server as number;
const P_RESPONSE_VERSION = PRESENT_BIT.responseVersion as number;

const num = (n: number | undefined): number => (n === undefined ? NaN : n);
const opt = (n: number): number | undefined => (Number.isNaN(n) ? undefined : n);

/**
 * Builds a batch one record at a time: each record's TEXT_FIELDS in order through `text`, then
 * its numbers through `end` (`encodeSummaries` writes each summary so).
 */
/** An empty batch, shared: never transferred (see `transferables`). */
export const EMPTY_BATCH: SummaryBatch = { count: 0, bytes: new Uint8Array(0), nums: new Float64Array(0) };

export class SummaryWriter {
  private readonly parts: string[] = [];
  private readonly nums: Float64Array;
  private count = 0;
  private fields = 0;
  private length = 0;

  constructor(capacity: number) {
    this.nums = new Float64Array(capacity * SUMMARY_NUMS);
  }

  /** The record's next text field; undefined is written as "" (its presence flag tells them apart). */
  text(value: string | undefined): void {
    // A separator inside a field (a comment, an error) would shift every field after it.
    // An addon may have put a number or an object where text goes (a comment): as text, not a throw that drops the batch.
    const text = typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
    const v = text.includes(SEP) ? text.replaceAll(SEP, "\ufffd") : text;
    this.parts.push(v);
    this.length += v.length;
    this.fields++;
  }

  /** Ends the record with its numbers; `flags` holds the F_ and P_ bits. */
  end(seq: number, ts: number, port: number, status: number | undefined, reqSize: number, respSize: number | undefined, duration: number | undefined, messages: number | undefined, flags: number): void {
    if (this.fields !== TEXT_FIELDS.length) throw new Error(`summary record ${this.count} has ${this.fields} text fields, not ${TEXT_FIELDS.length}`);
    const at = this.count * SUMMARY_NUMS;
    const nums = this.nums;
    nums[at + N_SEQ] = seq;
    nums[at + N_TS] = ts;
    nums[at + N_PORT] = port;
    nums[at + N_STATUS] = num(status);
    nums[at + N_REQ_SIZE] = reqSize;
    nums[at + N_RESP_SIZE] = num(respSize);
    nums[at + N_DURATION] = num(duration);
    nums[at + N_MESSAGES] = num(messages);
    nums[at + N_FLAGS] = flags;
    // Lengths in characters are lengths in bytes while the text is ASCII, checked once in `finish`.
    nums[at + N_LENGTH] = this.length + TEXT_FIELDS.length - 1;
    this.count++;
    this.fields = 0;
    this.length = 0;
  }

  finish(): SummaryBatch {
    if (this.count === 0) return EMPTY_BATCH;
    const text = this.parts.join(SEP);
    const size = Buffer.byteLength(text);
    const nums = this.count * SUMMARY_NUMS === this.nums.length ? this.nums : this.nums.slice(0, this.count * SUMMARY_NUMS);
    if (size !== text.length) byteLengths(this.parts, nums, this.count);
    // Its own ArrayBuffer, exactly the text's size: it is transferred, and a view of Buffer's shared pool would carry the pool.
    const bytes = Buffer.allocUnsafeSlow(size);
    bytes.write(text, 0, "utf8");
    return { count: this.count, bytes, nums };
  }
}

export function encodeSummaries(list: readonly FlowSummary[]): SummaryBatch {
  const w = new SummaryWriter(list.length);
  for (const f of list) {
    w.text(f.id);
    w.text(f.type);
    w.text(f.method);
    w.text(f.scheme);
    w.text(f.host);
    w.text(f.path);
    w.text(f.url);
    w.text(f.httpVersion);
    w.text(f.reason);
    w.text(f.contentType);
    w.text(f.error);
    w.text(f.interceptedAt);
    w.text(f.client);
    w.text(f.server);
    w.text(f.comment);
    w.text(f.marker);
    w.text(f.responseVersion);
    w.end(f.seq, f.ts, f.port, f.status, f.reqSize, f.respSize, f.duration, f.messages, summaryFlags(f));
  }
  return w.finish();
}

function summaryFlags(f: FlowSummary): number {
  return (
    (f.intercepted ? F_INTERCEPTED : 0) | (f.marker !== "" ? F_MARKED : 0) | (f.replay ? F_REPLAY : 0) | (f.replay === "response" ? F_REPLAY_RESPONSE : 0) | (f.modified ? F_MODIFIED : 0) | (f.live ? F_LIVE : 0) |
    (f.shown ? F_SHOWN : 0) | (f.reason !== undefined ? P_REASON : 0) | (f.contentType !== undefined ? P_CONTENT_TYPE : 0) | (f.error !== undefined ? P_ERROR : 0) |
    (f.interceptedAt !== undefined ? P_INTERCEPTED_AT : 0) | (f.server !== undefined ? P_SERVER : 0) | (f.responseVersion !== undefined ? P_RESPONSE_VERSION : 0)
  );
}

/** Records' lengths in bytes, for a batch whose text is not all ASCII. */
function byteLengths(parts: readonly string[], nums: Float64Array, count: number): void {
  let k = 0;
  for (let i = 0; i < count; i++) {
    let length = TEXT_FIELDS.length - 1;
    for (let f = 0; f < TEXT_FIELDS.length; f++) length += Buffer.byteLength(parts[k++] as string);
    nums[i * SUMMARY_NUMS + N_LENGTH] = length;
  }
}

/**
 * The buffers a batch can hand over to the other thread instead of copying: only ones it owns
 * whole (a view of a shared buffer would detach the rest of it) and never the shared empty batch.
 */
export function transferables(b: SummaryBatch): ArrayBuffer[] {
  if (b.count === 0) return [];
  const out: ArrayBuffer[] = [];
  for (const view of [b.bytes, b.nums]) {
    if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer) out.push(view.buffer);
  }
  return out;
}

/** A batch's bytes as a Buffer, without a copy. */
export function batchBuffer(b: SummaryBatch): Buffer {
  return Buffer.isBuffer(b.bytes) ? b.bytes : Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
}

/** Calls `each` with every record of a batch and the offset of its numbers in `nums`. */
export function forEachRecord(b: SummaryBatch, each: (record: string, at: number) => void): void {
  forEachRecordStart(b, (bytes, start, at) => each(bytes.toString("utf8", start, start + recordLength(b.nums, at)), at));
}

/**
 * Calls `each` with the batch's bytes, where each record starts in them, and the offset of the
 * record's numbers: for a reader that keeps records without a string of their own each.
 */
export function forEachRecordStart(b: SummaryBatch, each: (bytes: Buffer, start: number, at: number) => void): void {
  const bytes = batchBuffer(b);
  let pos = 0;
  for (let i = 0; i < b.count; i++) {
    const at = i * SUMMARY_NUMS;
    each(bytes, pos, at);
    pos += (b.nums[at + N_LENGTH] as number) + 1;
  }
}

/** The length of the record whose numbers start at `nums[at]`. */
export function recordLength(nums: Float64Array, at: number): number {
  return nums[at + N_LENGTH] as number;
}

/** A record and its numbers (at offset `at` of `nums`) as a summary. */
export function decodeSummary(record: string, nums: Float64Array, at: number): FlowSummary {
  const t = record.split(SEP);
  const flags = nums[at + N_FLAGS] as number;
  const text = (name: TextField): string => t[INDEX[name]] ?? "";
  const optional = (name: TextField): string | undefined => (flags & (PRESENT_BIT[name] ?? 0) ? text(name) : undefined);
  return {
    id: text("id"),
    seq: nums[at + N_SEQ] as number,
    type: text("type") as FlowType,
    ts: nums[at + N_TS] as number,
    method: text("method"),
    scheme: text("scheme"),
    host: text("host"),
    port: nums[at + N_PORT] as number,
    path: text("path"),
    url: text("url"),
    httpVersion: text("httpVersion"),
    status: opt(nums[at + N_STATUS] as number),
    reason: optional("reason"),
    contentType: optional("contentType"),
    reqSize: nums[at + N_REQ_SIZE] as number,
    respSize: opt(nums[at + N_RESP_SIZE] as number),
    duration: opt(nums[at + N_DURATION] as number),
    error: optional("error"),
    intercepted: (flags & F_INTERCEPTED) !== 0,
    interceptedAt: optional("interceptedAt") as FlowSummary["interceptedAt"],
    replay: (flags & F_REPLAY) === 0 ? undefined : (flags & F_REPLAY_RESPONSE) !== 0 ? "response" : "request",
    modified: (flags & F_MODIFIED) !== 0,
    live: (flags & F_LIVE) !== 0,
    client: text("client"),
    server: optional("server"),
    messages: opt(nums[at + N_MESSAGES] as number),
    comment: text("comment"),
    marker: text("marker"),
    shown: (flags & F_SHOWN) !== 0,
    responseVersion: optional("responseVersion"),
  };
}

/** Every summary of a batch, decoded (dump and tests read batches this way). */
export function decodeSummaries(b: SummaryBatch): FlowSummary[] {
  const out: FlowSummary[] = [];
  forEachRecord(b, (record, at) => out.push(decodeSummary(record, b.nums, at)));
  return out;
}

/** Text field `k` of a record, without splitting the whole record. */
export function recordField(record: string, k: number): string {
  let start = 0;
  for (let i = 0; i < k; i++) start = record.indexOf(SEP, start) + 1;
  const end = record.indexOf(SEP, start);
  return record.slice(start, end < 0 ? record.length : end);
}

