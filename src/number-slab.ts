/**
 * Fixed-size slots of numbers, `width` Float64 values each, in pages: for the engine's packed
 * flows and the console's summaries, which keep a flow's numbers here rather than in objects.
 * A released slot is reused. Pages rather than one array doubled as it fills: doubling copied
 * every flow's numbers and faulted in an array twice the size at once, tens of milliseconds in
 * the middle of a flood, on the proxy's thread or the keyboard's.
 */
const PAGE_SLOTS = 1024;

export class NumberSlab {
  private readonly pages: Float64Array[] = [];
  private readonly free: number[] = [];
  private next = 0;

  constructor(private readonly width: number) {}

  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.next++;
    if (slot % PAGE_SLOTS === 0) this.pages.push(new Float64Array(this.width * PAGE_SLOTS));
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
    // Every slot free (all flows cleared): the pages go too, rather than be kept for a session that may not need them again.
    if (this.free.length === this.next) {
      this.pages.length = 0;
      this.free.length = 0;
      this.next = 0;
    }
  }

  /** The page holding a slot's numbers; they start at `base(slot)`. */
  page(slot: number): Float64Array {
    return this.pages[(slot / PAGE_SLOTS) | 0] as Float64Array;
  }

  base(slot: number): number {
    return (slot % PAGE_SLOTS) * this.width;
  }
}
