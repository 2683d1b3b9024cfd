// Turns the AST into a closure tree once, so evaluating a filter against each
// of thousands of flows does no parsing and no RegExp construction.
//
// Matching notes (see parser.ts for the syntax notes):
// - Every regex is a search (RegExp#test), case-insensitive unless
//   PRYX_CASE_SENSITIVE_FILTERS=1 / MITMPROXY_CASE_SENSITIVE_FILTERS=1.
// - mitmproxy matches headers, bodies and methods as bytes. Here bodies and
//   messages are decoded as UTF-8 when they are valid UTF-8 and as latin1
//   otherwise: text matches as text, and binary content still matches byte
//   for byte (`~b "\xff\xd8"` finds a JPEG) instead of turning into U+FFFD.
// - `~a` compares content types case-insensitively whatever the env var says:
//   media types are case-insensitive (RFC 9110), and `~a` has no user regex.
// - `~meta` renders strings as they are and other values as JSON, one
//   `key: value` line each (mitmproxy uses Python's str()).

import { domainToUnicode } from "node:url";
import { Buffer, isUtf8 } from "node:buffer";
import { parseFilter } from "./parser.ts";
import type { FilterNode, FilterOptions, RegexNode } from "./parser.ts";
import type { FlagCode } from "./operators.ts";
import type { FilterableFlow, FilterableHTTPRequest, FilterableHeaders, FilterableMessage } from "./types.ts";

export { parseFilter } from "./parser.ts";
export { FILTER_HELP } from "./operators.ts";

export type Predicate = (flow: FilterableFlow) => boolean;

export interface Filter {
  (flow: FilterableFlow): boolean;
  /** The expression as given to compileFilter. */
  readonly expression: string;
  /** A readable rendering, like mitmproxy's str(): `url matches /foo/i`. */
  readonly description: string;
}

/** Parses and compiles a filter expression. Throws FilterSyntaxError on bad input. */
export function compileFilter(expression: string, options: FilterOptions = {}): Filter {
  const ast = parseFilter(expression, options);
  const predicate = compileNode(ast);
  const filter = (flow: FilterableFlow): boolean => predicate(flow);
  Object.defineProperties(filter, {
    expression: { value: expression, enumerable: true },
    description: { value: describeFilter(ast), enumerable: true },
  });
  return filter as Filter;
}

/** Compiles an AST (from parseFilter) into a predicate. */
export function compileNode(node: FilterNode): Predicate {
  switch (node.type) {
    case "and": {
      const parts = node.children.map(compileNode);
      return (flow) => parts.every((p) => p(flow));
    }
    case "or": {
      const parts = node.children.map(compileNode);
      return (flow) => parts.some((p) => p(flow));
    }
    case "not": {
      const operand = compileNode(node.operand);
      return (flow) => !operand(flow);
    }
    case "flag":
      return FLAGS[node.operator.code];
    case "status": {
      const status = node.status;
      return (flow) => flow.type === "http" && flow.response !== undefined && flow.response.status_code === status;
    }
    case "regex":
      return compileRegex(node);
  }
}

/** Renders an AST the way a compiled filter's `description` reads. */
export function describeFilter(node: FilterNode): string {
  switch (node.type) {
    case "and":
      return node.children.map((c) => (c.type === "or" ? `(${describeFilter(c)})` : describeFilter(c))).join(" and ");
    case "or":
      return node.children.map(describeFilter).join(" or ");
    case "not": {
      const inner = describeFilter(node.operand);
      return node.operand.type === "and" || node.operand.type === "or" ? `not (${inner})` : `not ${inner}`;
    }
    case "flag":
      return node.operator.description;
    case "status":
      return `response code is ${node.status}`;
    case "regex":
      return `${node.operator.subject} matches ${String(new RegExp(node.pattern, node.flags))}`;
  }
}

const ASSET_TYPES: ReadonlyArray<RegExp> = [
  /text\/javascript/i,
  /application\/x-javascript/i,
  /application\/javascript/i,
  /text\/css/i,
  /image\/.*/i,
  /font\/.*/i,
  /application\/font.*/i,
];

const FLAGS: Readonly<Record<FlagCode, Predicate>> = {
  a: (f) => {
    if (f.type !== "http" || f.response === undefined) return false;
    const headers = f.response.headers;
    return ASSET_TYPES.some((re) => contentTypeMatches(re, headers));
  },
  all: () => true,
  dns: (f) => f.type === "dns",
  e: (f) => Boolean(f.error),
  http: (f) => f.type === "http",
  marked: (f) => f.marked !== "",
  q: (f) => (f.type === "http" || f.type === "dns") && !f.response,
  replay: (f) => f.is_replay === "request" || f.is_replay === "response",
  replayq: (f) => f.is_replay === "request",
  replays: (f) => f.is_replay === "response",
  s: (f) => (f.type === "http" || f.type === "dns") && Boolean(f.response),
  tcp: (f) => f.type === "tcp",
  udp: (f) => f.type === "udp",
  websocket: (f) => f.type === "http" && f.websocket !== undefined,
};

function compileRegex(node: RegexNode): Predicate {
  const re = new RegExp(node.pattern, node.flags);
  const test = (text: string): boolean => re.test(text);
  // As mitmproxy's body operators, an empty body matches nothing (so `!~bs .` finds flows without one).
  const body = (bytes: Uint8Array | undefined): boolean => bytes !== undefined && bytes.length > 0 && test(decodeBody(bytes));
  const messages = (list: ReadonlyArray<FilterableMessage>, fromClient?: boolean): boolean =>
    list.some((m) => (fromClient === undefined || m.from_client === fromClient) && body(m.content));

  switch (node.operator.code) {
    case "u":
      return (f) => {
        if (f.type === "http") return test(f.request.pretty_url);
        if (f.type === "dns") {
          const first = f.request.questions[0];
          return first !== undefined && test(first.name);
        }
        return false;
      };
    case "d":
      // An IDN host is asked for in punycode; mitmproxy's host is the name as written (`~d bücher`).
      const idn = (host: string): boolean => host.includes("xn--") && test(domainToUnicode(host) || host);
      return (f) => f.type === "http" && (test(f.request.host) || test(f.request.pretty_host) || idn(f.request.host) || idn(f.request.pretty_host));
    case "m":
      return (f) => f.type === "http" && test(f.request.method);
    case "h":
      return (f) =>
        f.type === "http" &&
        (test(requestHeaderBlock(f.request)) || (f.response !== undefined && test(headerBlock(f.response.headers))));
    case "hq":
      return (f) => f.type === "http" && test(requestHeaderBlock(f.request));
    case "hs":
      return (f) => f.type === "http" && f.response !== undefined && test(headerBlock(f.response.headers));
    case "t":
      return (f) =>
        f.type === "http" &&
        (contentTypeMatches(re, f.request.headers) ||
          (f.response !== undefined && contentTypeMatches(re, f.response.headers)));
    case "tq":
      return (f) => f.type === "http" && contentTypeMatches(re, f.request.headers);
    case "ts":
      return (f) => f.type === "http" && f.response !== undefined && contentTypeMatches(re, f.response.headers);
    case "b":
      return (f) => {
        switch (f.type) {
          case "http":
            return (
              body(f.request.get_content(false)) ||
              (f.response !== undefined && body(f.response.get_content(false))) ||
              (f.websocket !== undefined && messages(f.websocket.messages))
            );
          case "tcp":
          case "udp":
            return messages(f.messages);
          case "dns":
            return test(f.request.toString()) || (f.response !== undefined && test(f.response.toString()));
        }
      };
    case "bq":
      return (f) => {
        switch (f.type) {
          case "http":
            return body(f.request.get_content(false)) || (f.websocket !== undefined && messages(f.websocket.messages, true));
          case "tcp":
          case "udp":
            return messages(f.messages, true);
          case "dns":
            return test(f.request.toString());
        }
      };
    case "bs":
      return (f) => {
        switch (f.type) {
          case "http":
            return (
              (f.response !== undefined && body(f.response.get_content(false))) ||
              (f.websocket !== undefined && messages(f.websocket.messages, false))
            );
          case "tcp":
          case "udp":
            return messages(f.messages, false);
          case "dns":
            return f.response !== undefined && test(f.response.toString());
        }
      };
    case "src":
      return (f) => {
        const peer = f.client_conn.peername;
        return peer !== undefined && test(`${peer[0]}:${peer[1]}`);
      };
    case "dst":
      return (f) => {
        const address = f.server_conn.address;
        return address !== undefined && test(`${address[0]}:${address[1]}`);
      };
    case "comment":
      return (f) => test(f.comment);
    case "marker":
      return (f) => test(f.marked);
    case "meta":
      return (f) => test(metadataBlock(f.metadata));
  }
}

/**
 * A request's header text for ~h and ~hq. An HTTP/2 request's authority is in no header field
 * (mitmproxy's ~h does not see it), but pryx's ~h has always matched it as a leading Host line and
 * keeps doing so: `~hq "host: example.com"` finds HTTP/2 requests as it finds HTTP/1 ones.
 */
function requestHeaderBlock(r: FilterableHTTPRequest): string {
  const block = headerBlock(r.headers);
  const authority = r.host_header;
  if (authority === undefined) return block;
  for (const [name] of wireFields(r.headers)) if (name.toLowerCase() === "host") return block;
  return `host: ${authority}\r\n${block}`;
}

// mitmproxy's bytes(headers): one `name: value\r\n` line per field, wire order.
/**
 * The header fields as `Name: value` lines. Values are bytes as Latin-1 text; where they hold
 * UTF-8, the value is that text, so `~h 山田` finds what mitmproxy's pattern, encoded to UTF-8,
 * finds in the bytes (bytes that are no UTF-8 stay as they are).
 */
function headerBlock(headers: FilterableHeaders): string {
  let block = "";
  for (const [name, value] of wireFields(headers)) block += `${name}: ${HIGH_BYTE.test(value) ? utf8OrBytes(value) : value}\r\n`;
  return block;
}

const HIGH_BYTE = /[\x80-\xff]/;

/** The fields as bytes (see FilterableHeaders): a live flow's and a stored one's match alike. */
function wireFields(headers: FilterableHeaders): Iterable<readonly [string, string]> {
  return headers.byteFields?.() ?? headers;
}

function utf8OrBytes(latin1: string): string {
  const bytes = Buffer.from(latin1, "latin1");
  return isUtf8(bytes) ? bytes.toString("utf8") : latin1;
}

function contentTypeMatches(re: RegExp, headers: FilterableHeaders): boolean {
  for (const [name, value] of wireFields(headers)) {
    if (name.toLowerCase() === "content-type" && re.test(value)) return true;
  }
  return false;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function decodeBody(bytes: Uint8Array): string {
  if (bytes.length === 0) return "";
  try {
    return UTF8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  }
}

function metadataBlock(metadata: Readonly<Record<string, unknown>>): string {
  return Object.entries(metadata)
    .map(([key, value]) => `${key}: ${renderValue(value)}`)
    .join("\n");
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      // Circular structures cannot be JSON; fall back to the tag.
      return String(value);
    }
  }
  return String(value);
}
