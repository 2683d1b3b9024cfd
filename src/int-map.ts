/**
 * A map from small non-negative integers (below 2^30) to non-negative integers (below 2^31),
 * in one typed array with open addressing.
 *
 * The stores' id indexes hold one entry per flow: hundreds of thousands of them. In a `Map`
 * each insertion probed a table of many megabytes on the collector's heap and every doubling
 * rehashed it there; under a flood the id index's `Map.set` was the largest single cost in the
 * profile of the console's thread. Here an entry is a key and a value side by side off the
 * heap, so a probe touches one cache line, and growing copies a plain array.
 */
const EMPTY = 0;
/**
 * The map is this many tables, each picked by the top bits of a key's hash and grown on its own:
 * one table of 131,072 entries doubling rehashed them all at once, a 30 ms stall of the
 * console's thread in the middle of a flood (a key pressed then waited for it). A shard's
 * doubling moves a 64th of that.
 */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const MIN_SLOTS = 64;

/** One open-addressing table: per slot, key + 1 (EMPTY where free), then the value. */
interface Shard {
  table: Int32Array;
  mask: number;
  count: number;
}

const newShard = (): Shard => ({ table: new Int32Array(MIN_SLOTS * 2), mask: MIN_SLOTS - 1, count: 0 });

/** Keys are often hashes already, but nothing says their bits are spread. */
const hash = (key: number): number => Math.imul(key, 0x9e3779b1) >>> 0;

export class IntMap {
  private shards: Shard[] = Array.from({ length: SHARDS }, newShard);
  private count = 0;

  get size(): number {
    return this.count;
  }

  private shardOf(key: number): Shard {
    return this.shards[hash(key) >>> (32 - SHARD_BITS)] as Shard;
  }

  /** The slot of `shard` holding `key`, or the free slot where it would go. */
  private slotOf(shard: Shard, key: number): number {
    const table = shard.table;
    const stored = key + 1;
    let i = hash(key) & shard.mask;
    for (;;) {
      const k = table[i * 2] as number;
      if (k === stored || k === EMPTY) return i;
      i = (i + 1) & shard.mask;
    }
  }

  get(key: number): number | undefined {
    const shard = this.shardOf(key);
    const i = this.slotOf(shard, key);
    return shard.table[i * 2] === EMPTY ? undefined : shard.table[i * 2 + 1];
  }

  has(key: number): boolean {
    const shard = this.shardOf(key);
    return shard.table[this.slotOf(shard, key) * 2] !== EMPTY;
  }

  set(key: number, value: number): void {
    if (!(key >= 0 && key < 0x40000000 && Number.isInteger(key))) throw new RangeError(`IntMap key out of range: ${key}`);
    if (!(value >= 0 && value <= 0x7fffffff && Number.isInteger(value))) throw new RangeError(`IntMap value out of range: ${value}`);
    const shard = this.shardOf(key);
    let i = this.slotOf(shard, key);
    if (shard.table[i * 2] === EMPTY) {
      // At most half full, so probes stay short and a free slot always ends a search.
      if ((shard.count + 1) * 2 > shard.mask + 1) {
        this.grow(shard);
        i = this.slotOf(shard, key);
      }
      shard.table[i * 2] = key + 1;
      shard.count++;
      this.count++;
    }
    shard.table[i * 2 + 1] = value;
  }

  delete(key: number): boolean {
    const shard = this.shardOf(key);
    let i = this.slotOf(shard, key);
    const table = shard.table;
    if (table[i * 2] === EMPTY) return false;
    shard.count--;
    this.count--;
    // Backward-shift deletion: an entry after the hole whose probe passed through it moves
    // into it, so no tombstones pile up under dump mode's steady adding and dropping.
    const mask = shard.mask;
    for (let j = (i + 1) & mask; table[j * 2] !== EMPTY; j = (j + 1) & mask) {
      const h = hash((table[j * 2] as number) - 1) & mask;
      // Entry j may fill hole i unless its home lies cyclically in (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        table[i * 2] = table[j * 2] as number;
        table[i * 2 + 1] = table[j * 2 + 1] as number;
        i = j;
      }
    }
    table[i * 2] = EMPTY;
    return true;
  }

  clear(): void {
    this.shards = Array.from({ length: SHARDS }, newShard);
    this.count = 0;
  }

  private grow(shard: Shard): void {
    const old = shard.table;
    shard.table = new Int32Array(old.length * 2);
    shard.mask = old.length - 1;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j] as number;
      if (k === EMPTY) continue;
      const i = this.slotOf(shard, k - 1);
      shard.table[i * 2] = k;
      shard.table[i * 2 + 1] = old[j + 1] as number;
    }
  }
}
