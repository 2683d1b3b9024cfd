import { hostHeaderOf, prettyHostOf } from "./http.ts";
import { decodeContent } from "./encoding.ts";
import { CLIENT_FIELDS, CLIENT_PEER_HOST, CLIENT_PEER_PORT_SLOT, SERVER_ADDRESS_HOST, SERVER_ADDRESS_PORT_SLOT, serverHasAddress } from "./packed-connection.ts";
import {
  F_ERROR, F_METADATA, F_RESPONSE, N_CLIENT, N_FLAGS, N_REQ_BODY, N_REQ_HEADERS, N_RES_BODY, N_RES_HEADERS, N_SERVER, N_STATUS,
  REQ_HEADERS, SEP, getBody, type PackArena, type PackedHTTPFlow,
} from "./packed-layout.ts";

/**
 * A packed flow as filters read it (`FilterableHTTPFlow`), its fields found in the text with
 * `indexOf` as they are asked for: a filter pass over 100,000 packed flows neither splits nor
 * builds one. One view serves a whole pass (`reset` moves it to the next flow), so a
 * predicate must not keep it.
 */
const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

export class PackedView {
  readonly type = "http" as const;

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
    this.nums = this.arena.numbers.page(p.slot);
    this.at = this.arena.numbers.base(p.slot);
    this.known = 0;
    return this;
  }

  /** The flow's metadata: parsed from the text's last field when there is any (see F_METADATA). */
  get metadata(): Readonly<Record<string, unknown>> {
    if ((this.num(N_FLAGS) & F_METADATA) === 0) return NO_METADATA;
    const text = this.p.text;
    return JSON.parse(text.slice(text.lastIndexOf(SEP) + 1)) as Record<string, unknown>;
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
      ? getBody(this.p.requestBody, this.arena, this.nums, this.at + N_REQ_BODY)
      : getBody(this.p.responseBody, this.arena, this.nums, this.at + N_RES_BODY);
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
  /** mitmproxy's host_header, as Request's: an HTTP/2 request's authority (field 10, by its version in field 11) or the Host header. */
  get host_header(): string | undefined {
    return hostHeaderOf(this.v.field(11), this.v.field(10), this.v.header(REQ_HEADERS, this.headerCount, "host"));
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
    return prettyHostOf(this.host, this.host_header);
  }
  get headers(): Iterable<readonly [string, string]> {
    return { [Symbol.iterator]: () => this.v.pairs(REQ_HEADERS, this.headerCount) };
  }
  get_content(_strict: false): Uint8Array | undefined {
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
  get_content(_strict: false): Uint8Array | undefined {
    const raw = this.v.body(false);
    return raw === undefined ? undefined : (decodeContent(raw, this.v.header(this.first, this.headerCount, "content-encoding")) ?? raw);
  }
}
