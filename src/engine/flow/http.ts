import { Flow } from "./flow.ts";
import { Client, Server, parseAuthority } from "./connection.ts";
import { Headers, type HeaderField } from "./headers.ts";
import { Message, toBytes, type Body } from "./message.ts";
import type { WebSocketData } from "./websocket.ts";
import { URLENCODED_TYPE, decodeUrlencoded, encodeUrlencoded, isUrlencodedType } from "../../urlencoded.ts";
import { MultiDictView, fieldsOf, type Field, type FieldsGiven } from "./multidict.ts";
import { formatCookieHeader, parseCookieHeader, parseSetCookie } from "../../cookies.ts";
import { MULTIPART_TYPE, multipartBoundary, multipartFields, rewriteMultipart } from "../../multipart.ts";
import { BODY_ENCODINGS } from "./encoding.ts";
import { defaultReason, isH2OrH3 } from "./reason.ts";
import { wireHost } from "./host-name.ts";

export { defaultReason, shownReason } from "./reason.ts";

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class HttpEditError extends Error {}

export function validateMethod(method: string): void {
  if (!METHOD.test(method)) throw new HttpEditError(`invalid HTTP method ${JSON.stringify(method)}: must be a token such as GET or POST`);
}

export function validateStatus(code: number): void {
  if (!Number.isInteger(code) || code < 100 || code > 999)
    throw new HttpEditError(`invalid status code ${code}: must be an integer from 100 to 999`);
}

/**
 * The request-target of an absolute URL as it was written. The WHATWG parser resolves dot
 * segments ("/a/../b", and "/a/%2e%2e/b", are "/b"), which is not what someone editing a URL
 * (or an addon setting one) means to send, least of all when testing path traversal;
 * mitmproxy's urllib keeps the path as it is. Only what cannot go on a request line (spaces,
 * control and non-ASCII characters) is percent-encoded, as the parser would; the fragment is
 * never sent.
 */
export function rawRequestTarget(url: string): string {
  const rest = /^\s*[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#\\]*([^#]*)/.exec(url)?.[1]?.trimEnd() ?? "";
  const target = rest.startsWith("/") ? rest : `/${rest}`;
  return target.replace(/[^\x21-\x7e]/gu, (ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      // A lone surrogate: what the URL parser makes of it.
      return "%EF%BF%BD";
    }
  });
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * HTTP/2 and HTTP/3 carry the authority in the `:authority` pseudo-header, which the flow keeps as
 * `request.authority`, not as a Host header: mitmproxy records such a request's headers as the
 * client sent them, and only a hop to an HTTP/1 server gets a Host (see http1HostField).
 */
export function carriesAuthority(httpVersion: string): boolean {
  return isH2OrH3(httpVersion);
}

/** mitmproxy's `host_header`: for HTTP/2 and 3 the authority (the Host header when there is none), else the Host header. */
export function hostHeaderOf(httpVersion: string, authority: string, hostField: string | undefined): string | undefined {
  return carriesAuthority(httpVersion) ? authority || hostField : hostField;
}

/**
 * The Host field an HTTP/1 rendering of `req` adds (on the wire to an HTTP/1 server, in a raw
 * export), or undefined when it needs none: an HTTP/2 or 3 request without a Host gets its
 * authority, as mitmproxy's Http1Client adds it at send time, while the flow keeps the headers the
 * client sent. A Host an addon set is the request's own and wins. With no authority (a flow file
 * that kept none) the URL's host[:port] stands in: HTTP/1.1 requires a Host (RFC 9112 3.2).
 */
export function http1HostField(req: Request): string | undefined {
  if (!carriesAuthority(req.http_version) || req.plainHeaders.has("host")) return undefined;
  return req.authority || req.hostHeader;
}

/** The host of `hostHeader` (a request's host_header) if there is one, else the connection's host. */
export function prettyHostOf(host: string, hostHeader: string | undefined): string {
  if (!hostHeader) return host;
  return parseAuthority(hostHeader)?.host ?? hostHeader;
}

export class Request extends Message {
  /** mitmproxy's repr, for an addon's console.log or template string: `Request(GET example.com:80/path)`. */
  override toString(): string {
    return `Request(${this.method} ${this.host}:${this.port}${this.path})`;
  }

  method: string;
  scheme: string;
  #host: string;
  #port: number;
  /** Path with the query string, as sent in the request line. */
  path: string;
  /** The request-target's authority for CONNECT, HTTP/2's and HTTP/3's `:authority`, or "" */
  authority: string;

  constructor(init: {
    method: string;
    scheme: string;
    host: string;
    port: number;
    path: string;
    http_version?: string;
    headers?: Headers | Iterable<HeaderField>;
    content?: Uint8Array | undefined;
    authority?: string;
    timestamp_start?: number;
  }) {
    super(init.http_version ?? "HTTP/1.1", init.headers ?? [], init.content, init.timestamp_start);
    this.method = init.method;
    this.scheme = init.scheme;
    this.#host = init.host;
    this.#port = init.port;
    this.path = init.path;
    this.authority = init.authority ?? "";
  }

  /**
   * The server's host. Setting it (or `port`) changes the Host header and a CONNECT's authority
   * to match, where there is one, as mitmproxy's does: an addon that sends a request elsewhere
   * with `flow.request.host = …` reaches the other site's virtual host, not the first one's.
   */
  get host(): string {
    return this.#host;
  }

  set host(value: string) {
    if (value === this.#host) return;
    this.#host = value;
    this.hostMoved();
  }

  get port(): number {
    return this.#port;
  }

  set port(value: number) {
    if (value === this.#port) return;
    this.#port = value;
    this.hostMoved();
  }

  private hostMoved(): void {
    if (this.plainHeaders.has("host")) this.plainHeaders.set("host", this.hostHeader);
    if (this.authority) this.authority = this.hostHeader;
  }

  /** A new request for `url` (mitmproxy's `Request.make`). */
  static make(method: string, url: string, content: Body = "", headers: Record<string, string> | Iterable<HeaderField> = {}): Request {
    validateMethod(method);
    const u = new URL(url);
    const scheme = u.protocol.replace(/:$/, "");
    const req = new Request({
      method,
      scheme,
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: u.port ? Number(u.port) : (DEFAULT_PORT[scheme] ?? 80),
      path: rawRequestTarget(url),
      headers: new Headers(headers),
      content: new Uint8Array(0),
    });
    if (!req.plainHeaders.has("host")) req.plainHeaders.insert(0, "Host", req.hostHeader);
    req.content = toBytes(content);
    return req;
  }

  /** host[:port], leaving out the scheme's default port; an IDN in punycode, as a Host header and a URL carry it. */
  get hostHeader(): string {
    const h = hostForUrl(wireHost(this.host));
    return this.port === DEFAULT_PORT[this.scheme] ? h : `${h}:${this.port}`;
  }

  get url(): string {
    if (this.method === "CONNECT" && this.authority) return this.authority;
    return `${this.scheme}://${this.hostHeader}${this.path}`;
  }

  set url(value: string) {
    const u = new URL(value);
    this.scheme = u.protocol.replace(/:$/, "");
    this.#host = u.hostname.replace(/^\[|\]$/g, "");
    this.#port = u.port ? Number(u.port) : (DEFAULT_PORT[this.scheme] ?? 80);
    this.path = rawRequestTarget(value);
    // An HTTP/2 request's authority moves with it, as its Host header would (mitmproxy's url setter
    // goes through its host setter): map_remote and addons send it to the new URL's virtual host.
    this.hostMoved();
  }

  /** The host_header's host (the Host header, or HTTP/2's authority) if there is one, else the connection's host. */
  get pretty_host(): string {
    return prettyHostOf(this.host, this.host_header);
  }

  get pretty_url(): string {
    const headers = this.plainHeaders;
    const version = headers.version;
    if (
      this.#url !== undefined &&
      this.#urlHeaders === headers &&
      this.#urlVersion === version &&
      this.#urlMethod === this.method &&
      this.#urlScheme === this.scheme &&
      this.#urlPath === this.path &&
      this.#urlAuthority === this.authority &&
      this.#urlHttpVersion === this.http_version &&
      this.#urlHost === this.host &&
      this.#urlPort === this.port
    )
      return this.#url;
    this.#urlHeaders = headers;
    this.#urlVersion = version;
    this.#urlMethod = this.method;
    this.#urlScheme = this.scheme;
    this.#urlPath = this.path;
    this.#urlAuthority = this.authority;
    this.#urlHttpVersion = this.http_version;
    this.#urlHost = this.host;
    this.#urlPort = this.port;
    this.#url = this.prettyUrl();
    return this.#url;
  }

  // pretty_url is what ~u matches and what the console shows, read for every stored flow by
  // each filter pass; building it walks the headers, so it is kept until one of its inputs changes.
  #url: string | undefined = undefined;
  #urlHeaders: Headers | undefined = undefined;
  #urlVersion = -1;
  #urlMethod = "";
  #urlScheme = "";
  #urlPath = "";
  #urlAuthority = "";
  #urlHttpVersion = "";
  #urlHost = "";
  #urlPort = 0;

  private prettyUrl(): string {
    if (this.method === "CONNECT" && this.authority) return this.authority;
    const h = this.host_header;
    if (!h) return this.url;
    return `${this.scheme}://${h}${this.path}`;
  }

  /** The query string's fields, in order, as a live view: `query["a"] = "2"` rewrites the path (mitmproxy's). */
  get query(): MultiDictView {
    return new MultiDictView(
      () => this.queryFields(),
      (fields) => (this.query = fields),
    );
  }

  set query(fields: FieldsGiven) {
    const q = this.path.indexOf("?");
    const base = q === -1 ? this.path : this.path.slice(0, q);
    const s = encodeUrlencoded(fieldsOf(fields), q === -1 ? undefined : this.path.slice(q + 1));
    this.path = s ? `${base}?${s}` : base;
  }

  /** The query string's fields, in order (a copy). */
  queryFields(): Field[] {
    const q = this.path.indexOf("?");
    if (q === -1) return [];
    return decodeUrlencoded(this.path.slice(q + 1));
  }

  /** The Cookie header's name=value pairs as a live view; a change writes one Cookie header (mitmproxy's). */
  get cookies(): MultiDictView {
    return new MultiDictView(
      () => parseCookieHeader(this.plainHeaders.getAll("cookie")),
      (fields) => (this.cookies = fields),
    );
  }

  set cookies(fields: FieldsGiven) {
    const pairs = fieldsOf(fields);
    if (pairs.length) this.plainHeaders.set("cookie", formatCookieHeader(pairs));
    else this.plainHeaders.delete("cookie");
  }

  /**
   * The body's fields when it is application/x-www-form-urlencoded (none otherwise), as a live
   * view; a change writes the body and the Content-Type, as mitmproxy's `urlencoded_form` does.
   */
  get urlencoded_form(): MultiDictView {
    return new MultiDictView(
      () => (isUrlencodedType(this.plainHeaders.get("content-type")) ? decodeUrlencoded(this.get_text(false) ?? "") : []),
      (fields) => (this.urlencoded_form = fields),
    );
  }

  set urlencoded_form(fields: FieldsGiven) {
    const previous = isUrlencodedType(this.plainHeaders.get("content-type")) ? this.get_text(false) : undefined;
    this.plainHeaders.set("content-type", URLENCODED_TYPE);
    this.text = encodeUrlencoded(fieldsOf(fields), previous);
  }

  /**
   * mitmproxy's `multipart_form`: the multipart/form-data parts as name and value, a live view;
   * a change writes the body (a part still where it was, under its name, keeps its headers: a
   * file's name and type) and, for a body that was no multipart form, the Content-Type.
   * Values are text, each byte that is no UTF-8 as U+DC80–U+DCFF, so a file's bytes survive.
   */
  get multipart_form(): MultiDictView {
    return new MultiDictView(
      () => {
        const boundary = multipartBoundary(this.plainHeaders.get("content-type"));
        return boundary ? multipartFields(this.get_content(false) ?? new Uint8Array(0), boundary) : [];
      },
      (fields) => (this.multipart_form = fields),
    );
  }

  set multipart_form(fields: FieldsGiven) {
    const { body, boundary, made } = rewriteMultipart(this.get_content(false), multipartBoundary(this.plainHeaders.get("content-type")), fieldsOf(fields));
    if (made) this.plainHeaders.set("content-type", `${MULTIPART_TYPE}; boundary=${boundary}`);
    this.content = body;
  }

  /** mitmproxy's `path_components`: the path's segments, percent-decoded, without the query. */
  get path_components(): string[] {
    const q = this.path.indexOf("?");
    const base = q === -1 ? this.path : this.path.slice(0, q);
    return base
      .split("/")
      .filter((c) => c !== "")
      .map((c) => {
        try {
          return decodeURIComponent(c);
        } catch {
          return c;
        }
      });
  }

  /** Sets the path from segments, each percent-encoded; the query stays. */
  set path_components(components: readonly string[]) {
    const q = this.path.indexOf("?");
    this.path = `/${components.map((c) => encodeURIComponent(String(c))).join("/")}${q === -1 ? "" : this.path.slice(q)}`;
  }

  /** mitmproxy's `anticache()`: no If-Modified-Since or If-None-Match, so the server sends the whole response. */
  anticache(): void {
    this.plainHeaders.delete("if-modified-since");
    this.plainHeaders.delete("if-none-match");
  }

  /** mitmproxy's `anticomp()`: asks for an uncompressed response. */
  anticomp(): void {
    this.plainHeaders.set("accept-encoding", "identity");
  }

  /** mitmproxy's `constrain_encoding()`: Accept-Encoding limited to the encodings pryx decodes. */
  constrain_encoding(): void {
    const accepted = this.plainHeaders.get("accept-encoding");
    if (accepted === undefined) return;
    const known: readonly string[] = [...BODY_ENCODINGS, "identity"];
    const kept = accepted
      .split(",")
      .map((e) => e.trim())
      .filter((e) => known.includes(e.split(";")[0]!.trim().toLowerCase()));
    this.plainHeaders.set("accept-encoding", kept.join(", "));
  }

  /**
   * mitmproxy's `host_header`: the Host header, or for HTTP/2 and 3 the authority; undefined when
   * there is none. Setting undefined removes both. Setting a value on an HTTP/2 request sets its
   * authority and changes a Host header only where there is one (mitmproxy's: `:authority` is
   * HTTP/2's Host header, so none is made up).
   */
  get host_header(): string | undefined {
    return hostHeaderOf(this.http_version, this.authority, this.plainHeaders.get("host"));
  }

  set host_header(value: string | undefined) {
    const h2 = carriesAuthority(this.http_version);
    if (value === undefined || value === null) {
      if (h2) this.authority = "";
      this.plainHeaders.delete("host");
      return;
    }
    if (h2) this.authority = value;
    if (!h2 || this.plainHeaders.has("host")) this.plainHeaders.set("host", value);
  }

  protected needsLengthWhenEmpty(): boolean {
    return false;
  }

  protected messageKind(): string {
    return "request";
  }

  clone(): Request {
    const r = new Request({
      method: this.method,
      scheme: this.scheme,
      host: this.host,
      port: this.port,
      path: this.path,
      http_version: this.http_version,
      headers: this.headers.clone(),
      content: this.raw_content === undefined ? undefined : Uint8Array.from(this.raw_content),
      authority: this.authority,
      timestamp_start: this.timestamp_start,
    });
    r.timestamp_end = this.timestamp_end;
    // Trailers too (gRPC's status): a copy, a replayed response or a backup without them lost it.
    r.trailers = this.trailers?.clone();
    return r;
  }
}

export class Response extends Message {
  /** mitmproxy's repr: `Response(200, text/html, 1.2k)`. */
  override toString(): string {
    const size = this.raw_content === undefined ? "content missing" : `${this.raw_content.length}b`;
    return `Response(${this.status_code}, ${this.plainHeaders.get("content-type") ?? "unknown content type"}, ${size})`;
  }

  status_code: number;
  reason: string;

  constructor(init: {
    status_code: number;
    reason?: string;
    http_version?: string;
    headers?: Headers | Iterable<HeaderField>;
    content?: Uint8Array | undefined;
    timestamp_start?: number;
  }) {
    super(init.http_version ?? "HTTP/1.1", init.headers ?? [], init.content, init.timestamp_start);
    this.status_code = init.status_code;
    this.reason = init.reason ?? defaultReason(init.status_code);
  }

  /**
   * The Set-Cookie headers' names and values as a live view. Where mitmproxy's gives each value
   * with its attributes, this one gives the value alone; a changed value keeps its line's
   * attributes (Path, Expires…), and a new one has none.
   */
  get cookies(): MultiDictView {
    return new MultiDictView(
      () => {
        const out: Field[] = [];
        for (const line of this.plainHeaders.getAll("set-cookie")) {
          const c = parseSetCookie(line);
          if (c) out.push([c.name, c.value]);
        }
        return out;
      },
      (fields) => (this.cookies = fields),
    );
  }

  set cookies(fields: FieldsGiven) {
    const unused = this.plainHeaders.getAll("set-cookie").map((line) => ({ name: parseSetCookie(line)?.name, attrs: line.includes(";") ? line.slice(line.indexOf(";")) : "" }));
    const lines = fieldsOf(fields).map(([name, value]) => {
      const at = unused.findIndex((u) => u.name === name);
      const attrs = at === -1 ? "" : (unused.splice(at, 1)[0] as { attrs: string }).attrs;
      return `${name}=${value}${attrs}`;
    });
    this.plainHeaders.setAll("set-cookie", lines);
  }

  /** A complete response (mitmproxy's `Response.make`): Content-Length is set from the body. */
  static make(status_code = 200, content: Body = "", headers: Record<string, string> | Iterable<HeaderField> = {}): Response {
    validateStatus(status_code);
    const r = new Response({ status_code, headers: new Headers(headers), content: new Uint8Array(0) });
    r.content = toBytes(content);
    r.timestamp_end = r.timestamp_start;
    return r;
  }

  protected needsLengthWhenEmpty(): boolean {
    return true;
  }

  protected messageKind(): string {
    return "response";
  }

  clone(): Response {
    const r = new Response({
      status_code: this.status_code,
      reason: this.reason,
      http_version: this.http_version,
      headers: this.headers.clone(),
      content: this.raw_content === undefined ? undefined : Uint8Array.from(this.raw_content),
      timestamp_start: this.timestamp_start,
    });
    r.timestamp_end = this.timestamp_end;
    // Trailers too (gRPC's status): a copy, a replayed response or a backup without them lost it.
    r.trailers = this.trailers?.clone();
    return r;
  }
}

interface HttpState {
  request: Request;
  response: Response | undefined;
  /** Each WebSocket message's content, by its place. */
  websocket: Uint8Array[] | undefined;
}

export class HTTPFlow extends Flow {
  /** mitmproxy's repr: the flow with its request and response. */
  override toString(): string {
    return `<HTTPFlow\n  request = ${this.request.toString()}\n  response = ${this.response?.toString() ?? "None"}>`;
  }

  readonly type = "http" as const;
  request: Request;
  response: Response | undefined = undefined;
  websocket: WebSocketData | undefined = undefined;

  constructor(client: Client, server: Server, request: Request, id?: string) {
    super(client, server, id);
    this.request = request;
  }

  protected getState(): HttpState {
    return { request: this.request.clone(), response: this.response?.clone(), websocket: this.websocket?.messages.map((m) => Uint8Array.from(m.content)) };
  }

  protected setState(state: unknown): void {
    const s = state as HttpState;
    this.request = s.request;
    this.response = s.response;
    // WebSocket messages are restored in place: a held one goes on as it was, later ones stay.
    s.websocket?.forEach((content, i) => {
      const m = this.websocket?.messages[i];
      if (m) m.content = content;
    });
  }

  /**
   * The server's response is complete. When the flow was edited before it came (at the
   * paused request), the backup has no response: the one the server sent is part of what
   * was recorded, so `revert()` restores it instead of leaving a flow with none, which a
   * paused exchange would then have nothing to send for.
   */
  responseReceived(): void {
    const backup = this.backup as HttpState | undefined;
    if (backup && !backup.response && this.response) backup.response = this.response.clone();
  }

  /** A copy for editing and replay, with a new id and no connection state. */
  copy(): HTTPFlow {
    const f = new HTTPFlow(this.client_conn, new Server(this.server_conn.address), this.request.clone());
    f.response = this.response?.clone();
    // As mitmproxy's Flow.copy: a WebSocket flow's copy has its messages.
    if (this.websocket) f.websocket = this.websocket.clone();
    return this.copiedTo(f);
  }
}
