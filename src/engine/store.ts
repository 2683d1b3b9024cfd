import { SEQ, type Flow } from "./flow/flow.ts";
import type { FlowDetail, FlowSummary } from "../protocol.ts";
import { summarize } from "./flow/summary.ts";
import { EMPTY_BATCH, encodeSummaries, type SummaryBatch } from "../summary-codec.ts";
import { HTTPFlow } from "./flow/http.ts";
import { StringPool } from "./string-pool.ts";
import { PackArena, PackedHTTPFlow, PackedView, packFlow, packable, releasePacked, unpackFlow } from "./flow/packed.ts";
import type { FilterableFlow } from "./filter/index.ts";
import { SeqMap } from "../seq-map.ts";
import { IdIndex } from "../id-index.ts";
import { filterable } from "./flow-filter.ts";

/** Given a stored flow, or a packed one's view (which it must not keep). */
export type FlowPredicate = (flow: FilterableFlow) => boolean;

export interface StoreDelta {
  add: SummaryBatch;
  update: SummaryBatch;
  remove: string[];
  /** Every flow went (`z`): the other side forgets all it has, rather than each of perhaps 100,000 ids. */
  reset: boolean;
  /** With a `detailOf`: the detail of every finished flow the view filter shows. */
  details?: FlowDetail[];
}

/** Makes a finished flow's detail while the store still holds it (dump mode drops it right after). */
export type DetailOf = (flow: Flow, summary: FlowSummary) => FlowDetail;

/**
 * The engine's flows, in arrival order, and the deltas the UI has not seen yet.
 * Changes are coalesced per flow until the next `takeDelta` (the batcher's flush), so a
 * flow that is added and finished between two flushes crosses the thread boundary once.
 * When `keepFlows` is off (dump mode) a finished flow is dropped once it has been reported,
 * so memory stays flat however long the proxy runs. When it is on (the console), a finished
 * HTTP flow is packed at the flush that reports it (see `flow/packed.ts`); `get` unpacks it
 * again, and a flow unpacked for a command is packed again at the next flush. Whoever holds
 * a flow across flushes and changes it calls `update`, as the UI needs anyway, and the store
 * takes that object back.
 */
export class FlowStore {
  /** Every flow by its arrival number (`flow[SEQ]`, a packed flow's `seq`), oldest first. */
  private readonly flows = new SeqMap<Flow | PackedHTTPFlow>();
  /** Flow id → arrival number, for lookups by id (commands, the console's requests). */
  private readonly byId = new IdIndex((seq) => {
    const f = this.flows.get(seq);
    return f === undefined ? undefined : this.idOf(f);
  });
  private readonly arena = new PackArena();
  private readonly view = new PackedView(this.arena);
  /** Arrival numbers of flows unpacked since the last flush, packed again at the next. */
  private unpacked = new Set<number>();
  private nextSeq = 1;
  private pendingAdd = new Map<string, Flow>();
  private pendingUpdate = new Map<string, Flow>();
  private pendingRemove = new Set<string>();
  private viewFilter: FlowPredicate | undefined;
  private markedOnly = false;
  private readonly strings = new StringPool();
  private onDirty: () => void = () => undefined;
  /** `max_flows`: 0 for no limit. */
  private limit = 0;
  /** `showhost`: summaries name the Host header's host rather than the connection's. */
  private showHost = true;

  constructor(private keepFlows: boolean) {}

  setDirtyListener(fn: () => void): void {
    this.onDirty = fn;
  }

  setKeepFlows(keep: boolean): void {
    this.keepFlows = keep;
  }

  /** Every summary changes with `showhost`: all flows go to the UI again at the next flush. */
  setShowHost(on: boolean): void {
    if (on === this.showHost) return;
    this.showHost = on;
    for (const f of this.all()) this.update(f);
  }

  /** `spill_bodies`: large bodies of the flows packed from now on go to a temporary file. */
  setSpillBodies(on: boolean): void {
    this.arena.spillBodies = on;
  }

  /** Keeps at most `max` flows (0: no limit), dropping the oldest finished ones at each flush. */
  setLimit(max: number): void {
    this.limit = max;
    this.evictOverLimit();
  }

  /**
   * Over the limit, the oldest flows go first, in arrival order, except those still in
   * progress, paused or marked: a user's marks pin what they want to keep from a long session.
   */
  private evictOverLimit(): void {
    let excess = this.limit > 0 ? this.flows.size - this.limit : 0;
    if (excess <= 0) return;
    const gone: number[] = [];
    for (const [seq, f] of this.flows.entries()) {
      if (excess === 0) break;
      if (f instanceof PackedHTTPFlow ? f.marked : f.live || f.intercepted || f.marked) continue;
      gone.push(seq);
      excess--;
    }
    this.removeSeqs(gone);
  }

  get size(): number {
    return this.flows.size;
  }

  private idOf(f: Flow | PackedHTTPFlow): string {
    return f instanceof PackedHTTPFlow ? this.view.reset(f).id : f.id;
  }

  /** Whether a flow with this id is stored (nothing is unpacked to tell). */
  has(id: string): boolean {
    return this.byId.get(id) !== undefined;
  }

  /** The stored flow, unpacked if need be; the same object until the next flush at least. */
  get(id: string): Flow | undefined {
    const seq = this.byId.get(id);
    return seq === undefined ? undefined : this.flowAt(seq);
  }

  /** The flow stored under `seq`, unpacked if need be. */
  private flowAt(seq: number): Flow | undefined {
    const f = this.flows.get(seq);
    if (!(f instanceof PackedHTTPFlow)) return f;
    const flow = unpackFlow(f, this.arena);
    this.flows.set(seq, flow);
    releasePacked(f, this.arena);
    this.unpacked.add(seq);
    // A flush packs it again, even in a session with no traffic to flush otherwise.
    this.onDirty();
    return flow;
  }

  /** Every flow, unpacked: for commands that act on all of them. */
  all(): Flow[] {
    return this.select(() => true);
  }

  /** The flows `pred` accepts, unpacked; the others are only read. */
  select(pred: FlowPredicate): Flow[] {
    const out: Flow[] = [];
    this.flows.forEach((f, seq) => {
      if (pred(this.peek(f))) out.push(this.flowAt(seq) as Flow);
    });
    return out;
  }

  /** The ids of the flows `pred` accepts; none is unpacked (removing 100,000 flows unpacked each first: a second and more). */
  selectIds(pred: FlowPredicate): string[] {
    const out: string[] = [];
    this.flows.forEach((f) => {
      if (pred(this.peek(f))) out.push(this.idOf(f));
    });
    return out;
  }

  /**
   * The stored flow to read once and let go: a packed one is unpacked into a copy the store does
   * not keep (writing 100,000 flows to a file unpacked, and at the next flush packed again, each).
   */
  readOnce(id: string): Flow | undefined {
    const f = this.stored(id);
    return f instanceof PackedHTTPFlow ? unpackFlow(f, this.arena) : f;
  }

  /** The flow with this id when it is held as an object (all in progress or paused are); undefined for a packed one or none. */
  unpackedFlow(id: string): Flow | undefined {
    const f = this.stored(id);
    return f instanceof PackedHTTPFlow ? undefined : f;
  }

  /** What is stored under this id, packed or not. */
  private stored(id: string): Flow | PackedHTTPFlow | undefined {
    const seq = this.byId.get(id);
    return seq === undefined ? undefined : this.flows.get(seq);
  }

  /** Flows that are not packed: those in progress or paused among them, since those never are. */
  unpackedFlows(): Flow[] {
    const out: Flow[] = [];
    this.flows.forEach((f) => {
      if (!(f instanceof PackedHTTPFlow)) out.push(f);
    });
    return out;
  }

  /** A flow for a filter to read and let go: a packed one through the store's one view. */
  private peek(f: Flow | PackedHTTPFlow): FilterableFlow {
    return f instanceof PackedHTTPFlow ? this.view.reset(f) : filterable(f);
  }

  seqOf(flow: Flow): number {
    return flow[SEQ];
  }

  add(flow: Flow): void {
    const seq = this.nextSeq++;
    flow[SEQ] = seq;
    this.flows.set(seq, flow);
    this.byId.set(flow.id, seq);
    this.pendingAdd.set(flow.id, flow);
    this.onDirty();
  }

  /** Records that a flow changed; the UI learns of it at the next flush. */
  update(flow: Flow): void {
    let seq = flow[SEQ];
    let stored = this.flows.get(seq);
    if (stored !== flow && (stored === undefined || this.idOf(stored) !== flow.id)) {
      // Not the object the store numbered: a stand-in for a stored flow is found by its id.
      const found = this.byId.get(flow.id);
      if (found === undefined) return;
      seq = found;
      stored = this.flows.get(seq) as Flow | PackedHTTPFlow;
      flow[SEQ] = seq;
    }
    if (stored !== flow) {
      if (stored instanceof PackedHTTPFlow) releasePacked(stored, this.arena);
      this.flows.set(seq, flow);
    }
    if (!this.pendingAdd.has(flow.id)) this.pendingUpdate.set(flow.id, flow);
    this.onDirty();
  }

  remove(ids: Iterable<string>): void {
    const seqs: number[] = [];
    for (const id of ids) {
      const seq = this.byId.get(id);
      if (seq !== undefined) seqs.push(seq);
    }
    this.removeSeqs(seqs);
  }

  private removeSeqs(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const stored = this.flows.get(seq);
      if (stored === undefined) continue;
      const id = this.idOf(stored);
      this.byId.delete(id);
      this.flows.delete(seq);
      this.unpacked.delete(seq);
      if (stored instanceof PackedHTTPFlow) releasePacked(stored, this.arena);
      if (this.pendingAdd.delete(id)) continue;
      this.pendingUpdate.delete(id);
      this.pendingRemove.add(id);
    }
    this.onDirty();
  }

  clear(): void {
    this.removeSeqs([...this.flows.entries()].map(([seq]) => seq));
  }

  /** Sets the view filter and returns the arrival numbers of the flows it shows. */
  setViewFilter(pred: FlowPredicate | undefined): Uint32Array {
    this.viewFilter = pred;
    if (!pred) return new Uint32Array(0);
    const shown: number[] = [];
    this.flows.forEach((f, seq) => {
      if (this.matchesView(this.peek(f))) shown.push(seq);
    });
    return Uint32Array.from(shown);
  }

  /** The console shows marked flows only (`M`): @shown and @hidden follow what it shows. */
  setMarkedOnly(on: boolean): void {
    this.markedOnly = on;
  }

  /** Whether the console shows the flow: the view filter passes it, and with `M` on it is marked. */
  isShown(flow: FilterableFlow): boolean {
    return this.matchesView(flow) && (!this.markedOnly || flow.marked !== "");
  }

  matchesView(flow: FilterableFlow | Flow): boolean {
    if (!this.viewFilter) return true;
    try {
      return this.viewFilter(flow as FilterableFlow);
    } catch {
      return false;
    }
  }

  /** The summaries of `flows`, and with `detailOf` the details of the finished, shown ones. */
  private encode(flows: ReadonlyMap<string, Flow>, detailOf: DetailOf | undefined, details: FlowDetail[]): SummaryBatch {
    const list: FlowSummary[] = [];
    for (const f of flows.values()) {
      const s = this.summary(f);
      if (detailOf && !f.live && s.shown) details.push(detailOf(f, s));
      list.push(s);
    }
    return encodeSummaries(list);
  }

  summary(flow: Flow): FlowSummary {
    return summarize(flow, this.seqOf(flow), this.matchesView(flow), this.showHost);
  }

  /** A finished flow kept for the session: packed where it can be, else its repeated strings become shared copies. */
  private keep(flow: Flow): void {
    if (this.flows.get(flow[SEQ]) !== flow) return;
    if (packable(flow)) {
      const packed = packFlow(flow, flow[SEQ], this.arena);
      if (packed) {
        this.flows.set(flow[SEQ], packed);
        return;
      }
    }
    this.compact(flow);
  }

  private compact(flow: Flow): void {
    if (!(flow instanceof HTTPFlow)) return;
    const pool = this.strings;
    const req = flow.request;
    req.host = pool.share(req.host);
    req.plainHeaders.shareStrings(pool);
    const res = flow.response;
    if (res) {
      res.reason = pool.share(res.reason);
      res.plainHeaders.shareStrings(pool);
    }
  }

  /** Dump mode: a finished flow goes once reported. */
  private drop(f: Flow): void {
    if (this.flows.get(f[SEQ]) !== f) return;
    this.byId.delete(f.id);
    this.flows.delete(f[SEQ]);
  }

  /** Changed flows not yet taken by `takeDelta`. */
  pendingCount(): number {
    return this.pendingAdd.size + this.pendingUpdate.size + this.pendingRemove.size;
  }

  /** Flows unpacked for a command since the last `takeDelta`, which packs them again. */
  unpackedCount(): number {
    return this.unpacked.size;
  }

  /**
   * The changes since the last call; with `detailOf`, also the details of the finished, shown
   * flows. With `summaries` false (a quiet dump, which shows no flow) finished flows are still
   * kept or dropped, but nobody is told of them.
   */
  takeDelta(detailOf?: DetailOf, summaries = true): StoreDelta {
    this.evictOverLimit();
    const details: FlowDetail[] = [];
    const add = summaries ? this.encode(this.pendingAdd, detailOf, details) : EMPTY_BATCH;
    const update = summaries ? this.encode(this.pendingUpdate, detailOf, details) : EMPTY_BATCH;
    // Nothing is stored: not even the flows of this delta, which therefore holds no add or update.
    const reset = this.flows.size === 0 && this.pendingRemove.size > 0;
    const remove = reset ? [] : [...this.pendingRemove];
    for (const pending of [this.pendingAdd, this.pendingUpdate]) {
      for (const f of pending.values()) {
        if (f.live) continue;
        if (this.keepFlows) this.keep(f);
        else this.drop(f);
      }
    }
    for (const seq of this.unpacked) {
      const f = this.flows.get(seq);
      if (f && !(f instanceof PackedHTTPFlow)) this.keep(f);
    }
    this.unpacked = new Set();
    this.pendingAdd = new Map();
    this.pendingUpdate = new Map();
    this.pendingRemove = new Set();
    return detailOf ? { add, update, remove, reset, details } : { add, update, remove, reset };
  }
}
