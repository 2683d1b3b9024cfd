/**
 * The console's flows by arrival number (`seq`): each seq's slot in the SummaryTable, in an
 * Int32Array indexed by seq. The engine numbers flows as they arrive, so the live seqs are
 * dense and a new flow's seq is above all others. Under a flood this is the console's busiest
 * lookup (every record of every batch); a Map keyed by flow id made each one a hash of a fresh
 * id string and a miss in a table of megabytes, and kept one string per flow for the collector.
 */
const EMPTY = -1;

export class SeqIndex {
  /** slots[i] is the slot of seq `base + i`, or EMPTY. */
  private slots = new Int32Array(1024).fill(EMPTY);
  private base = 0;
  /** One past the highest index in use. */
  private end = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The slot of `seq`, or -1. */
  get(seq: number): number {
    const i = seq - this.base;
    return i >= 0 && i < this.end ? (this.slots[i] as number) : EMPTY;
  }

  set(seq: number, slot: number): void {
    let i = seq - this.base;
    if (i < 0 || i >= this.slots.length) i = this.makeRoom(seq);
    if (this.slots[i] === EMPTY) this.count++;
    this.slots[i] = slot;
    if (i >= this.end) this.end = i + 1;
  }

  delete(seq: number): void {
    const i = seq - this.base;
    if (i < 0 || i >= this.end || this.slots[i] === EMPTY) return;
    this.slots[i] = EMPTY;
    this.count--;
  }

  clear(): void {
    this.slots = new Int32Array(1024).fill(EMPTY);
    this.base = 0;
    this.end = 0;
    this.count = 0;
  }

  /** Calls `fn` for every stored seq from `from` up, lowest first. */
  forEach(fn: (slot: number, seq: number) => void, from = this.base): void {
    const slots = this.slots;
    for (let i = Math.max(0, from - this.base); i < this.end; i++) {
      const slot = slots[i] as number;
      if (slot !== EMPTY) fn(slot, this.base + i);
    }
  }

  /** The lowest stored seq above `seq`, or undefined. */
  nextAfter(seq: number): number | undefined {
    for (let i = Math.max(0, seq + 1 - this.base); i < this.end; i++) if (this.slots[i] !== EMPTY) return this.base + i;
    return undefined;
  }

  /**
   * Re-lays the array so that `seq` fits: from the lowest stored seq (or `seq`, if lower), with
   * room to double. Seqs below that are gone, so a long session that drops its oldest flows
   * (`max_flows`, `z`) does not keep an entry for each.
   */
  private makeRoom(seq: number): number {
    let first = 0;
    while (first < this.end && this.slots[first] === EMPTY) first++;
    const low = first < this.end ? Math.min(seq, this.base + first) : seq;
    const high = Math.max(seq, this.base + this.end - 1);
    const next = new Int32Array(Math.max(1024, 2 * (high - low + 1))).fill(EMPTY);
    if (first < this.end) next.set(this.slots.subarray(first, this.end), this.base + first - low);
    this.slots = next;
    this.end = first < this.end ? this.base + this.end - low : 0;
    this.base = low;
    return seq - low;
  }
}
