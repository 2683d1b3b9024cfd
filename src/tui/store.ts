/**
 * The console's view of the flows, kept outside React (mitmproxy's View addon plays this part):
 * a Map of summaries plus the shown flows in order, the focus and the visible window.
 *
 * React reads it through useSyncExternalStore with cached snapshots (`window()`, `counts()`), so a
 * batch that only touches flows off screen leaves the list's snapshot identical and re-renders no row.
 * Costs with n flows: a batch that appends in time order is O(batch); inserting in the middle of
 * another order is a merge, O(n) once per batch; a focus move is O(window); reversing is O(1)
 * (display indexes are mapped, the array is never reversed).
 */
import type { FlowSummary } from "../protocol.ts";
import { COMPARE, indexOf, mergeSorted, type Compare, type OrderKey } from "./order.ts";
import { calcTop, clamp } from "./window.ts";
import { shareStrings } from "./intern.ts";

export interface BatchDelta {
  add: readonly FlowSummary[];
  update: readonly FlowSummary[];
  remove: readonly string[];
  reset: boolean;
}

/** What the flow list draws: the visible rows only. */
export interface ListWindow {
  readonly top: number;
  readonly focus: number;
  readonly rows: readonly FlowSummary[];
}

/** What the status bar shows. */
export interface ViewCounts {
  readonly shown: number;
  readonly total: number;
  readonly intercepted: number;
  /** Display index of the focused flow, -1 with an empty list. */
  readonly focus: number;
}

export interface ViewSettings {
  readonly order: OrderKey;
  readonly reversed: boolean;
  readonly markedOnly: boolean;
  readonly follow: boolean;
}

const COUNTS_LATENESS_MS = 250;

export class FlowStore {
  private readonly flows = new Map<string, FlowSummary>();
  /** Arrival numbers (`seq`) of the flows the view filter shows; undefined when no filter is set (all shown), so a filter costs a set of its matches only. */
  private filterSeqs: Set<number> | undefined = undefined;
  /** Shown flows in ascending order of `cmp`; display order is this, or its reverse. */
  private view: FlowSummary[] = [];
  private cmp: Compare = COMPARE.time;
  private settings: ViewSettings = { order: "time", reversed: false, markedOnly: false, follow: false };
  private focusIdx = 0;
  private focusId: string | undefined;
  private top = 0;
  private height = 20;
  private intercepted = 0;
  /** The highest arrival number seen: flows the engine adds later have higher ones. */
  private maxSeq = -1;
  private _window: ListWindow = { top: 0, focus: 0, rows: [] };
  private _counts: ViewCounts = { shown: 0, total: 0, intercepted: 0, focus: -1 };
  private readonly listeners = new Set<() => void>();
  /** Bumped on every change, for consumers that cache derived data. */
  version = 0;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private changed(): void {
    clearTimeout(this.lateCounts);
    this.lateCounts = undefined;
    this.refresh();
    this.version++;
    for (const l of this.listeners) l();
  }

  /**
   * A flood's batch that leaves the visible rows as they were changes only the counts: those
   * are shown within COUNTS_LATENESS_MS instead of at once. Each repaint redraws the whole
   * screen, and ten a second of them for a status bar's numbers cost the proxy throughput;
   * keys and rows that move still repaint at once (and show the counts as they are).
   */
  private changedLate(): void {
    const rows = this._window;
    this.refresh();
    if (this._window !== rows) this.changed();
    else this.lateCounts ??= setTimeout(() => this.changed(), COUNTS_LATENESS_MS).unref();
  }

  private lateCounts: NodeJS.Timeout | undefined;

  /** Drops a pending late repaint (the console is closing). */
  dispose(): void {
    clearTimeout(this.lateCounts);
    this.lateCounts = undefined;
  }

  // ---- reading ----

  get(id: string): FlowSummary | undefined {
    return this.flows.get(id);
  }

  /** The flow at a display index. */
  at(index: number): FlowSummary | undefined {
    const n = this.view.length;
    if (index < 0 || index >= n) return undefined;
    return this.view[this.settings.reversed ? n - 1 - index : index];
  }

  get size(): number {
    return this.view.length;
  }

  get total(): number {
    return this.flows.size;
  }

  get viewSettings(): ViewSettings {
    return this.settings;
  }

  focused(): FlowSummary | undefined {
    return this.focusId === undefined ? undefined : this.flows.get(this.focusId);
  }

  focusIndex(): number {
    return this.view.length ? this.focusIdx : -1;
  }

  window = (): ListWindow => this._window;
  counts = (): ViewCounts => this._counts;

  /** Display index of a shown flow, or -1. O(log n). */
  indexOfId(id: string): number {
    const f = this.flows.get(id);
    if (!f || !this.visible(f)) return -1;
    const i = indexOf(this.view, f, this.cmp);
    if (i < 0) return -1;
    return this.settings.reversed ? this.view.length - 1 - i : i;
  }

  /** The highest arrival number seen so far (-1 before any flow). */
  get lastSeq(): number {
    return this.maxSeq;
  }

  /** The earliest-arriving flow after arrival number `seq` (O(n): once per command, not per key). */
  firstAfter(seq: number): FlowSummary | undefined {
    let best: FlowSummary | undefined;
    for (const f of this.flows.values()) if (f.seq > seq && (!best || f.seq < best.seq)) best = f;
    return best;
  }

  /** Ids of all shown flows in display order (for commands over @shown; O(n), so not per key). */
  shownIds(): string[] {
    const ids = this.view.map((f) => f.id);
    return this.settings.reversed ? ids.reverse() : ids;
  }

  private visible(f: FlowSummary): boolean {
    return (this.filterSeqs === undefined || this.filterSeqs.has(f.seq)) && (!this.settings.markedOnly || f.marked);
  }

  // ---- engine events ----

  /** `late`: a flood's batch, whose counts alone may wait (see `changedLate`). */
  applyBatch(b: BatchDelta, late = false): void {
    if (b.reset) {
      this.flows.clear();
      if (this.filterSeqs) this.filterSeqs = new Set();
      this.view = [];
      this.intercepted = 0;
      this.focusIdx = 0;
      this.focusId = undefined;
      this.top = 0;
    }
    const leaving = new Set<FlowSummary>();
    const entering = new Set<FlowSummary>();
    let newest: FlowSummary | undefined;

    for (const id of b.remove) {
      const old = this.flows.get(id);
      if (!old) continue;
      if (this.visible(old)) {
        if (entering.has(old)) entering.delete(old);
        else leaving.add(old);
      }
      this.flows.delete(id);
      this.filterSeqs?.delete(old.seq);
      if (old.intercepted) this.intercepted--;
    }

    const upsert = (f: FlowSummary, isNew: boolean) => {
      const old = this.flows.get(f.id);
      const wasVisible = old !== undefined && this.visible(old);
      this.flows.set(f.id, f);
      if (f.seq > this.maxSeq) this.maxSeq = f.seq;
      if (this.filterSeqs) {
        if (f.shown) this.filterSeqs.add(f.seq);
        else this.filterSeqs.delete(f.seq);
      } else if (!f.shown) {
        // A hidden flow before any view event: start tracking from what is known now.
        this.filterSeqs = new Set([...this.flows.values()].filter((x) => x.shown).map((x) => x.seq));
      }
      if (old?.intercepted) this.intercepted--;
      if (f.intercepted) this.intercepted++;
      const isVisible = this.visible(f);
      if (old !== undefined && wasVisible && isVisible && this.cmp(old, f) === 0 && !entering.has(old)) {
        // Same place in the order: swap the object in place, found by binary search.
        const i = indexOf(this.view, old, this.cmp);
        if (i >= 0) {
          this.view[i] = f;
          return;
        }
      }
      if (old !== undefined && wasVisible) {
        if (entering.has(old)) entering.delete(old);
        else leaving.add(old);
      }
      if (isVisible) {
        entering.add(f);
        if (isNew && (!newest || f.seq > newest.seq)) newest = f;
      }
    };
    for (const f of b.add) {
      shareStrings(f);
      upsert(f, true);
    }
    for (const f of b.update) {
      shareStrings(f);
      upsert(f, !this.flows.has(f.id));
    }

    if (leaving.size) this.removeFromView(leaving);
    if (entering.size) this.view = mergeSorted(this.view, [...entering], this.cmp);

    if (this.settings.follow && newest) this.focusOn(newest);
    else this.keepFocus();
    if (late) this.changedLate();
    else this.changed();
  }

  /** The view filter was cleared: every flow is shown. */
  showAll(): void {
    this.filterSeqs = undefined;
    this.rebuild();
    this.changed();
  }

  /** `shown`: the arrival numbers of every flow the new filter shows. */
  applyView(shown: ArrayLike<number> & Iterable<number>): void {
    this.filterSeqs = new Set(shown);
    this.rebuild();
    this.changed();
  }

  private removeFromView(leaving: Set<FlowSummary>): void {
    if (leaving.size <= 8) {
      for (const f of leaving) {
        const i = indexOf(this.view, f, this.cmp);
        if (i >= 0) this.view.splice(i, 1);
      }
    } else {
      this.view = this.view.filter((f) => !leaving.has(f));
    }
  }

  private rebuild(): void {
    const v: FlowSummary[] = [];
    const cmp = this.cmp;
    // Flows usually arrive in the view's order (time): sorting 100,000 of them again is
    // most of a filter change, so sort only when the walk finds them out of order.
    let sorted = true;
    let prev: FlowSummary | undefined;
    for (const f of this.flows.values()) {
      if (!this.visible(f)) continue;
      if (sorted && prev !== undefined && cmp(prev, f) > 0) sorted = false;
      v.push(f);
      prev = f;
    }
    this.view = sorted ? v : v.sort(cmp);
    this.keepFocus();
  }

  // ---- view settings ----

  setOrder(order: OrderKey): void {
    if (order === this.settings.order) return;
    this.settings = { ...this.settings, order };
    this.cmp = COMPARE[order];
    this.rebuild();
    this.changed();
  }

  setReversed(reversed: boolean): void {
    if (reversed === this.settings.reversed) return;
    const focused = this.focused();
    this.settings = { ...this.settings, reversed };
    if (focused) this.focusOn(focused);
    this.changed();
  }

  setMarkedOnly(markedOnly: boolean): void {
    if (markedOnly === this.settings.markedOnly) return;
    this.settings = { ...this.settings, markedOnly };
    this.rebuild();
    this.changed();
  }

  setFollow(follow: boolean): void {
    if (follow === this.settings.follow) return;
    this.settings = { ...this.settings, follow };
    if (follow) {
      let newest: FlowSummary | undefined;
      for (const f of this.view) if (!newest || f.seq > newest.seq) newest = f;
      if (newest) this.focusOn(newest);
    }
    this.changed();
  }

  // ---- focus ----

  setViewport(height: number): void {
    const h = Math.max(1, Math.floor(height));
    if (h === this.height) return;
    this.height = h;
    this.changed();
  }

  get viewportHeight(): number {
    return this.height;
  }

  focusTo(index: number): void {
    const n = this.view.length;
    if (n === 0) return;
    const i = clamp(index, 0, n - 1);
    if (i === this.focusIdx && this.focusId === this.at(i)?.id) return;
    this.focusIdx = i;
    this.focusId = this.at(i)?.id;
    this.changed();
  }

  focusBy(delta: number): void {
    this.focusTo(this.focusIdx + delta);
  }

  focusFlow(id: string): boolean {
    const i = this.indexOfId(id);
    if (i < 0) return false;
    this.focusTo(i);
    return true;
  }

  private focusOn(f: FlowSummary): void {
    const i = indexOf(this.view, f, this.cmp);
    if (i < 0) return;
    this.focusIdx = this.settings.reversed ? this.view.length - 1 - i : i;
    this.focusId = f.id;
  }

  /** After a change: the same flow keeps the focus; if it left, the row at the same position takes it. */
  private keepFocus(): void {
    const f = this.focusId === undefined ? undefined : this.flows.get(this.focusId);
    if (f && this.visible(f)) {
      const i = indexOf(this.view, f, this.cmp);
      if (i >= 0) {
        this.focusIdx = this.settings.reversed ? this.view.length - 1 - i : i;
        return;
      }
    }
    const n = this.view.length;
    this.focusIdx = n ? clamp(this.focusIdx, 0, n - 1) : 0;
    this.focusId = this.at(this.focusIdx)?.id;
  }

  /** Recomputes the cached snapshots, keeping the old objects when nothing visible changed. */
  private refresh(): void {
    const n = this.view.length;
    this.top = calcTop({ count: n, height: this.height, focus: this.focusIdx, top: this.top });
    const end = Math.min(n, this.top + this.height);
    const prev = this._window;
    let same = prev.top === this.top && prev.focus === this.focusIdx && prev.rows.length === end - this.top;
    const rows: FlowSummary[] = new Array<FlowSummary>(Math.max(0, end - this.top));
    for (let d = this.top; d < end; d++) {
      const f = this.at(d)!;
      rows[d - this.top] = f;
      if (same && prev.rows[d - this.top] !== f) same = false;
    }
    if (!same) this._window = { top: this.top, focus: this.focusIdx, rows };
    const c = this._counts;
    const focus = n ? this.focusIdx : -1;
    if (c.shown !== n || c.total !== this.flows.size || c.intercepted !== this.intercepted || c.focus !== focus) {
      this._counts = { shown: n, total: this.flows.size, intercepted: this.intercepted, focus };
    }
  }
}

