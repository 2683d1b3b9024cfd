/**
 * Node's own HTTP/1 parser (llhttp, the one `node:http` uses) behind a small sans-IO
 * interface: feed bytes with `execute`, get head/body/complete callbacks. pryx parses
 * with it directly rather than through `http.Server`/`http.request`, because those add
 * and reorder headers, and a proxy must forward exactly what it received.
 */
import { createRequire } from "node:module";

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserNativeError;
  finish(): undefined | ParserNativeError;
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
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The status a proxy answers a malformed request with. */
  get status(): number {
    return this.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  }
}

export type ExecuteResult = { kind: "ok" } | { kind: "upgrade"; rest: Buffer } | { kind: "error"; error: HttpParseError };

export const DEFAULT_MAX_HEADER_SIZE = 64 * 1024;

const CALLBACK_SLOTS = [HTTPParser.kOnHeaders, HTTPParser.kOnHeadersComplete, HTTPParser.kOnBody, HTTPParser.kOnMessageComplete];

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

  constructor(kind: "request" | "response", cb: ParserCallbacks, maxHeaderSize = DEFAULT_MAX_HEADER_SIZE) {
    const p = new HTTPParser();
    p.initialize(kind === "request" ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, 0);
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
      const head: MessageHead = {
        httpVersion: httpVersion(major, minor),
        rawHeaders: raw,
        method: method === undefined ? "" : (methods[method] ?? ""),
        url: url === undefined ? this.url : this.url + url,
        statusCode: statusCode ?? 0,
        statusMessage: statusMessage ?? "",
        upgrade,
        keepAlive,
      };
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
      cb.onComplete(trailers);
    };
    this.native = p;
  }

  execute(data: Buffer): ExecuteResult {
    if (this.closed) return { kind: "ok" };
    const r = this.native.execute(data);
    if (typeof r !== "number") return { kind: "error", error: toError(r) };
    if (this.upgraded) {
      this.upgraded = false;
      return { kind: "upgrade", rest: data.subarray(r) };
    }
    return { kind: "ok" };
  }

  /** Signals end of input: completes a body that is delimited by the connection closing. */
  finish(): HttpParseError | undefined {
    if (this.closed) return undefined;
    const r = this.native.finish();
    return r === undefined ? undefined : toError(r);
  }

  /** Idempotent; input after it is ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.native;
    // Nothing more is reported, even for input already inside this execute().
    for (const slot of CALLBACK_SLOTS) p[slot] = null;
    // close() may run inside one of this parser's own callbacks: the native object is freed
    // only once the stack has unwound, as node:http does.
    queueMicrotask(() => {
      p.free();
      p.close();
    });
  }
}

function toError(e: ParserNativeError): HttpParseError {
  const why = e.reason ?? e.message;
  return new HttpParseError(e.code, e.code === "HPE_HEADER_OVERFLOW" ? "request headers too large" : `malformed HTTP message: ${why}`);
}
