/**
 * Flow list orders (mitmproxy's view_order: time, method, url, size) as total orders on summaries,
 * with the sorted-array helpers the store needs to keep 100,000 flows ordered without re-sorting.
 */
import type { FlowSummary } from "../protocol.ts";

export const ORDERS = ["time", "method", "url", "size"] as const;
export type OrderKey = (typeof ORDERS)[number];

export function isOrderKey(s: string): s is OrderKey {
  return (ORDERS as readonly string[]).includes(s);
}

export type Compare = (a: FlowSummary, b: FlowSummary) => number;

function str(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function totalSize(f: FlowSummary): number {
  return f.reqSize + (f.respSize ?? 0);
}

/**
 * Every order ends on `seq`, which is unique, so no two flows compare equal: that makes binary
 * search find exactly one position per flow. Time order is arrival order (seq).
 */
export const COMPARE: Record<OrderKey, Compare> = {
  time: (a, b) => a.seq - b.seq,
  method: (a, b) => str(a.method, b.method) || a.seq - b.seq,
  url: (a, b) => str(a.url, b.url) || a.seq - b.seq,
  size: (a, b) => totalSize(a) - totalSize(b) || a.seq - b.seq,
};

/** First index whose element is not less than `x`. */
export function lowerBound(arr: readonly FlowSummary[], x: FlowSummary, cmp: Compare): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(arr[mid]!, x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the flow with x's id, searched by x's sort key; -1 when absent. */
export function indexOf(arr: readonly FlowSummary[], x: FlowSummary, cmp: Compare): number {
  const i = lowerBound(arr, x, cmp);
  return i < arr.length && arr[i]!.id === x.id ? i : -1;
}

/** Merges sorted `add` into sorted `arr`, in place when that is cheap (appending, or a few inserts). */
export function mergeSorted(arr: FlowSummary[], add: FlowSummary[], cmp: Compare): FlowSummary[] {
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
  const out: FlowSummary[] = new Array<FlowSummary>(arr.length + add.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < arr.length && j < add.length) out[k++] = cmp(arr[i]!, add[j]!) <= 0 ? arr[i++]! : add[j++]!;
  while (i < arr.length) out[k++] = arr[i++]!;
  while (j < add.length) out[k++] = add[j++]!;
  return out;
}
