/**
 * Values by arrival number (`seq`), in an array indexed by seq. The engine numbers flows as
 * they arrive, so the seqs alive are dense and a new flow's is above all others: the engine's
 * store and the console's find a flow by seq with an array read, where a Map keyed by flow id
 * hashed an id and missed the cache in a table of megabytes for every flow of a flood, and
 * kept one more string per flow for the garbage collector.
 */
export class SeqMap<T> {
  /** values[i] is the value of seq `base + i`. */
  private values: (T | undefined)[] = [];
  private base = 0;
  /** One past the highest index in use. */
  private end = 0;
  /** No index below this is in use: dropping the oldest (`max_flows`) leaves no gap to walk. */
  private first = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(seq: number): T | undefined {
    const i = seq - this.base;
    return i >= 0 && i < this.end ? this.values[i] : undefined;
  }

  set(seq: number, value: T): void {
    let i = seq - this.base;
    if (i < 0 || i >= this.values.length) i = this.makeRoom(seq);
    if (this.values[i] === undefined) this.count++;
    this.values[i] = value;
    if (i >= this.end) this.end = i + 1;
    if (i < this.first) this.first = i;
  }

  delete(seq: number): void {
    const i = seq - this.base;
    if (i < 0 || i >= this.end || this.values[i] === undefined) return;
    this.values[i] = undefined;
    this.count--;
    if (i === this.first) while (this.first < this.end && this.values[this.first] === undefined) this.first++;
  }

  clear(): void {
    this.values = [];
    this.base = 0;
    this.end = 0;
    this.first = 0;
    this.count = 0;
  }

  /** Calls `fn` for every stored seq from `from` up, lowest first; it may set or delete the seq it is given. */
  forEach(fn: (value: T, seq: number) => void, from = this.base): void {
    for (let i = Math.max(this.first, from - this.base); i < this.end; i++) {
      const value = this.values[i];
      if (value !== undefined) fn(value, this.base + i);
    }
  }

  /** Every stored [seq, value], lowest seq first. */
  *entries(): Generator<[number, T]> {
    for (let i = this.first; i < this.end; i++) {
      const value = this.values[i];
      if (value !== undefined) yield [this.base + i, value];
    }
  }

  /** The lowest stored seq above `seq`, or undefined. */
  nextAfter(seq: number): number | undefined {
    for (let i = Math.max(this.first, seq + 1 - this.base); i < this.end; i++) if (this.values[i] !== undefined) return this.base + i;
    return undefined;
  }

  /**
   * Re-lays the array so that `seq` fits: from the lowest stored seq (or `seq`, if lower), with
   * room to double. Seqs below that are gone, so a long session that drops its oldest flows
   * (`max_flows`, `z`) does not keep a place for each.
   */
  private makeRoom(seq: number): number {
    const first = this.first;
    const kept = first < this.end;
    const low = kept ? Math.min(seq, this.base + first) : seq;
    const high = Math.max(seq, this.base + this.end - 1);
    const next = new Array<T | undefined>(Math.max(1024, 2 * (high - low + 1))).fill(undefined);
    for (let i = first; i < this.end; i++) next[this.base + i - low] = this.values[i];
    this.values = next;
    this.end = kept ? this.base + this.end - low : 0;
    this.first = kept ? this.base + first - low : 0;
    this.base = low;
    return seq - low;
  }
}
