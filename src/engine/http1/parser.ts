/**
 * Node's own HTTP/1 parser (llhttp, the one `node:http` uses) behind a small sans-IO
 * interface: feed bytes with `execute`, get head/body/complete callbacks. pryx parses
 * with it directly rather than through `http.Server`/`http.request`, because those add
 * and reorder headers, and a proxy must forward exactly what it received.
 */
import { createRequire } from "node:module";
import { endsWithLF, requestLineStart, splitRequestLine, type RequestLine } from "./request-line.ts";
import { readRefusedHead, refusalDetail } from "./refused-head.ts";
import { isRepeatedLength, readRepeatedLength } from "./repeated-length.ts";

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserNativeError;
  finish(): undefined | ParserNativeError;
  /** False from the first byte of a message until its head is complete (and before any message). */
  headersCompleted(): boolean;
  close(): void;
  free(): void;
  [slot: number]: unknown;
}

interface ParserNativeError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

interface HttpCommon {
  HTTPParser: {
    new (): NativeParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
    kLenientHeaders: number;
    kLenientChunkedLength: number;
    kLenientTransferEncoding: number;
    kLenientOptionalCRBeforeLF: number;
  };
  methods: string[];
}

const { HTTPParser, methods } = createRequire(import.meta.url)("_http_common") as HttpCommon;

export interface MessageHead {
  httpVersion: string;
  /** Flat [name, value, name, value…] exactly as on the wire. */
  rawHeaders: string[];
  /** Requests only. */
  method: string;
  url: string;
  /** Responses only. */
  statusCode: number;
  statusMessage: string;
  upgrade: boolean;
  keepAlive: boolean;
}

export interface ParserCallbacks {
  /** Return true to tell the parser the message has no body (a response to HEAD). */
  onHead(head: MessageHead): boolean | void;
  onBody(chunk: Buffer): void;
  onComplete(trailers: string[]): void;
}

export class HttpParseError extends Error {
  /**
   * Whether `validate_inbound_headers=false` would have let the request through: llhttp's codes
   * cover more than its lenient flags pass (a Content-Length twice, a space in a header's name).
   * Judged on llhttp's own words, so a message restated later keeps it.
   */
  readonly lenientWouldPass: boolean;

  constructor(
    readonly code: string,
    message: string,
    lenientWouldPass?: boolean,
  ) {
    super(message);
    this.lenientWouldPass = lenientWouldPass ?? lenientPasses(code, message);
  }

  /** The same refusal in other words. */
  restated(message: string): HttpParseError {
    return new HttpParseError(this.code, message, this.lenientWouldPass);
  }

  /** The status a proxy answers a malformed request with. */
  get status(): number {
    return this.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  }
}

function lenientPasses(code: string, message: string): boolean {
  switch (code) {
    case "HPE_INVALID_TRANSFER_ENCODING":
      return true;
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return !/duplicate/i.test(message);
    case "HPE_INVALID_HEADER_TOKEN":
      return /value/i.test(message);
    default:
      return false;
  }
}

/**
 * An error in a request's head (before llhttp delivered it) comes with `head` when its request
 * line is one: the head read leniently, for a flow that shows the refused request. Nothing of it
 * may be sent on.
 */
export type ExecuteResult = { kind: "ok" } | { kind: "upgrade"; rest: Buffer } | { kind: "error"; error: HttpParseError; head?: MessageHead };

/**
 * A head (request line or status line, and headers) larger than this is refused. 1 MiB, not
 * Node's 16 KiB or the 64 KiB pryx had: pages that set 70 KB of cookies, or send 100 KB query
 * strings, load directly and through mitmproxy, and must through pryx.
 */
export const DEFAULT_MAX_HEADER_SIZE = 1024 * 1024;

/**
 * What `validate_inbound_headers=false` lets through from clients, in llhttp's lenient flags:
 * bytes header values may not hold, a Content-Length beside chunked, and a Transfer-Encoding
 * that does not end in chunked. The rest of the framing stays strict.
 */
export const LENIENT_INBOUND = HTTPParser.kLenientHeaders | HTTPParser.kLenientChunkedLength | HTTPParser.kLenientTransferEncoding;
/**
 * What pryx takes from servers, as mitmproxy and curl do: lines ended by a bare LF (RFC 9112 2.2:
 * a recipient MAY) and header lines folded onto the next (obs-fold, which llhttp then unfolds to
 * one space, as RFC 9112 5.2 has a proxy do). Clients' requests stay strict.
 */
export const LENIENT_RESPONSES = HTTPParser.kLenientOptionalCRBeforeLF | HTTPParser.kLenientHeaders;

/** llhttp's refusals that a valid request line can still cause: an unknown method, a byte >= 0x80 in the target. */
const RESCUABLE = new Set(["HPE_INVALID_METHOD", "HPE_INVALID_URL"]);
const KNOWN_METHODS = new Set(methods);
const LF = 0x0a;

/**
 * Method names by llhttp's method code. Node's `methods` list is not indexed by code past
 * SOURCE (QUERY is code 46 but 35th in the list), so each name is parsed once to learn its code.
 */
const METHOD_BY_CODE = ((): string[] => {
  const byCode: string[] = [];
  const p = new HTTPParser();
  for (const name of methods) {
    p.initialize(HTTPParser.REQUEST, {}, DEFAULT_MAX_HEADER_SIZE, 0);
    p[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, _headers: unknown, code: number): number => {
      byCode[code] = name;
      return 0;
    };
    p.execute(Buffer.from(`${name} ${name === "CONNECT" ? "a:1" : "/"} HTTP/1.1\r\n\r\n`, "latin1"));
  }
  p.free();
  p.close();
  return byCode;
})();

/** Bytes gathered over several reads: copied piece by piece and joined once, so a slow client costs linear time. */
class Gathered {
  private pieces: Buffer[] = [];
  length = 0;

  add(bytes: Buffer): void {
    this.pieces.push(Buffer.from(bytes));
    this.length += bytes.length;
    // A client sending a byte at a time would otherwise leave thousands of tiny buffers.
    if (this.pieces.length > 256) this.pieces = [this.join()];
  }

  join(): Buffer {
    return Buffer.concat(this.pieces, this.length);
  }
}

const CALLBACK_SLOTS = [HTTPParser.kOnHeaders, HTTPParser.kOnHeadersComplete, HTTPParser.kOnBody, HTTPParser.kOnMessageComplete];

/**
 * Native parsers let go of, for the next connection: making one is a C++ object and an async
 * resource, ~10 µs, a fiftieth of a new TLS connection's cost. node:http keeps such a free list
 * too; `initialize` starts a pooled parser afresh.
 */
const freeParsers: NativeParser[] = [];
const MAX_FREE_PARSERS = 256;

function releaseNative(p: NativeParser): void {
  p.free();
  if (freeParsers.length < MAX_FREE_PARSERS) freeParsers.push(p);
  else p.close();
}

/** One string per HTTP version rather than one per message (each stored flow keeps two). */
const VERSIONS = new Map<number, string>();
function httpVersion(major: number, minor: number): string {
  const key = major * 1000 + minor;
  let v = VERSIONS.get(key);
  if (v === undefined) {
    v = `HTTP/${major}.${minor}`;
    if (VERSIONS.size < 64) VERSIONS.set(key, v);
  }
  return v;
}

export class Http1Parser {
  private readonly native: NativeParser;
  private headers: string[] = [];
  private url = "";
  private inBody = false;
  private upgraded = false;
  private closed = false;
  /** Requests completed so far: tells whether one completed inside a given execute(). */
  private completions = 0;
  /** The last head llhttp delivered: its framing says how that message ended on the wire. */
  private lastHead: MessageHead | undefined;
  /**
   * While a request head spans reads, what llhttp has already consumed of it from its request
   * line on, and whether that line ended (then a later refusal in this head is not the line's);
   * "untracked" once its start could not be found or it outgrew the header limit. Undefined between heads.
   */
  private headSoFar: { bytes: Gathered; lineEnded: boolean } | "untracked" | undefined;
  /**
   * Bytes held back from llhttp until they are whole: a refused request line (from its first
   * byte on) until its LF arrives, or a head with a repeated Content-Length until its end.
   */
  private held: { bytes: Gathered; error: HttpParseError; until: "line" | "head" } | undefined;
  /** The last read ended between requests (not in a head or body): a fresh llhttp could replay the next one. */
  private betweenRequests = true;
  /** The real method and target of the request llhttp is reading under a stand-in line. */
  private override: RequestLine | undefined;
  /** The names of the repeated Content-Length fields llhttp is reading under a stand-in, by field index. */
  private renamed: Map<number, string> | undefined;

  constructor(
    private readonly kind: "request" | "response",
    cb: ParserCallbacks,
    private readonly maxHeaderSize = DEFAULT_MAX_HEADER_SIZE,
    /** llhttp's lenient flags (LENIENT_INBOUND), 0 for strict. */
    private readonly lenient = 0,
  ) {
    const p = freeParsers.pop() ?? new HTTPParser();
    p.initialize(kind === "request" ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, lenient);
    // Headers beyond 32 pairs arrive in pieces before the head is complete; after it, they are trailers.
    p[HTTPParser.kOnHeaders] = (h: string[], url: string) => {
      if (this.inBody) this.headers.push(...h);
      else {
        this.headers.push(...h);
        this.url += url;
      }
    };
    p[HTTPParser.kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[] | undefined,
      method: number | undefined,
      url: string | undefined,
      statusCode: number | undefined,
      statusMessage: string | undefined,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      const raw = headers === undefined ? this.headers : this.headers.length ? [...this.headers, ...headers] : headers;
      if (this.renamed !== undefined) {
        for (const [field, name] of this.renamed) raw[field * 2] = name;
        this.renamed = undefined;
      }
      const head: MessageHead = {
        httpVersion: httpVersion(major, minor),
        rawHeaders: raw,
        method: method === undefined ? "" : (METHOD_BY_CODE[method] ?? ""),
        url: url === undefined ? this.url : this.url + url,
        statusCode: statusCode ?? 0,
        statusMessage: statusMessage ?? "",
        upgrade,
        keepAlive,
      };
      if (this.override !== undefined) {
        head.method = this.override.method;
        head.url = this.override.target;
        this.override = undefined;
      }
      this.lastHead = head;
      this.headers = [];
      this.url = "";
      this.inBody = true;
      if (upgrade) this.upgraded = true;
      return cb.onHead(head) === true ? 1 : 0;
    };
    p[HTTPParser.kOnBody] = (chunk: Buffer) => cb.onBody(chunk);
    p[HTTPParser.kOnMessageComplete] = () => {
      const trailers = this.headers;
      this.headers = [];
      this.inBody = false;
      this.completions++;
      cb.onComplete(trailers);
    };
    this.native = p;
  }

  execute(data: Buffer): ExecuteResult {
    if (this.closed) return { kind: "ok" };
    if (this.held) return this.holdMore(data);
    const before = this.completions;
    const fromBoundary = this.betweenRequests;
    const r = this.native.execute(data);
    if (typeof r !== "number") {
      // A request's head was delivered: what failed is its body (or trailers), and its flow says so.
      const error = toError(r, this.kind, this.kind === "request" && this.inBody);
      const errorAt = Math.min(r.bytesParsed ?? 0, data.length);
      const completed = this.completions - before;
      // Not under a stand-in already: that would be a loop.
      if (!this.inBody && this.renamed === undefined && isRepeatedLength(r.code, r.reason ?? "")) {
        const bytes = this.refusedHeadBytes(data, errorAt, completed, fromBoundary);
        return bytes === undefined ? { kind: "error", error } : this.releaseRepeated(bytes, error);
      }
      if (this.kind !== "request" || this.inBody) return { kind: "error", error };
      if (RESCUABLE.has(r.code)) return this.rescue(data, errorAt, completed, fromBoundary, error);
      return this.refusedHead(data, errorAt, completed, fromBoundary, error);
    }
    if (this.upgraded) {
      this.upgraded = false;
      return { kind: "upgrade", rest: data.subarray(r) };
    }
    this.trackLine(data, before !== this.completions);
    return { kind: "ok" };
  }

  /**
   * Keeps what llhttp consumed of a head that a read cut short, in case llhttp refuses it in a
   * later read: a refused line is put together, a refused head read for its flow (or, with a
   * repeated Content-Length, read again). One native call per read; the bytes are kept only then.
   * The call (about 10 ns) stays: the head and completion callbacks cannot tell a read that ended
   * with a message from one that also began the next (pipelining), and llhttp's message-begin
   * would tell it only through a JS callback per message, which costs as much.
   */
  private trackLine(data: Buffer, completedHere: boolean): void {
    const headDone = this.native.headersCompleted();
    this.betweenRequests = headDone && !this.inBody;
    if (headDone) {
      this.headSoFar = undefined;
      return;
    }
    if (this.headSoFar === undefined || completedHere) {
      const start = this.startLine(data, data.length, completedHere);
      if (start === undefined) this.headSoFar = "untracked";
      else {
        this.headSoFar = { bytes: new Gathered(), lineEnded: false };
        this.extendHead(data.subarray(start));
      }
    } else this.extendHead(data);
  }

  private extendHead(bytes: Buffer): void {
    const head = this.headSoFar;
    if (head === undefined || head === "untracked") return;
    if (head.bytes.length + bytes.length > this.maxHeaderSize) this.headSoFar = "untracked";
    else {
      head.lineEnded ||= bytes.includes(LF);
      head.bytes.add(bytes);
    }
  }

  /** Where the head being read starts in `data`, looking before `end`; `afterMessage`: one completed earlier in it. */
  private startLine(data: Buffer, end: number, afterMessage: boolean): number | undefined {
    return requestLineStart(data, end, afterMessage, afterMessage && this.lastEndedWithLF());
  }

  private lastEndedWithLF(): boolean {
    return this.lastHead === undefined || endsWithLF(this.lastHead.rawHeaders);
  }

  /**
   * llhttp refused a request line at `errorAt`: finds where the line began, and holds its bytes
   * (with the rest of the read) until the line is whole. When the start is uncertain, llhttp's
   * error stands.
   */
  private rescue(data: Buffer, errorAt: number, completed: number, fromBoundary: boolean, error: HttpParseError): ExecuteResult {
    const head = this.headSoFar;
    this.headSoFar = undefined;
    // The stand-in line itself was refused: llhttp's error stands, rather than a loop.
    if (this.override !== undefined) return { kind: "error", error };
    if (head !== undefined && head !== "untracked" && !head.lineEnded && completed === 0) return this.releaseHeld(Buffer.concat([head.bytes.join(), data]), error);
    if (head !== undefined && completed === 0) return { kind: "error", error };
    let start = requestLineStart(data, errorAt, completed > 0, completed > 0 && this.lastEndedWithLF());
    // After a Content-Length body: the read began between requests, so a replay finds where they end.
    if (start === undefined && completed > 0 && fromBoundary) start = this.afterRequests(data, errorAt, completed);
    if (start === undefined) return { kind: "error", error };
    return this.releaseHeld(data.subarray(start), error);
  }

  /** Where the request after the first `completed` in `data` (which began between requests) starts. */
  private afterRequests(data: Buffer, errorAt: number, completed: number): number {
    const end = endOfRequests(data, errorAt, completed, this.maxHeaderSize, this.lenient);
    return end + (requestLineStart(data.subarray(end), errorAt - end, false, true) ?? 0);
  }

  /**
   * llhttp refused a request's head past its request line: the head, found as `rescue` finds a
   * line, is read leniently so the refused request can be a flow, its error naming what was
   * wrong. A head too large, or whose start cannot be known, stays a bare error.
   */
  private refusedHead(data: Buffer, errorAt: number, completed: number, fromBoundary: boolean, error: HttpParseError): ExecuteResult {
    if (error.code === "HPE_HEADER_OVERFLOW") {
      this.headSoFar = this.override = undefined;
      return { kind: "error", error };
    }
    return this.refusedRequest(this.refusedHeadBytes(data, errorAt, completed, fromBoundary), error);
  }

  /** The head llhttp refused at `errorAt`, from its first line on, when where it starts can be told. */
  private refusedHeadBytes(data: Buffer, errorAt: number, completed: number, fromBoundary: boolean): Buffer | undefined {
    const so = this.headSoFar;
    this.headSoFar = undefined;
    if (completed === 0) {
      // Nothing tracked: the head began in this read, which began between messages.
      if (so === undefined) return data.subarray(this.startLine(data, errorAt, false));
      return so === "untracked" ? undefined : Buffer.concat([so.bytes.join(), data]);
    }
    if (this.kind === "response") {
      // The bisection that finds where a Content-Length body ended replays requests only.
      const start = this.startLine(data, errorAt, true);
      return start === undefined ? undefined : data.subarray(start);
    }
    return fromBoundary ? data.subarray(this.afterRequests(data, errorAt, completed)) : undefined;
  }

  /** A refused request's head (`bytes` from its request line on) read leniently for its flow. */
  private refusedRequest(bytes: Buffer | undefined, error: HttpParseError): ExecuteResult {
    const line = this.override;
    this.override = undefined;
    const read = bytes && readRefusedHead(bytes);
    if (!read) return { kind: "error", error };
    const detail = refusalDetail(error.code, error.message, read);
    const head: MessageHead = {
      httpVersion: read.httpVersion,
      rawHeaders: read.rawHeaders,
      // Under a stand-in line, the real one's method and target.
      method: line?.method ?? read.method,
      url: line?.target ?? read.url,
      statusCode: 0,
      statusMessage: "",
      upgrade: false,
      keepAlive: false,
    };
    return { kind: "error", error: detail === undefined ? error : error.restated(`malformed HTTP message: ${detail}`), head };
  }

  /**
   * With the refused line whole, restarts llhttp on a stand-in line it accepts (same version)
   * followed by the rest as received; the head then gets the real method and target back.
   * A line that is not `token SP target SP version` keeps llhttp's error.
   */
  private releaseHeld(bytes: Buffer, error: HttpParseError): ExecuteResult {
    const lf = bytes.indexOf(LF);
    if (lf === -1) return this.hold(bytes, error, "line");
    const line = splitRequestLine(bytes.subarray(0, lf));
    // A CONNECT target must be host:port, and llhttp takes any host a DNS name or address can be.
    if (line === undefined || line.method === "CONNECT") return { kind: "error", error };
    const standIn = `${KNOWN_METHODS.has(line.method) ? line.method : "GET"} / ${line.version}\r\n`;
    this.override = line;
    return this.restart(Buffer.concat([Buffer.from(standIn, "latin1"), bytes.subarray(lf + 1)]));
  }

  /**
   * A head llhttp refused for a repeated Content-Length (`bytes` from its first line on), once
   * its end is here: identical values are read again, the repeats under a stand-in name; differing
   * ones are the error, naming them (and a request's flow shows its head, as for other refusals).
   */
  private releaseRepeated(bytes: Buffer, error: HttpParseError): ExecuteResult {
    const read = readRepeatedLength(bytes);
    if (read === undefined) return this.hold(bytes, error, "head");
    if (read.kind === "same") {
      this.renamed = read.names;
      return this.restart(read.bytes);
    }
    const conflict = error.restated(`malformed HTTP message: conflicting Content-Length headers: ${read.values.join(", ")}`);
    if (this.kind === "response") return { kind: "error", error: conflict };
    return this.refusedRequest(bytes, conflict);
  }

  /** Starts llhttp afresh on `bytes`, the start of a message: a refused parse left it in its error state. */
  private restart(bytes: Buffer): ExecuteResult {
    this.native.initialize(this.kind === "request" ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, this.maxHeaderSize, this.lenient);
    this.headers = [];
    this.url = "";
    this.inBody = false;
    this.betweenRequests = true;
    return this.execute(bytes);
  }

  /** Keeps `bytes` back from llhttp until `until` (the line's LF, the head's end) has arrived. */
  private hold(bytes: Buffer, error: HttpParseError, until: "line" | "head"): ExecuteResult {
    this.held = { bytes: new Gathered(), error, until };
    return this.holdMore(bytes);
  }

  /** More of what is held: joined and released once an LF is here (the head's end comes with one). */
  private holdMore(data: Buffer): ExecuteResult {
    const held = this.held as NonNullable<Http1Parser["held"]>;
    if (data.includes(LF) && held.bytes.length > 0) {
      this.held = undefined;
      const bytes = Buffer.concat([held.bytes.join(), data]);
      return held.until === "line" ? this.releaseHeld(bytes, held.error) : this.releaseRepeated(bytes, held.error);
    }
    if (held.bytes.length + data.length > this.maxHeaderSize) {
      this.held = undefined;
      return { kind: "error", error: new HttpParseError("HPE_HEADER_OVERFLOW", `${this.kind} headers too large`) };
    }
    held.bytes.add(data);
    return { kind: "ok" };
  }

  /** Bytes of a request head have arrived and the head is not complete yet. */
  get midHead(): boolean {
    return this.held !== undefined || (this.kind === "request" && !this.betweenRequests && !this.inBody);
  }

  /**
   * The request line of the head being read, once its LF is here: undefined before, between
   * heads, or when the line's start in the reads could not be told.
   */
  get pendingRequestLine(): RequestLine | undefined {
    if (!this.midHead) return undefined;
    if (this.override !== undefined) return this.override;
    const head = this.headSoFar;
    if (typeof head !== "object" || !head.lineEnded) return undefined;
    const bytes = head.bytes.join();
    return splitRequestLine(bytes.subarray(0, bytes.indexOf(LF)));
  }

  /** Signals end of input: completes a body that is delimited by the connection closing. */
  finish(): HttpParseError | undefined {
    if (this.closed) return undefined;
    if (this.held) return this.held.error;
    const r = this.native.finish();
    return r === undefined ? undefined : toError(r, this.kind);
  }

  /** Idempotent; input after it is ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    const p = this.native;
    // Nothing more is reported, even for input already inside this execute().
    for (const slot of CALLBACK_SLOTS) p[slot] = null;
    // close() may run inside one of this parser's own callbacks: the native object is let go
    // of only once the stack has unwound, as node:http does.
    queueMicrotask(() => releaseNative(p));
  }
}

/**
 * Where the first `n` requests in `data` (which starts between requests) end, before `limit`.
 * llhttp reports completions but not their offsets, so prefixes are replayed on a scratch
 * parser, bisecting: O(n log n), and only for a refused line after a Content-Length body.
 */
function endOfRequests(data: Buffer, limit: number, n: number, maxHeaderSize: number, lenient: number): number {
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (completedIn(data.subarray(0, mid), maxHeaderSize, lenient) >= n) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function completedIn(bytes: Buffer, maxHeaderSize: number, lenient: number): number {
  const p = new HTTPParser();
  let n = 0;
  p.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, lenient);
  p[HTTPParser.kOnMessageComplete] = () => void n++;
  p.execute(bytes);
  p.free();
  p.close();
  return n;
}

function toError(e: ParserNativeError, kind: "request" | "response", inRequestBody = false): HttpParseError {
  const why = e.reason ?? e.message;
  // After the head, llhttp's header limit is the trailers'.
  if (e.code === "HPE_HEADER_OVERFLOW") return new HttpParseError(e.code, `${kind} ${inRequestBody ? "trailers" : "headers"} too large`);
  if (inRequestBody) return new HttpParseError(e.code, `malformed request body: ${why}`);
  // llhttp's words for HTTP/2's connection preface ("PRI * HTTP/2.0"), sent without TLS.
  if (kind === "request" && /PRI\/Upgrade/.test(why)) return new HttpParseError(e.code, "HTTP/2 with prior knowledge (h2c) is not supported: speak HTTP/1.1, or HTTP/2 over TLS (ALPN h2)");
  // llhttp's words for obs-fold, which say nothing of folding.
  if (/^Unexpected whitespace after header value$/.test(why)) return new HttpParseError(e.code, "malformed HTTP message: a header value continued on the next line (obsolete line folding, RFC 9112 5.2)");
  return new HttpParseError(e.code, `malformed HTTP message: ${why}`);
}
