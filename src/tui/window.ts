/**
 * Windowing for fixed-height rows: which slice of a long list is on screen.
 * Pure, so it is tested without rendering.
 */

export interface WindowInput {
  /** Rows in the list. */
  count: number;
  /** Rows that fit on screen. */
  height: number;
  /** The focused row (clamped into range). */
  focus: number;
  /** The first visible row before this change; the window moves only as far as needed to show the focus. */
  top: number;
}

/** The first visible row: unchanged while the focus stays in view, so the list does not jump. */
export function calcTop({ count, height, focus, top }: WindowInput): number {
  const h = Math.max(1, height);
  const maxTop = Math.max(0, count - h);
  let t = Math.min(Math.max(0, top), maxTop);
  const f = clamp(focus, 0, Math.max(0, count - 1));
  if (f < t) t = f;
  else if (f >= t + h) t = f - h + 1;
  return Math.min(Math.max(0, t), maxTop);
}

export function clamp(n: number, lo: number, hi: number): number {
  return n < lo ? lo : n > hi ? hi : n;
}

/** The scroll offset of a view without a focus (detail, help, log): kept within the content. */
export function clampScroll(scroll: number, count: number, height: number): number {
  return clamp(scroll, 0, Math.max(0, count - Math.max(1, height)));
}
