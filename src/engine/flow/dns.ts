import type { Packet, Answer, Question, RecordType, RecordClass } from "dns-packet";
import { Flow } from "./flow.ts";
import { Server } from "./connection.ts";
import { SVCB_TYPE_NAMES, svcbTextOr } from "./svcb.ts";
import { now } from "./now.ts";

const RD = 1 << 8;
/** QR (response) and RA (recursion available). */
const RESPONSE_FLAGS = (1 << 15) | (1 << 7);
export const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const RCODE_NAMES = Object.keys(RCODES);

/** The rcode by name (NXDOMAIN), as mitmproxy shows it; an unnamed one as RCODE<n>. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** A record's data as plain text: names and addresses as they are, TXT's strings as text, MX as "10 mail.test". */
export function rdataText(data: unknown): string {
  if (typeof data === "string" || typeof data === "number") return String(data);
  if (data instanceof Uint8Array) return Buffer.from(data).toString("utf8");
  if (Array.isArray(data)) return data.map(rdataText).join(" ");
  if (data !== null && typeof data === "object") return Object.values(data).map(rdataText).join(" ");
  return "";
}

/** An answer's data as text: an HTTPS or SVCB record's in its presentation form (its bytes as text were garbage). */
function answerData(x: Answer): string {
  const data: unknown = "data" in x ? x.data : "";
  return SVCB_TYPE_NAMES[x.type] !== undefined ? svcbTextOr(data, rdataText) : rdataText(data);
}

/** Record types by name, as mitmproxy's `dns.types` (dns-packet names types by string). */
export const types = { A: "A", AAAA: "AAAA", CNAME: "CNAME", MX: "MX", NS: "NS", PTR: "PTR", SOA: "SOA", SRV: "SRV", TXT: "TXT", HTTPS: "HTTPS", SVCB: "SVCB", CAA: "CAA", ANY: "ANY" } as const satisfies Record<string, RecordType | "ANY" | "SVCB" | "HTTPS">;
export const classes = { IN: "IN", CH: "CH", HS: "HS", ANY: "ANY" } as const satisfies Record<string, RecordClass>;

/**
 * What mitmproxy's ResourceRecord reads from a record, a ported addon's `str(rr)`, `ipv4_address`,
 * `ipv6_address`, `domain_name` and `text`: each undefined for a record of another type.
 */
export interface RecordReadings {
  readonly ipv4_address: string | undefined;
  readonly ipv6_address: string | undefined;
  readonly domain_name: string | undefined;
  readonly text: string | undefined;
  toString(): string;
}

const DOMAIN_TYPES = new Set(["NS", "CNAME", "PTR"]);
const readingOf = (r: Answer, type: string): string | undefined => (r.type === type ? answerData(r) : undefined);

/** Gives a prototype the readings of the record `record` makes of its object. */
function defineReadings(proto: object, record: (self: unknown) => Answer): void {
  Object.defineProperties(proto, {
    ipv4_address: { get: function (this: unknown) { return readingOf(record(this), "A"); } },
    ipv6_address: { get: function (this: unknown) { return readingOf(record(this), "AAAA"); } },
    domain_name: { get: function (this: unknown) { const r = record(this); return DOMAIN_TYPES.has(r.type) ? answerData(r) : undefined; } },
    text: { get: function (this: unknown) { return readingOf(record(this), "TXT"); } },
    toString: { value: function (this: unknown) { return answerData(record(this)); }, writable: true, configurable: true },
  });
}

/**
 * The prototype lent to the dns-packet records a message holds, so they read as mitmproxy's do
 * (`class_` too) while staying the very objects dns-packet encodes: a message's lists stay live,
 * and a record an addon appends is sent. A prototype, not a wrapper: a flow's records are cloned
 * to the console and written to files as their own fields, which this adds none to.
 */
const WIRE_RECORD: object = Object.create(Object.prototype, {
  class_: {
    get(this: Answer): string | undefined {
      return "class" in this ? this.class : undefined;
    },
  },
});
defineReadings(WIRE_RECORD, (self) => self as Answer);

// Walked on every read, not cached: the lists are dns-packet's own, and an addon may put a plain
// record in place of another or edit one's data (a TXT record's bytes) without a trace to key a
// cache on, as Headers' version is; the walk is ~25 ns a record.
function lendReadings(list: Answer[]): (Answer & RecordReadings)[] {
  for (const r of list) {
    if (Object.getPrototypeOf(r) !== Object.prototype) continue;
    Object.setPrototypeOf(r, WIRE_RECORD);
  }
  return list as (Answer & RecordReadings)[];
}

/** A record for answers, with mitmproxy's field names (`class_`, data as text or packed address bytes). */
export class ResourceRecord implements RecordReadings {
  /** mitmproxy's: the TTL a record gets when none is given (its dns-simple example names it). */
  static readonly DEFAULT_TTL = 60;

  declare readonly ipv4_address: string | undefined;
  declare readonly ipv6_address: string | undefined;
  declare readonly domain_name: string | undefined;
  declare readonly text: string | undefined;

  readonly name: string;
  readonly type: string;
  readonly class_: string;
  readonly ttl: number;
  readonly data: string | Buffer;

  constructor(init: { name: string; type: string; class_?: string; ttl?: number; data: string | Uint8Array }) {
    this.name = init.name;
    this.type = init.type;
    this.class_ = init.class_ ?? "IN";
    this.ttl = init.ttl ?? ResourceRecord.DEFAULT_TTL;
    this.data = typeof init.data === "string" ? init.data : Buffer.from(init.data);
  }

  /** mitmproxy's constructors by type: `ResourceRecord.A("app.test", "10.0.0.1")`. */
  static A(name: string, ip: string, ttl = ResourceRecord.DEFAULT_TTL): ResourceRecord {
    return new ResourceRecord({ name, type: "A", ttl, data: ip });
  }

  static AAAA(name: string, ip: string, ttl = ResourceRecord.DEFAULT_TTL): ResourceRecord {
    return new ResourceRecord({ name, type: "AAAA", ttl, data: ip });
  }

  static CNAME(alias: string, canonical: string, ttl = ResourceRecord.DEFAULT_TTL): ResourceRecord {
    return new ResourceRecord({ name: alias, type: "CNAME", ttl, data: canonical });
  }

  static PTR(inaddr: string, ptr: string, ttl = ResourceRecord.DEFAULT_TTL): ResourceRecord {
    return new ResourceRecord({ name: inaddr, type: "PTR", ttl, data: ptr });
  }

  static NS(name: string, nsdname: string, ttl = ResourceRecord.DEFAULT_TTL): ResourceRecord {
    return new ResourceRecord({ name, type: "NS", ttl, data: nsdname });
  }

  static TXT(name: string, text: string, ttl = ResourceRecord.DEFAULT_TTL): ResourceRecord {
    return new ResourceRecord({ name, type: "TXT", ttl, data: text });
  }

  /** dns-packet's form; packed IPv4/IPv6 bytes become address strings. */
  toAnswer(): Answer {
    let data: unknown = this.data;
    if (Buffer.isBuffer(data) && this.type === "A" && data.length === 4) data = [...data].join(".");
    else if (Buffer.isBuffer(data) && this.type === "AAAA" && data.length === 16) {
      const parts: string[] = [];
      for (let i = 0; i < 16; i += 2) parts.push(data.readUInt16BE(i).toString(16));
      data = parts.join(":");
    }
    return { name: this.name, type: this.type, class: this.class_, ttl: this.ttl, data } as Answer;
  }
}

defineReadings(ResourceRecord.prototype, (self) => (self as ResourceRecord).toAnswer());

/** A DNS message (mitmproxy's `dns.Message`), over dns-packet's decoded form. */
export class DNSMessage {
  /**
   * When the message was made (mitmproxy's `timestamp`): a response's is when the flow was
   * answered. Undefined for one read from a file that did not record it.
   */
  constructor(
    public packet: Packet,
    public timestamp: number | undefined = now(),
  ) {}

  get questions(): Question[] {
    return this.packet.questions ?? [];
  }

  /** An addon's edited question goes to the name server (mitmproxy's questions are settable too). */
  set questions(value: Question[]) {
    this.packet.questions = value;
  }

  get question(): Question | undefined {
    return this.questions[0];
  }

  get answers(): (Answer & RecordReadings)[] {
    return lendReadings(this.packet.answers ?? []);
  }

  set answers(value: Answer[]) {
    this.packet.answers = value;
  }

  /** A response to this query with these answers (mitmproxy's `succeed`). */
  succeed(answers: (Answer | ResourceRecord)[]): DNSMessage {
    const list = answers.map((a) => (a instanceof ResourceRecord ? a.toAnswer() : a));
    return new DNSMessage({ ...this.packet, type: "response", flags: RESPONSE_FLAGS | ((this.packet.flags ?? 0) & RD), answers: list, authorities: [], additionals: [] });
  }

  /** A response with this rcode (mitmproxy's `fail`): a number or a name such as "NXDOMAIN". */
  fail(rcode: number | keyof typeof RCODES): DNSMessage {
    const code = typeof rcode === "number" ? rcode : RCODES[rcode];
    return new DNSMessage({ ...this.packet, type: "response", flags: RESPONSE_FLAGS | ((this.packet.flags ?? 0) & RD) | (code & 0xf), answers: [], authorities: [], additionals: [] });
  }

  get rcode(): number {
    return (this.packet.flags ?? 0) & 0xf;
  }

  // mitmproxy's dns.Message fields, over the header's flags (dns-packet encodes `flags` and `type`),
  // so that a ported addon reads and sets them by the names it uses.

  get response_code(): number {
    return this.rcode;
  }

  set response_code(code: number) {
    this.setFlagBits(0, 0xf, code);
  }

  get id(): number {
    return this.packet.id ?? 0;
  }

  set id(value: number) {
    this.packet.id = value;
  }

  /** True for a query, false for a response (the QR bit). */
  get query(): boolean {
    return this.packet.type !== "response";
  }

  set query(value: boolean) {
    this.packet.type = value ? "query" : "response";
  }

  get op_code(): number {
    return ((this.packet.flags ?? 0) >> 11) & 0xf;
  }

  set op_code(code: number) {
    this.setFlagBits(11, 0xf, code);
  }

  get authoritative_answer(): boolean {
    return this.flagBit(10);
  }

  set authoritative_answer(on: boolean) {
    this.setFlagBits(10, 1, on ? 1 : 0);
  }

  get truncation(): boolean {
    return this.flagBit(9);
  }

  set truncation(on: boolean) {
    this.setFlagBits(9, 1, on ? 1 : 0);
  }

  get recursion_desired(): boolean {
    return this.flagBit(8);
  }

  set recursion_desired(on: boolean) {
    this.setFlagBits(8, 1, on ? 1 : 0);
  }

  get recursion_available(): boolean {
    return this.flagBit(7);
  }

  set recursion_available(on: boolean) {
    this.setFlagBits(7, 1, on ? 1 : 0);
  }

  get authorities(): (Answer & RecordReadings)[] {
    return lendReadings(this.packet.authorities ?? []);
  }

  set authorities(value: Answer[]) {
    this.packet.authorities = value;
  }

  get additionals(): (Answer & RecordReadings)[] {
    return lendReadings(this.packet.additionals ?? []);
  }

  set additionals(value: Answer[]) {
    this.packet.additionals = value;
  }

  private flagBit(bit: number): boolean {
    return (((this.packet.flags ?? 0) >> bit) & 1) === 1;
  }

  private setFlagBits(shift: number, mask: number, value: number): void {
    this.packet.flags = ((this.packet.flags ?? 0) & ~(mask << shift)) | ((value & mask) << shift);
  }

  /** The answers' data as text, as mitmproxy's list row shows them: "10.1.2.3, 10.1.2.4". */
  answerText(): string {
    return this.answers.map((x) => answerData(x)).join(", ");
  }

  /** What ~b and ~bs search: the questions and the answers, their text as it reads (a TXT record's strings too). */
  toString(): string {
    const q = this.questions.map((x) => `${x.name} ${x.type}`).join(", ");
    const a = this.answers.map((x) => `${x.name} ${x.type} ${rdataText("data" in x ? x.data : "")}`).join(", ");
    return a ? `${q} -> ${a}` : q;
  }
}

interface DNSFlowState {
  request: Packet;
  response: Packet | undefined;
  /** Missing in files written before pryx recorded them. */
  request_timestamp?: number | undefined;
  response_timestamp?: number | undefined;
}

export class DNSFlow extends Flow {
  readonly type = "dns" as const;
  request: DNSMessage;
  response: DNSMessage | undefined = undefined;

  constructor(client: ConstructorParameters<typeof Flow>[0], server: ConstructorParameters<typeof Flow>[1], request: DNSMessage) {
    super(client, server);
    this.request = request;
  }

  /** A copy with the query and answer as they are, and no connection state. */
  copy(): DNSFlow {
    const s = this.getState();
    const f = new DNSFlow(this.client_conn, new Server(this.server_conn.address), new DNSMessage(s.request, s.request_timestamp));
    if (s.response) f.response = new DNSMessage(s.response, s.response_timestamp);
    return this.copiedTo(f);
  }

  protected getState(): DNSFlowState {
    return {
      request: structuredClone(this.request.packet),
      response: this.response && structuredClone(this.response.packet),
      request_timestamp: this.request.timestamp,
      response_timestamp: this.response?.timestamp,
    };
  }

  protected setState(state: unknown): void {
    const s = state as DNSFlowState;
    this.request = new DNSMessage(s.request, s.request_timestamp);
    this.response = s.response && new DNSMessage(s.response, s.response_timestamp);
  }
}
