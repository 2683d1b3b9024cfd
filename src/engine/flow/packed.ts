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
import { BodySlab, SLAB_MAX_BODY } from "./body-slab.ts";
import {
  CLIENT_FIELDS, CLIENT_NUMS, CLIENT_PEER_HOST, SERVER_ADDRESS_HOST, SERVER_ADDRESS_PORT_SLOT, CLIENT_PEER_PORT_SLOT, SERVER_NUMS,
  UnpackableValue, packClient, packServer, serverHasAddress, unpackClient, unpackServer,
} from "./packed-connection.ts";

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
/** Where each body is in the body slab: chunk, offset, length (-1: not there; see `putBody`). */
const N_REQ_BODY = 11;
const N_RES_BODY = 14;
const N_CLIENT = 17;
const N_SERVER = N_CLIENT + CLIENT_NUMS;
const NUMS = N_SERVER + SERVER_NUMS;

/** Text fields: pretty_url, id, marked, comment, is_replay, error, then the request's method, scheme, host, path, authority, version, then its headers. */
const REQ_HEADERS = 12;

const F_REQ_STREAM = 1;
const F_RES_STREAM = 2;
const F_RESPONSE = 4;
const F_ERROR = 8;
const F_CLIENT_PACKED = 16;
const F_SERVER_PACKED = 32;

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

/** Where packed flows keep their numbers and small bodies; one per store. */
export class PackArena {
  readonly numbers = new NumberSlab();
  readonly bodies = new BodySlab();
}

export class PackedHTTPFlow {
  constructor(
    readonly seq: number,
    readonly slot: number,
    readonly text: string,
    /** Bodies too large for the slab, kept as they were. */
    readonly requestBody: Uint8Array | undefined,
    readonly responseBody: Uint8Array | undefined,
    /** The connections while open; undefined once packed into the text. */
    readonly client: Client | undefined,
    readonly server: Server | undefined,
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

/** Copies a small body into the slab and returns undefined, or returns a large or absent one to keep as it is. */
function putBody(body: Uint8Array | undefined, bodies: BodySlab, n: Float64Array, at: number): Uint8Array | undefined {
  n[at + 2] = -1;
  if (body === undefined || body.length > SLAB_MAX_BODY) return body;
  n[at + 2] = body.length;
  if (body.length === 0) return undefined;
  const place = bodies.put(body);
  n[at] = place.chunk;
  n[at + 1] = place.offset;
  return undefined;
}

function getBody(kept: Uint8Array | undefined, bodies: BodySlab, n: Float64Array, at: number): Uint8Array | undefined {
  const length = n[at + 2] as number;
  if (length === -1) return kept;
  if (length === 0) return Buffer.alloc(0);
  return bodies.get(n[at] as number, n[at + 1] as number, length);
}

/** Gives back a packed flow's slot and body bytes: it was unpacked for good, or removed. */
export function releasePacked(p: PackedHTTPFlow, arena: PackArena): void {
  const n = arena.numbers.array;
  const at = p.slot * NUMS;
  for (const body of [N_REQ_BODY, N_RES_BODY]) {
    const length = n[at + body + 2] as number;
    if (length > 0) arena.bodies.release(n[at + body] as number, length);
  }
  arena.numbers.release(p.slot);
}

/** Packs a `packable` flow, or returns undefined when one of its strings holds the separator. */
export function packFlow(flow: HTTPFlow, seq: number, arena: PackArena): PackedHTTPFlow | undefined {
  const slab = arena.numbers;
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
  const slot = slab.alloc();
  const n = slab.array;
  const at = slot * NUMS;
  const client = flow.client_conn.closed ? undefined : flow.client_conn;
  const server = flow.server_conn.closed ? undefined : flow.server_conn;
  try {
    if (!client) packClient(flow.client_conn, parts, n, at + N_CLIENT);
    if (!server) packServer(flow.server_conn, parts, n, at + N_SERVER);
  } catch (err) {
    if (!(err instanceof UnpackableValue)) throw err;
    slab.release(slot);
    return undefined;
  }
  for (let i = 0; i < parts.length; i++) {
    if ((parts[i] as string).includes(SEP)) {
      slab.release(slot);
      return undefined;
    }
  }
  n[at + N_CREATED] = flow.timestamp_created;
  n[at + N_PORT] = req.port;
  n[at + N_REQ_START] = req.timestamp_start;
  n[at + N_REQ_END] = req.timestamp_end ?? NaN;
  n[at + N_STATUS] = res?.status_code ?? 0;
  n[at + N_RES_START] = res?.timestamp_start ?? NaN;
  n[at + N_RES_END] = res?.timestamp_end ?? NaN;
  n[at + N_ERROR_TS] = flow.error?.timestamp ?? NaN;
  n[at + N_FLAGS] = (req.stream ? F_REQ_STREAM : 0) | (res?.stream ? F_RES_STREAM : 0) | (res ? F_RESPONSE : 0) | (flow.error ? F_ERROR : 0) |
    (client ? 0 : F_CLIENT_PACKED) | (server ? 0 : F_SERVER_PACKED);
  n[at + N_REQ_HEADERS] = reqFields;
  n[at + N_RES_HEADERS] = resFields;
  const requestBody = putBody(req.raw_content, arena.bodies, n, at + N_REQ_BODY);
  const responseBody = putBody(res?.raw_content, arena.bodies, n, at + N_RES_BODY);
  return new PackedHTTPFlow(seq, slot, parts.join(SEP), requestBody, responseBody, client, server, flow.marked !== "");
}

function orUndefined(n: number): number | undefined {
  return Number.isNaN(n) ? undefined : n;
}

/** A new HTTPFlow equal to the one packed; the record stays valid. */
export function unpackFlow(p: PackedHTTPFlow, arena: PackArena): HTTPFlow {
  const s = p.text.split(SEP);
  const n = arena.numbers.array;
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
    content: getBody(p.requestBody, arena.bodies, n, at + N_REQ_BODY),
    timestamp_start: n[at + N_REQ_START] as number,
  });
  request.timestamp_end = orUndefined(n[at + N_REQ_END] as number);
  request.stream = (flags & F_REQ_STREAM) !== 0;
  i = reqEnd;
  const resEnd = flags & F_RESPONSE ? i + 2 + 2 * (n[at + N_RES_HEADERS] as number) : i;
  const client = p.client ?? unpackClient(s, resEnd, n, at + N_CLIENT);
  const server = p.server ?? unpackServer(s, p.client ? resEnd : resEnd + CLIENT_FIELDS, n, at + N_SERVER);
  const flow = new HTTPFlow(client, server, request, s[1]);
  if (flags & F_RESPONSE) {
    const response = new Response({
      status_code: n[at + N_STATUS] as number,
      reason: s[i] as string,
      http_version: s[i + 1] as string,
      headers: Headers.adopt(s.slice(i + 2, resEnd)),
      content: getBody(p.responseBody, arena.bodies, n, at + N_RES_BODY),
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

  constructor(private readonly arena: PackArena) {}

  reset(p: PackedHTTPFlow): this {
    this.p = p;
    this.nums = this.arena.numbers.array;
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

  /** The request's (or response's) raw body. */
  body(ofRequest: boolean): Uint8Array | undefined {
    return ofRequest
      ? getBody(this.p.requestBody, this.arena.bodies, this.nums, this.at + N_REQ_BODY)
      : getBody(this.p.responseBody, this.arena.bodies, this.nums, this.at + N_RES_BODY);
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
  /** Where the packed connections' fields start: after the response. */
  private get connectionsAt(): number {
    const res = this.response;
    return REQ_HEADERS + 2 * this.num(N_REQ_HEADERS) + (res ? 2 + 2 * this.num(N_RES_HEADERS) : 0);
  }
  get client_conn(): { readonly peername: readonly [string, number] } {
    if (this.p.client) return this.p.client;
    return { peername: [this.field(this.connectionsAt + CLIENT_PEER_HOST), this.num(N_CLIENT + CLIENT_PEER_PORT_SLOT)] };
  }
  get server_conn(): { readonly address: readonly [string, number] | undefined } {
    if (this.p.server) return this.p.server;
    if (!serverHasAddress(this.nums, this.at + N_SERVER)) return { address: undefined };
    const first = this.connectionsAt + (this.p.client ? 0 : CLIENT_FIELDS);
    return { address: [this.field(first + SERVER_ADDRESS_HOST), this.num(N_SERVER + SERVER_ADDRESS_PORT_SLOT)] };
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
    const raw = this.v.body(true);
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
    const raw = this.v.body(false);
    return raw === undefined ? undefined : (decodeContent(raw, this.v.header(this.first, this.headerCount, "content-encoding")) ?? raw);
  }
}
