/** Nearest-rank percentile; `sorted` must be ascending. NaN when there are no samples. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/**
 * Latency samples in a growable typed array: at tens of thousands of samples per second a
 * plain number[] costs noticeable GC in the generator, which would then measure itself.
 */
export class Samples {
  #buf = new Float64Array(1 << 16);
  #n = 0;

  push(v: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = v;
  }

  get length(): number {
    return this.#n;
  }

  sorted(): Float64Array {
    return this.#buf.slice(0, this.#n).sort();
  }
}
