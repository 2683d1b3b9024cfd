/**
 * The console's view of the flows, kept outside React (mitmproxy's View addon plays this part):
 * the flows' packed summaries (a SummaryTable slot each, found by arrival number), the shown flows in
 * order as slots, the focus and the visible window. Only the visible rows are decoded.
 *
 * React reads it through useSyncExternalStore with cached snapshots (`window()`, `counts()`), so a
 * batch that only touches flows off screen leaves the list's snapshot identical and re-renders no row.
 * Costs with n flows: a batch that appends in time order is O(batch); inserting in the middle of
 * another order is a merge, O(n) once per batch; a focus move is O(window); reversing is O(1)
 * (display indexes are mapped, the array is never reversed).
 */
import { collectGarbageSoon } from "../collect-garbage.ts";
import type { FlowSummary } from "../protocol.ts";
import { EMPTY_BATCH, encodeSummaries, forEachRecordStart, type SummaryBatch } from "../summary-codec.ts";
import { comparators, indexOf, mergeSorted, removeSorted, type Compare, type OrderKey } from "./order.ts";
import { SummaryTable } from "./summary-table.ts";
import { SeqMap } from "../seq-map.ts";
import { IdIndex, hashBytes, hashIdBytes } from "../id-index.ts";
import { calcTop, clamp } from "./window.ts";

export interface BatchDelta {
  add: SummaryBatch;
  update: SummaryBatch;
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
/** Rows that a flood moves (follow mode, max_flows dropping the oldest) repaint at most this often. */
const ROWS_LATENESS_MS = 100;

export class FlowStore {
  private readonly table = new SummaryTable();
  /** Arrival number → the flow's slot in `table`. */
  private readonly bySeq = new SeqMap<number>();
  /** Flow id → arrival number, for lookups by id (commands, removals, the open flow). */
  private readonly byId = new IdIndex((seq) => {
    const slot = this.bySeq.get(seq);
    return slot === undefined ? undefined : this.table.id(slot);
  }, hashIdBytes);
  /** Arrival numbers (`seq`) of the flows the view filter shows; undefined when no filter is set (all shown), so a filter costs a set of its matches only. */
  private filterSeqs: Set<number> | undefined = undefined;
  /** Shown flows in ascending order of `cmp`; display order is this, or its reverse. */
  private view: number[] = [];
  private readonly orders = comparators<number>({
    seq: (slot) => this.table.seq(slot),
    method: (slot) => this.table.method(slot),
    url: (slot) => this.table.url(slot),
    size: (slot) => this.table.size(slot),
  });
  private cmp: Compare<number> = this.orders.time;
  private settings: ViewSettings = { order: "time", reversed: false, markedOnly: false, follow: false };
  private focusIdx = 0;
  private focusSeq: number | undefined;
  private top = 0;
  private height = 20;
  private intercepted = 0;
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
    clearTimeout(this.lateRepaint);
    this.lateRepaint = undefined;
    this.refresh();
    this.version++;
    for (const l of this.listeners) l();
  }

  /**
   * A flood's batch is shown late: within COUNTS_LATENESS_MS when it changes only the counts,
   * within ROWS_LATENESS_MS when it moves the visible rows. Each repaint redraws the whole
   * screen: thirty a second of them (one per batch) took the console's thread 15% of a core
   * in follow mode, and the proxy a quarter of its throughput, for a list scrolling faster than
   * anyone reads. Keys still repaint at once (and show the rows and counts as they are).
   */
  private changedLate(): void {
    const rows = this._window;
    this.refresh();
    const due = performance.now() + (this._window !== rows ? ROWS_LATENESS_MS : COUNTS_LATENESS_MS);
    if (this.lateRepaint && this.lateDue <= due) return;
    clearTimeout(this.lateRepaint);
    this.lateDue = due;
    this.lateRepaint = setTimeout(() => this.changed(), due - performance.now()).unref();
  }

  private lateRepaint: NodeJS.Timeout | undefined;
  private lateDue = 0;

  /** Drops a pending late repaint (the console is closing). */
  dispose(): void {
    clearTimeout(this.lateRepaint);
    this.lateRepaint = undefined;
  }

  // ---- reading ----

  get(id: string): FlowSummary | undefined {
    const slot = this.slotOfId(id);
    return slot === undefined ? undefined : this.table.summary(slot);
  }

  private slotOf(seq: number | undefined): number | undefined {
    return seq === undefined ? undefined : this.bySeq.get(seq);
  }

  private slotOfId(id: string): number | undefined {
    return this.slotOf(this.byId.get(id));
  }

  private slotAt(index: number): number | undefined {
    const n = this.view.length;
    if (index < 0 || index >= n) return undefined;
    return this.view[this.settings.reversed ? n - 1 - index : index];
  }

  /** The flow at a display index. */
  at(index: number): FlowSummary | undefined {
    const slot = this.slotAt(index);
    return slot === undefined ? undefined : this.table.summary(slot);
  }

  get size(): number {
    return this.view.length;
  }

  get total(): number {
    return this.bySeq.size;
  }

  get viewSettings(): ViewSettings {
    return this.settings;
  }

  focused(): FlowSummary | undefined {
    const slot = this.slotOf(this.focusSeq);
    return slot === undefined ? undefined : this.table.summary(slot);
  }

  focusIndex(): number {
    return this.view.length ? this.focusIdx : -1;
  }

  window = (): ListWindow => this._window;
  counts = (): ViewCounts => this._counts;

  /** Display index of a shown flow, or -1. O(log n). */
  indexOfId(id: string): number {
    const slot = this.slotOfId(id);
    if (slot === undefined || !this.visible(slot)) return -1;
    return this.displayIndex(slot);
  }

  private displayIndex(slot: number): number {
    const i = indexOf(this.view, slot, this.cmp);
    if (i < 0) return -1;
    return this.settings.reversed ? this.view.length - 1 - i : i;
  }

  /** Ids of all shown flows in display order (for commands over @shown; O(n), so not per key). */
  shownIds(): string[] {
    const ids = this.view.map((slot) => this.table.id(slot));
    return this.settings.reversed ? ids.reverse() : ids;
  }

  private visible(slot: number): boolean {
    return (this.filterSeqs === undefined || this.filterSeqs.has(this.table.seq(slot))) && (!this.settings.markedOnly || this.table.marked(slot));
  }

  // ---- engine events ----

  /** `late`: a flood's batch, whose counts alone may wait (see `changedLate`). */
  applyBatch(b: BatchDelta, late = false): void {
    const table = this.table;
    if (b.reset) {
      // Every flow went (`z`): their summaries are garbage now, perhaps most of this heap.
      if (this.bySeq.size > 0) collectGarbageSoon();
      this.bySeq.clear();
      this.byId.clear();
      table.clear();
      if (this.filterSeqs) this.filterSeqs = new Set();
      this.view = [];
      this.intercepted = 0;
      this.focusIdx = 0;
      this.focusSeq = undefined;
      this.top = 0;
    }
    // Slots stand for flows as they were: the old ones stay readable (for their sort keys)
    // until the view no longer holds them, and are freed at the end.
    const leaving = new Set<number>();
    const entering = new Set<number>();
    const freed: number[] = [];
    let newest: number | undefined;
    const leave = (slot: number): void => {
      if (entering.has(slot)) entering.delete(slot);
      else leaving.add(slot);
    };

    for (const id of b.remove) {
      const old = this.slotOfId(id);
      if (old === undefined) continue;
      if (this.visible(old)) leave(old);
      this.byId.delete(id);
      this.bySeq.delete(table.seq(old));
      this.filterSeqs?.delete(table.seq(old));
      if (table.intercepted(old)) this.intercepted--;
      freed.push(old);
    }

    const upsert = (bytes: Buffer, start: number, nums: Float64Array, at: number): void => {
      const slot = table.put(bytes, start, nums, at);
      const seq = table.seq(slot);
      const old = this.slotOf(seq);
      const wasVisible = old !== undefined && this.visible(old);
      this.bySeq.set(seq, slot);
      // The id is hashed where it lies in the batch's bytes: entering it decodes no string.
      if (old === undefined) this.byId.setHashed(hashBytes(bytes, start, bytes.indexOf(0, start)), seq);
      if (this.filterSeqs) {
        if (table.shown(slot)) this.filterSeqs.add(seq);
        else this.filterSeqs.delete(seq);
      } else if (!table.shown(slot)) {
        // A hidden flow before any view event: start tracking from what is known now.
        const shown = new Set<number>();
        this.bySeq.forEach((x, s) => {
          if (table.shown(x)) shown.add(s);
        });
        this.filterSeqs = shown;
      }
      if (old !== undefined) {
        if (table.intercepted(old)) this.intercepted--;
        freed.push(old);
      }
      if (table.intercepted(slot)) this.intercepted++;
      const isVisible = this.visible(slot);
      if (old !== undefined && wasVisible && isVisible && this.cmp(old, slot) === 0 && !entering.has(old)) {
        // Same place in the order: swap the slot in place, found by binary search.
        const i = indexOf(this.view, old, this.cmp);
        if (i >= 0) {
          this.view[i] = slot;
          return;
        }
      }
      if (old !== undefined && wasVisible) leave(old);
      if (isVisible) {
        entering.add(slot);
        if (old === undefined && (newest === undefined || seq > table.seq(newest))) newest = slot;
      }
    };
    forEachRecordStart(b.add, (bytes, start, at) => upsert(bytes, start, b.add.nums, at));
    forEachRecordStart(b.update, (bytes, start, at) => upsert(bytes, start, b.update.nums, at));

    if (leaving.size) this.view = removeSorted(this.view, leaving, this.cmp);
    if (entering.size) this.view = mergeSorted(this.view, [...entering], this.cmp);
    for (const slot of freed) table.release(slot);

    if (this.settings.follow && newest !== undefined) this.focusOn(newest);
    else this.keepFocus();
    if (late) this.changedLate();
    else this.changed();
  }

  /** Drops flows the engine is removing, before its batch says so (a later removal of them is a no-op). */
  forget(ids: readonly string[]): void {
    this.applyBatch({ add: EMPTY_BATCH, update: EMPTY_BATCH, remove: ids, reset: false });
  }

  /** A forgotten flow back, when the engine did not remove it after all. */
  restore(summary: FlowSummary): void {
    this.applyBatch({ add: encodeSummaries([summary]), update: EMPTY_BATCH, remove: [], reset: false });
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

  private rebuild(): void {
    const v: number[] = [];
    const cmp = this.cmp;
    // Flows usually arrive in the view's order (time): sorting 100,000 of them again is
    // most of a filter change, so sort only when the walk finds them out of order.
    let sorted = true;
    let prev: number | undefined;
    this.bySeq.forEach((slot) => {
      if (!this.visible(slot)) return;
      if (sorted && prev !== undefined && cmp(prev, slot) > 0) sorted = false;
      v.push(slot);
      prev = slot;
    });
    this.view = sorted ? v : v.sort(cmp);
    this.keepFocus();
  }

  // ---- view settings ----

  setOrder(order: OrderKey): void {
    if (order === this.settings.order) return;
    this.settings = { ...this.settings, order };
    this.cmp = this.orders[order];
    this.rebuild();
    this.changed();
  }

  setReversed(reversed: boolean): void {
    if (reversed === this.settings.reversed) return;
    const focused = this.slotOf(this.focusSeq);
    this.settings = { ...this.settings, reversed };
    if (focused !== undefined) this.focusOn(focused);
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
      let newest: number | undefined;
      for (const slot of this.view) if (newest === undefined || this.table.seq(slot) > this.table.seq(newest)) newest = slot;
      if (newest !== undefined) this.focusOn(newest);
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
    const slot = this.slotAt(i);
    const seq = slot === undefined ? undefined : this.table.seq(slot);
    if (i === this.focusIdx && this.focusSeq === seq) return;
    this.focusIdx = i;
    this.focusSeq = seq;
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

  private focusOn(slot: number): void {
    const i = this.displayIndex(slot);
    if (i < 0) return;
    this.focusIdx = i;
    this.focusSeq = this.table.seq(slot);
  }

  /** After a change: the same flow keeps the focus; if it left, the row at the same position takes it. */
  private keepFocus(): void {
    const slot = this.slotOf(this.focusSeq);
    if (slot !== undefined && this.visible(slot)) {
      const i = this.displayIndex(slot);
      if (i >= 0) {
        this.focusIdx = i;
        return;
      }
    }
    const n = this.view.length;
    this.focusIdx = n ? clamp(this.focusIdx, 0, n - 1) : 0;
    const at = this.slotAt(this.focusIdx);
    this.focusSeq = at === undefined ? undefined : this.table.seq(at);
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
      const f = this.table.summary(this.slotAt(d) as number);
      rows[d - this.top] = f;
      if (same && prev.rows[d - this.top] !== f) same = false;
    }
    if (!same) this._window = { top: this.top, focus: this.focusIdx, rows };
    const c = this._counts;
    const focus = n ? this.focusIdx : -1;
    if (c.shown !== n || c.total !== this.bySeq.size || c.intercepted !== this.intercepted || c.focus !== focus) {
      this._counts = { shown: n, total: this.bySeq.size, intercepted: this.intercepted, focus };
    }
  }
}
