/**
 * Values by arrival number (`seq`), in an array indexed by seq. The engine numbers flows as
 * they arrive, so the seqs alive are dense and a new flow's is above all others: the engine's
 * store and the console's find a flow by seq with an array read, where a Map keyed by flow id
 * hashed an id and missed the cache in a table of megabytes for every flow of a flood, and
 * kept one more string per flow for the garbage collector.
  *
 * The array is cut into chunks of a few thousand seqs, found through a short directory: one
 * array for all of them was copied whole at each doubling, an 8 ms stall of the console's
 * thread at 130,000 flows in the middle of a flood; a new chunk costs the same at any size.
 */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
/** Empty chunks left below the lowest seq before the directory is cut down to what is used. */
const TRIM_AT = 64;

type Chunk<T> = (T | undefined)[];

export class SeqMap<T> {
  /** chunks[k] holds seqs from (base + k) * CHUNK; undefined where none of them is stored. */
  private chunks: (Chunk<T> | undefined)[] = [];
  private base = 0;
  /** The lowest stored seq; meaningless while empty. */
  private first = 0;
  /** One past the highest stored seq (0 while empty). */
  private end = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  private chunk(seq: number): Chunk<T> | undefined {
    return this.chunks[Math.floor(seq / CHUNK) - this.base];
  }

  get(seq: number): T | undefined {
    return seq >= 0 ? this.chunk(seq)?.[seq & (CHUNK - 1)] : undefined;
  }

  set(seq: number, value: T): void {
    if (!(seq >= 0 && Number.isInteger(seq))) throw new RangeError(`SeqMap seq out of range: ${seq}`);
    const c = Math.floor(seq / CHUNK);
    if (this.chunks.length === 0) this.base = c;
    else if (c < this.base) {
      this.chunks = [...new Array<undefined>(this.base - c), ...this.chunks];
      this.base = c;
    }
    const k = c - this.base;
    let chunk = this.chunks[k];
    if (chunk === undefined) {
      while (this.chunks.length < k) this.chunks.push(undefined);
      chunk = new Array<T | undefined>(CHUNK).fill(undefined);
      this.chunks[k] = chunk;
    }
    const i = seq & (CHUNK - 1);
    if (chunk[i] === undefined) {
      if (this.count === 0 || seq < this.first) this.first = seq;
      if (seq >= this.end) this.end = seq + 1;
      this.count++;
    }
    chunk[i] = value;
  }

  delete(seq: number): void {
    const chunk = seq >= 0 ? this.chunk(seq) : undefined;
    const i = seq & (CHUNK - 1);
    if (chunk === undefined || chunk[i] === undefined) return;
    chunk[i] = undefined;
    if (--this.count === 0) return this.clear();
    if (seq !== this.first) return;
    this.first = this.nextAfter(seq) as number;
    // The chunks wholly below the lowest seq hold nothing: let them go, and now and then the
    // directory's places for them (a long dump session numbers millions of flows it has dropped).
    const below = Math.floor(this.first / CHUNK) - this.base;
    for (let k = 0; k < below; k++) this.chunks[k] = undefined;
    if (below >= TRIM_AT && below * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(below);
      this.base += below;
    }
  }

  clear(): void {
    this.chunks = [];
    this.base = 0;
    this.first = 0;
    this.end = 0;
    this.count = 0;
  }

  /** Calls `fn` for every stored seq from `from` up, lowest first; it may set or delete the seq it is given. */
  forEach(fn: (value: T, seq: number) => void, from = 0): void {
    if (this.count === 0) return;
    let seq = Math.max(this.first, from);
    while (seq < this.end) {
      const chunk = this.chunk(seq);
      const chunkEnd = (Math.floor(seq / CHUNK) + 1) * CHUNK;
      if (chunk === undefined) {
        seq = chunkEnd;
        continue;
      }
      for (const stop = Math.min(chunkEnd, this.end); seq < stop; seq++) {
        const value = chunk[seq & (CHUNK - 1)];
        if (value !== undefined) fn(value, seq);
      }
    }
  }

  /** Every stored [seq, value], lowest seq first. */
  *entries(): Generator<[number, T]> {
    if (this.count === 0) return;
    for (let seq = this.first; seq < this.end; ) {
      const chunk = this.chunk(seq);
      const chunkEnd = (Math.floor(seq / CHUNK) + 1) * CHUNK;
      if (chunk === undefined) {
        seq = chunkEnd;
        continue;
      }
      for (; seq < chunkEnd && seq < this.end; seq++) {
        const value = chunk[seq & (CHUNK - 1)];
        if (value !== undefined) yield [seq, value];
      }
    }
  }

  /** The lowest stored seq above `seq`, or undefined. */
  nextAfter(seq: number): number | undefined {
    if (this.count === 0) return undefined;
    for (let next = Math.max(seq + 1, this.first); next < this.end; ) {
      const chunk = this.chunk(next);
      const chunkEnd = (Math.floor(next / CHUNK) + 1) * CHUNK;
      if (chunk === undefined) {
        next = chunkEnd;
        continue;
      }
      for (; next < chunkEnd && next < this.end; next++) if (chunk[next & (CHUNK - 1)] !== undefined) return next;
    }
    return undefined;
  }
}
