/**
 * The console's flow summaries, packed: each flow is a slot holding where its record is (the
 * bytes of the batch it came in, and its start there; see summary-codec.ts) and its numbers in
 * a NumberSlab. A hundred thousand flows are then a few hundred buffers outside the heap,
 * not a string each, nor the half million objects their summaries would be; a record is
 * decoded from its batch when it is read.
 *
 * A slot is never changed in place: a changed flow gets a new slot, so the store can still
 * find the old one in its sorted view by the old sort key, as it could with an old object.
 * Summaries are decoded only for what is drawn or asked for, and the last ones are cached so
 * that asking twice gives the same object (React compares them by identity).
 */
import type { FlowSummary } from "../protocol.ts";
import { NumberSlab } from "../number-slab.ts";
import { F_INTERCEPTED, F_MARKED, F_SHOWN, N_FLAGS, N_REQ_SIZE, N_RESP_SIZE, N_SEQ, SUMMARY_NUMS, T_METHOD, T_URL, decodeSummary, recordField, recordLength } from "../summary-codec.ts";

const DECODED_CACHE = 1024;

export class SummaryTable {
  /** Each slot's batch bytes (undefined: a free slot) and where its record starts in them. */
  private batches: (Buffer | undefined)[] = [];
  private starts: number[] = [];
  private nums = new NumberSlab(SUMMARY_NUMS);
  /** Method or URL of each slot, kept once read while the list is in that order. */
  private sortKeys: (string | undefined)[] = [];
  private sortKeyField = -1;
  private readonly decoded = new Map<number, FlowSummary>();

  /** Stores the record at `start` of `bytes` whose numbers start at `from[at]`; returns its slot. */
  put(bytes: Buffer, start: number, from: Float64Array, at: number): number {
    const slot = this.nums.alloc();
    const page = this.nums.page(slot);
    const base = this.nums.base(slot);
    for (let k = 0; k < SUMMARY_NUMS; k++) page[base + k] = from[at + k] as number;
    this.batches[slot] = bytes;
    this.starts[slot] = start;
    return slot;
  }

  release(slot: number): void {
    this.batches[slot] = undefined;
    this.sortKeys[slot] = undefined;
    this.decoded.delete(slot);
    this.nums.release(slot);
  }

  clear(): void {
    this.batches = [];
    this.starts = [];
    this.sortKeys = [];
    this.nums = new NumberSlab(SUMMARY_NUMS);
    this.decoded.clear();
  }

  private num(slot: number, k: number): number {
    return this.nums.page(slot)[this.nums.base(slot) + k] as number;
  }

  seq(slot: number): number {
    return this.num(slot, N_SEQ);
  }

  private flag(slot: number, bit: number): boolean {
    return (this.num(slot, N_FLAGS) & bit) !== 0;
  }

  intercepted(slot: number): boolean {
    return this.flag(slot, F_INTERCEPTED);
  }

  marked(slot: number): boolean {
    return this.flag(slot, F_MARKED);
  }

  /** Whether the view filter shows the flow, as the engine judged when it sent it. */
  shown(slot: number): boolean {
    return this.flag(slot, F_SHOWN);
  }

  /** Request and response bytes together. */
  size(slot: number): number {
    const resp = this.num(slot, N_RESP_SIZE);
    return this.num(slot, N_REQ_SIZE) + (Number.isNaN(resp) ? 0 : resp);
  }

  private bytes(slot: number): Buffer {
    const t = this.batches[slot];
    if (t === undefined) throw new Error(`summary slot ${slot} is free`);
    return t;
  }

  private record(slot: number): string {
    const start = this.starts[slot] as number;
    return this.bytes(slot).toString("utf8", start, start + recordLength(this.nums.page(slot), this.nums.base(slot)));
  }

  /** The record's first field, found without cutting out the record. */
  id(slot: number): string {
    const b = this.bytes(slot);
    const start = this.starts[slot] as number;
    return b.toString("utf8", start, b.indexOf(0, start));
  }

  method(slot: number): string {
    return this.sortKey(slot, T_METHOD);
  }

  url(slot: number): string {
    return this.sortKey(slot, T_URL);
  }

  private sortKey(slot: number, field: number): string {
    if (field !== this.sortKeyField) {
      this.sortKeys = [];
      this.sortKeyField = field;
    }
    return (this.sortKeys[slot] ??= recordField(this.record(slot), field));
  }

  /** The slot's summary; the same object while it stays among the last ones decoded. */
  summary(slot: number): FlowSummary {
    const cached = this.decoded.get(slot);
    if (cached) return cached;
    const f = decodeSummary(this.record(slot), this.nums.page(slot), this.nums.base(slot));
    if (this.decoded.size >= DECODED_CACHE) this.decoded.delete(this.decoded.keys().next().value as number);
    this.decoded.set(slot, f);
    return f;
  }
}
