import { SEQ, type Flow } from "./flow/flow.ts";
import type { FlowDetail, FlowSummary } from "../protocol.ts";
import { summarize } from "./flow/summary.ts";
import { HTTPFlow } from "./flow/http.ts";
import { StringPool } from "../string-pool.ts";

export type FlowPredicate = (flow: Flow) => boolean;

export interface StoreDelta {
  add: FlowSummary[];
  update: FlowSummary[];
  remove: string[];
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
 * so memory stays flat however long the proxy runs.
 */
export class FlowStore {
  private readonly flows = new Map<string, Flow>();
  private nextSeq = 1;
  private pendingAdd = new Map<string, Flow>();
  private pendingUpdate = new Map<string, Flow>();
  private pendingRemove = new Set<string>();
  private viewFilter: FlowPredicate | undefined;
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
    for (const f of this.flows.values()) this.update(f);
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
    const gone: string[] = [];
    for (const f of this.flows.values()) {
      if (excess === 0) break;
      if (f.live || f.intercepted || f.marked) continue;
      gone.push(f.id);
      excess--;
    }
    this.remove(gone);
  }

  get size(): number {
    return this.flows.size;
  }

  get(id: string): Flow | undefined {
    return this.flows.get(id);
  }

  all(): Flow[] {
    return [...this.flows.values()];
  }

  seqOf(flow: Flow): number {
    return flow[SEQ];
  }

  add(flow: Flow): void {
    flow[SEQ] = this.nextSeq++;
    this.flows.set(flow.id, flow);
    this.pendingAdd.set(flow.id, flow);
    this.onDirty();
  }

  /** Records that a flow changed; the UI learns of it at the next flush. */
  update(flow: Flow): void {
    if (!this.flows.has(flow.id)) return;
    if (!this.pendingAdd.has(flow.id)) this.pendingUpdate.set(flow.id, flow);
    this.onDirty();
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) {
      if (!this.flows.delete(id)) continue;
      if (this.pendingAdd.delete(id)) continue;
      this.pendingUpdate.delete(id);
      this.pendingRemove.add(id);
    }
    this.onDirty();
  }

  clear(): void {
    this.remove([...this.flows.keys()]);
  }

  /** Sets the view filter and returns the arrival numbers of the flows it shows. */
  setViewFilter(pred: FlowPredicate | undefined): Uint32Array {
    this.viewFilter = pred;
    if (!pred) return new Uint32Array(0);
    const shown: number[] = [];
    for (const f of this.flows.values()) if (this.matchesView(f)) shown.push(this.seqOf(f));
    return Uint32Array.from(shown);
  }

  matchesView(flow: Flow): boolean {
    if (!this.viewFilter) return true;
    try {
      return this.viewFilter(flow);
    } catch {
      return false;
    }
  }

  summary(flow: Flow): FlowSummary {
    return summarize(flow, this.seqOf(flow), this.matchesView(flow), this.showHost);
  }

  /** A finished flow kept for the session: its repeated strings become shared copies. */
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

  /** Changed flows not yet taken by `takeDelta`. */
  pendingCount(): number {
    return this.pendingAdd.size + this.pendingUpdate.size + this.pendingRemove.size;
  }

  /** The changes since the last call; with `detailOf`, also the details of the finished, shown flows. */
  takeDelta(detailOf?: DetailOf): StoreDelta {
    this.evictOverLimit();
    const details: FlowDetail[] = [];
    const summarize = (f: Flow): FlowSummary => {
      const s = this.summary(f);
      if (detailOf && !f.live && s.shown) details.push(detailOf(f, s));
      return s;
    };
    const add = [...this.pendingAdd.values()].map(summarize);
    const update = [...this.pendingUpdate.values()].map(summarize);
    const remove = [...this.pendingRemove];
    for (const f of [...this.pendingAdd.values(), ...this.pendingUpdate.values()]) {
      if (f.live) continue;
      if (this.keepFlows) this.compact(f);
      else this.flows.delete(f.id);
    }
    this.pendingAdd = new Map();
    this.pendingUpdate = new Map();
    this.pendingRemove = new Set();
    return detailOf ? { add, update, remove, details } : { add, update, remove };
  }
}
