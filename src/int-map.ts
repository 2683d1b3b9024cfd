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
const MIN_SLOTS = 1024;

export class IntMap {
  /** Per slot: key + 1 (EMPTY where free), then the value. */
  private table: Int32Array;
  private mask: number;
  private count = 0;

  constructor() {
    this.table = new Int32Array(MIN_SLOTS * 2);
    this.mask = MIN_SLOTS - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The home slot: keys are often hashes already, but nothing says their low bits are spread. */
  private home(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
  }

  /** The slot holding `key`, or the free slot where it would go. */
  private slotOf(key: number): number {
    const table = this.table;
    const stored = key + 1;
    let i = this.home(key);
    for (;;) {
      const k = table[i * 2] as number;
      if (k === stored || k === EMPTY) return i;
      i = (i + 1) & this.mask;
    }
  }

  get(key: number): number | undefined {
    const i = this.slotOf(key);
    return this.table[i * 2] === EMPTY ? undefined : this.table[i * 2 + 1];
  }

  has(key: number): boolean {
    return this.table[this.slotOf(key) * 2] !== EMPTY;
  }

  set(key: number, value: number): void {
    if (!(key >= 0 && key < 0x40000000 && Number.isInteger(key))) throw new RangeError(`IntMap key out of range: ${key}`);
    if (!(value >= 0 && value <= 0x7fffffff && Number.isInteger(value))) throw new RangeError(`IntMap value out of range: ${value}`);
    let i = this.slotOf(key);
    if (this.table[i * 2] === EMPTY) {
      // At most half full, so probes stay short and a free slot always ends a search.
      if ((this.count + 1) * 2 > this.mask + 1) {
        this.grow();
        i = this.slotOf(key);
      }
      this.table[i * 2] = key + 1;
      this.count++;
    }
    this.table[i * 2 + 1] = value;
  }

  delete(key: number): boolean {
    let i = this.slotOf(key);
    const table = this.table;
    if (table[i * 2] === EMPTY) return false;
    this.count--;
    // Backward-shift deletion: an entry after the hole whose probe passed through it moves
    // into it, so no tombstones pile up under dump mode's steady adding and dropping.
    const mask = this.mask;
    for (let j = (i + 1) & mask; table[j * 2] !== EMPTY; j = (j + 1) & mask) {
      const h = this.home((table[j * 2] as number) - 1);
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
    this.table = new Int32Array(MIN_SLOTS * 2);
    this.mask = MIN_SLOTS - 1;
    this.count = 0;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j] as number;
      if (k === EMPTY) continue;
      const i = this.slotOf(k - 1);
      this.table[i * 2] = k;
      this.table[i * 2 + 1] = old[j + 1] as number;
    }
  }
}
