/**
 * Flow list orders (mitmproxy's view_order: time, method, url, size) as total orders over
 * whatever the store orders (its slots), with the sorted-array helpers it needs to keep
 * 100,000 flows ordered without re-sorting.
 */

// Sorted, as mitmproxy's order chooser lists them: `o` then a digit picks what it picks there.
export const ORDERS = ["method", "size", "time", "url"] as const;
export type OrderKey = (typeof ORDERS)[number];

export function isOrderKey(s: string): s is OrderKey {
  return (ORDERS as readonly string[]).includes(s);
}

export type Compare<T> = (a: T, b: T) => number;

/** What each order reads from an element. */
export interface OrderKeys<T> {
  seq(x: T): number;
  method(x: T): string;
  url(x: T): string;
  size(x: T): number;
}

function str(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every order ends on `seq`, which is unique, so no two elements compare equal: that makes
 * binary search find exactly one position per flow. Time order is arrival order (seq).
 */
export function comparators<T>(k: OrderKeys<T>): Record<OrderKey, Compare<T>> {
  return {
    time: (a, b) => k.seq(a) - k.seq(b),
    method: (a, b) => str(k.method(a), k.method(b)) || k.seq(a) - k.seq(b),
    url: (a, b) => str(k.url(a), k.url(b)) || k.seq(a) - k.seq(b),
    size: (a, b) => k.size(a) - k.size(b) || k.seq(a) - k.seq(b),
  };
}

/** First index whose element is not less than `x`. */
export function lowerBound<T>(arr: readonly T[], x: T, cmp: Compare<T>): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(arr[mid]!, x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of `x` itself, searched by its sort key; -1 when absent. */
export function indexOf<T>(arr: readonly T[], x: T, cmp: Compare<T>): number {
  const i = lowerBound(arr, x, cmp);
  return i < arr.length && arr[i] === x ? i : -1;
}

/** Merges sorted `add` into sorted `arr`, in place when that is cheap (appending, or a few inserts). */
export function mergeSorted<T>(arr: T[], add: T[], cmp: Compare<T>): T[] {
  if (add.length === 0) return arr;
  add.sort(cmp);
  if (arr.length === 0 || cmp(add[0]!, arr[arr.length - 1]!) > 0) {
    for (const f of add) arr.push(f);
    return arr;
  }
  // A splice moves the tail: fine for a handful, but a linear merge beats k splices of 100,000 entries.
  if (add.length <= 8) {
    for (const f of add) arr.splice(lowerBound(arr, f, cmp), 0, f);
    return arr;
  }
  const out: T[] = new Array<T>(arr.length + add.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < arr.length && j < add.length) out[k++] = cmp(arr[i]!, add[j]!) <= 0 ? arr[i++]! : add[j++]!;
  while (i < arr.length) out[k++] = arr[i++]!;
  while (j < add.length) out[k++] = add[j++]!;
  return out;
}

/**
 * Removes `gone` from sorted `arr`, each found by binary search. Neighbouring rows go together:
 * `max_flows` dropping the oldest flows under a flood is one run at an end of the list, one
 * splice; scattered removals are one pass. (Testing each of 100,000 rows against a set of the
 * gone ones took 2 ms a batch.) A row not found costs that test after all.
 */
export function removeSorted<T>(arr: T[], gone: Iterable<T>, cmp: Compare<T>): T[] {
  const at: number[] = [];
  for (const x of gone) {
    const i = indexOf(arr, x, cmp);
    if (i < 0) {
      const set = new Set(gone);
      return arr.filter((y) => !set.has(y));
    }
    at.push(i);
  }
  if (at.length === 0) return arr;
  at.sort((a, b) => a - b);
  let runs = 1;
  for (let k = 1; k < at.length; k++) if (at[k] !== (at[k - 1] as number) + 1) runs++;
  if (runs <= 8) {
    for (let end = at.length - 1; end >= 0; ) {
      let start = end;
      while (start > 0 && at[start - 1] === (at[start] as number) - 1) start--;
      arr.splice(at[start] as number, end - start + 1);
      end = start - 1;
    }
    return arr;
  }
  const out: T[] = [];
  let next = 0;
  for (let i = 0; i < arr.length; i++) {
    if (i === at[next]) next++;
    else out.push(arr[i] as T);
  }
  return out;
}
