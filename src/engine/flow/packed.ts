/**
 * A finished HTTP flow kept by the console, packed into a handful of heap objects.
 *
 * A stored HTTPFlow is about 28 objects (flow, messages, two Headers, their arrays, boxed
 * timestamps, strings). The console keeps every flow of a session, and each of those objects
 * is copied by the young-generation collector when it survives and walked again by every
 * full collection after: with 100,000 flows held, the garbage collector's threads cost the
 * proxy a fifth of its throughput. Packed, a flow is one record, one flat string holding all
 * its text, its numbers in a shared Float64Array, its body buffers as they were, and its
 * connections shared with the other flows of the same connection.
 *
 * Only what round-trips exactly is packed: a flow with metadata, trailers, a WebSocket, an
 * edit backup or a NUL in any text stays an object (see `packable`).
 */
import { FlowError, SEQ } from "./flow.ts";
import type { Client, Server } from "./connection.ts";
import { HTTPFlow, Request, Response, prettyHostOf } from "./http.ts";
import { decodeContent } from "./encoding.ts";
import { Headers } from "./headers.ts";
import type { Message } from "./message.ts";

const SEP = "\u0000";

/** Number slots per flow in the slab, by name. */
const N_CREATED = 0;
const N_PORT = 1;
const N_REQ_START = 2;
const N_REQ_END = 3;
const N_STATUS = 4;
const N_RES_START = 5;
const N_RES_END = 6;
const N_ERROR_TS = 7;
const N_FLAGS = 8;
const N_REQ_HEADERS = 9;
const N_RES_HEADERS = 10;
const NUMS = 11;

/** Text fields: pretty_url, id, marked, comment, is_replay, error, then the request's method, scheme, host, path, authority, version, then its headers. */
const REQ_HEADERS = 12;

const F_REQ_STREAM = 1;
const F_RES_STREAM = 2;
const F_RESPONSE = 4;
const F_ERROR = 8;

/** Fixed-size slots of numbers for packed flows, reused after a flow is unpacked or removed. */
export class NumberSlab {
  private data = new Float64Array(NUMS * 1024);
  private readonly free: number[] = [];
  private next = 0;

  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.next++;
    if ((slot + 1) * NUMS > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  get array(): Float64Array {
    return this.data;
  }
}

export class PackedHTTPFlow {
  constructor(
    readonly seq: number,
    readonly slot: number,
    readonly text: string,
    readonly requestBody: Uint8Array | undefined,
    readonly responseBody: Uint8Array | undefined,
    readonly client: Client,
    readonly server: Server,
    /** Kept out of the text: `max_flows` eviction spares marked flows without unpacking any. */
    readonly marked: boolean,
  ) {}
}

function hasNoMetadata(flow: HTTPFlow): boolean {
  for (const _ in flow.metadata) return false;
  return true;
}

/** Whether a flow packs and unpacks to an equal flow. */
export function packable(flow: unknown): flow is HTTPFlow {
  return (
    flow instanceof HTTPFlow &&
    !flow.live &&
    !flow.intercepted &&
    !flow.modified &&
    flow.websocket === undefined &&
    flow.request.trailers === undefined &&
    flow.response?.trailers === undefined &&
    hasNoMetadata(flow)
  );
}

function pushHeaders(parts: string[], m: Message): number {
  const flat = m.plainHeaders.flat;
  const fields = flat.length >> 1;
  for (let i = 0; i < fields * 2; i++) parts.push(flat[i] as string);
  return fields;
}

/** Packs a `packable` flow, or returns undefined when one of its strings holds the separator. */
export function packFlow(flow: HTTPFlow, seq: number, slab: NumberSlab): PackedHTTPFlow | undefined {
  const req = flow.request;
  const res = flow.response;
  // pretty_url first: it is what filters read most (~u, and a bare word), found with one indexOf.
  const parts: string[] = [req.pretty_url, flow.id, flow.marked, flow.comment, flow.is_replay ?? "", flow.error?.msg ?? ""];
  parts.push(req.method, req.scheme, req.host, req.path, req.authority, req.http_version);
  const reqFields = pushHeaders(parts, req);
  let resFields = 0;
  if (res) {
    parts.push(res.reason, res.http_version);
    resFields = pushHeaders(parts, res);
  }
  for (let i = 0; i < parts.length; i++) if ((parts[i] as string).includes(SEP)) return undefined;

  const slot = slab.alloc();
  const n = slab.array;
  const at = slot * NUMS;
  n[at + N_CREATED] = flow.timestamp_created;
  n[at + N_PORT] = req.port;
  n[at + N_REQ_START] = req.timestamp_start;
  n[at + N_REQ_END] = req.timestamp_end ?? NaN;
  n[at + N_STATUS] = res?.status_code ?? 0;
  n[at + N_RES_START] = res?.timestamp_start ?? NaN;
  n[at + N_RES_END] = res?.timestamp_end ?? NaN;
  n[at + N_ERROR_TS] = flow.error?.timestamp ?? NaN;
  n[at + N_FLAGS] = (req.stream ? F_REQ_STREAM : 0) | (res?.stream ? F_RES_STREAM : 0) | (res ? F_RESPONSE : 0) | (flow.error ? F_ERROR : 0);
  n[at + N_REQ_HEADERS] = reqFields;
  n[at + N_RES_HEADERS] = resFields;
  return new PackedHTTPFlow(seq, slot, parts.join(SEP), req.raw_content, res?.raw_content, flow.client_conn, flow.server_conn, flow.marked !== "");
}

function orUndefined(n: number): number | undefined {
  return Number.isNaN(n) ? undefined : n;
}

/** A new HTTPFlow equal to the one packed; the record stays valid. */
export function unpackFlow(p: PackedHTTPFlow, slab: NumberSlab): HTTPFlow {
  const s = p.text.split(SEP);
  const n = slab.array;
  const at = p.slot * NUMS;
  const flags = n[at + N_FLAGS] as number;
  let i = REQ_HEADERS;
  const reqEnd = i + 2 * (n[at + N_REQ_HEADERS] as number);
  const request = new Request({
    method: s[6] as string,
    scheme: s[7] as string,
    host: s[8] as string,
    port: n[at + N_PORT] as number,
    path: s[9] as string,
    authority: s[10] as string,
    http_version: s[11] as string,
    headers: Headers.adopt(s.slice(i, reqEnd)),
    content: p.requestBody,
    timestamp_start: n[at + N_REQ_START] as number,
  });
  request.timestamp_end = orUndefined(n[at + N_REQ_END] as number);
  request.stream = (flags & F_REQ_STREAM) !== 0;
  i = reqEnd;
  const flow = new HTTPFlow(p.client, p.server, request, s[1]);
  if (flags & F_RESPONSE) {
    const resEnd = i + 2 + 2 * (n[at + N_RES_HEADERS] as number);
    const response = new Response({
      status_code: n[at + N_STATUS] as number,
      reason: s[i] as string,
      http_version: s[i + 1] as string,
      headers: Headers.adopt(s.slice(i + 2, resEnd)),
      content: p.responseBody,
      timestamp_start: n[at + N_RES_START] as number,
    });
    response.timestamp_end = orUndefined(n[at + N_RES_END] as number);
    response.stream = (flags & F_RES_STREAM) !== 0;
    flow.response = response;
  }
  flow.marked = s[2] as string;
  flow.comment = s[3] as string;
  flow.is_replay = (s[4] || null) as HTTPFlow["is_replay"];
  if (flags & F_ERROR) flow.error = new FlowError(s[5] as string, n[at + N_ERROR_TS] as number);
  flow.timestamp_created = n[at + N_CREATED] as number;
  flow.live = false;
  flow[SEQ] = p.seq;
  return flow;
}

/**
 * A packed flow as filters read it (`FilterableHTTPFlow`), its fields found in the text with
 * `indexOf` as they are asked for: a filter pass over 100,000 packed flows neither splits nor
 * builds one. One view serves a whole pass (`reset` moves it to the next flow), so a
 * predicate must not keep it.
 */
export class PackedView {
  readonly type = "http" as const;
  readonly metadata: Readonly<Record<string, unknown>> = Object.freeze({});
  readonly intercepted = false;
  readonly websocket = undefined;
  readonly request = new PackedRequestView(this);
  private readonly responseView = new PackedResponseView(this);
  private p!: PackedHTTPFlow;
  private nums!: Float64Array;
  private at = 0;
  /** ends[k]: where field k ends in the text; the first `known` are found. */
  private ends = new Int32Array(64);
  private known = 0;

  constructor(private readonly slab: NumberSlab) {}

  reset(p: PackedHTTPFlow): this {
    this.p = p;
    this.nums = this.slab.array;
    this.at = p.slot * NUMS;
    this.known = 0;
    return this;
  }

  get response(): PackedResponseView | undefined {
    return (this.num(N_FLAGS) & F_RESPONSE) !== 0 ? this.responseView : undefined;
  }

  num(k: number): number {
    return this.nums[this.at + k] as number;
  }

  get packed(): PackedHTTPFlow {
    return this.p;
  }

  /** Finds where fields up to `k` end. */
  private find(k: number): void {
    if (k < this.known) return;
    const text = this.p.text;
    if (k >= this.ends.length) {
      const bigger = new Int32Array(Math.max(this.ends.length * 2, k + 1));
      bigger.set(this.ends);
      this.ends = bigger;
    }
    let from = this.known === 0 ? 0 : (this.ends[this.known - 1] as number) + 1;
    for (let i = this.known; i <= k; i++) {
      const end = text.indexOf(SEP, from);
      this.ends[i] = end === -1 ? text.length : end;
      from = (this.ends[i] as number) + 1;
    }
    this.known = k + 1;
  }

  private start(k: number): number {
    return k === 0 ? 0 : (this.ends[k - 1] as number) + 1;
  }

  field(k: number): string {
    this.find(k);
    return this.p.text.slice(this.start(k), this.ends[k]);
  }

  /** All values of header `lower` in the fields from `first`, joined as `Headers.get` joins them. */
  header(first: number, count: number, lower: string): string | undefined {
    let out: string | undefined;
    this.find(first + 2 * count - 1);
    for (let i = 0; i < count; i++) {
      const k = first + 2 * i;
      // Most names differ in length: those are passed over without a copy.
      if ((this.ends[k] as number) - this.start(k) !== lower.length || this.field(k).toLowerCase() !== lower) continue;
      const value = this.field(k + 1);
      out = out === undefined ? value : `${out}, ${value}`;
    }
    return out;
  }

  *pairs(first: number, count: number): Generator<readonly [string, string]> {
    for (let i = 0; i < count; i++) yield [this.field(first + 2 * i), this.field(first + 2 * i + 1)];
  }

  get id(): string {
    return this.field(1);
  }
  get marked(): string {
    return this.field(2);
  }
  get comment(): string {
    return this.field(3);
  }
  get is_replay(): "request" | "response" | null {
    return (this.field(4) || null) as "request" | "response" | null;
  }
  get error(): { readonly msg: string } | undefined {
    return (this.num(N_FLAGS) & F_ERROR) !== 0 ? { msg: this.field(5) } : undefined;
  }
  get client_conn(): Client {
    return this.p.client;
  }
  get server_conn(): Server {
    return this.p.server;
  }
}


class PackedRequestView {
  constructor(private readonly v: PackedView) {}

  private get headerCount(): number {
    return this.v.num(N_REQ_HEADERS);
  }
  private hostHeader(): string | undefined {
    return this.v.header(REQ_HEADERS, this.headerCount, "host");
  }
  get method(): string {
    return this.v.field(6);
  }
  get host(): string {
    return this.v.field(8);
  }
  get pretty_url(): string {
    return this.v.field(0);
  }
  get pretty_host(): string {
    return prettyHostOf(this.host, this.hostHeader());
  }
  get headers(): Iterable<readonly [string, string]> {
    return { [Symbol.iterator]: () => this.v.pairs(REQ_HEADERS, this.headerCount) };
  }
  get content(): Uint8Array | undefined {
    const raw = this.v.packed.requestBody;
    return raw === undefined ? undefined : (decodeContent(raw, this.v.header(REQ_HEADERS, this.headerCount, "content-encoding")) ?? raw);
  }
}

class PackedResponseView {
  constructor(private readonly v: PackedView) {}

  private get first(): number {
    return REQ_HEADERS + 2 * this.v.num(N_REQ_HEADERS) + 2;
  }
  private get headerCount(): number {
    return this.v.num(N_RES_HEADERS);
  }

  get status_code(): number {
    return this.v.num(N_STATUS);
  }
  get headers(): Iterable<readonly [string, string]> {
    return { [Symbol.iterator]: () => this.v.pairs(this.first, this.headerCount) };
  }
  get content(): Uint8Array | undefined {
    const raw = this.v.packed.responseBody;
    return raw === undefined ? undefined : (decodeContent(raw, this.v.header(this.first, this.headerCount, "content-encoding")) ?? raw);
  }
}
