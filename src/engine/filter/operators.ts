// The operator table is shared by the lexer (which must know whether an
// operator takes an argument before it can tell a regex from an operator),
// the parser, the compiler and the help screen, so it lives in one place.

export type FlagCode =
  | "a"
  | "all"
  | "dns"
  | "e"
  | "http"
  | "marked"
  | "q"
  | "replay"
  | "replayq"
  | "replays"
  | "s"
  | "tcp"
  | "udp"
  | "websocket";

export type RegexCode =
  | "b"
  | "bq"
  | "bs"
  | "comment"
  | "d"
  | "dst"
  | "h"
  | "hq"
  | "hs"
  | "m"
  | "marker"
  | "meta"
  | "src"
  | "t"
  | "tq"
  | "ts"
  | "u";

export type StatusCode = "c";

/** An operator without an argument, e.g. `~q`. */
export interface FlagOperator {
  readonly kind: "flag";
  readonly code: FlagCode;
  readonly help: string;
  /** Used in a compiled filter's `description`. */
  readonly description: string;
}

/** An operator followed by a regex, e.g. `~h rex`. */
export interface RegexOperator {
  readonly kind: "regex";
  readonly code: RegexCode;
  readonly help: string;
  /** What the regex is matched against, for `description` ("url matches /x/i"). */
  readonly subject: string;
  /** Flags the operator always adds on top of the case flag. */
  readonly flags: "" | "m" | "s";
}

/** An operator followed by a decimal integer (`~c 200`). */
export interface StatusOperator {
  readonly kind: "status";
  readonly code: StatusCode;
  readonly help: string;
}

export type OperatorSpec = FlagOperator | RegexOperator | StatusOperator;

const flag = (code: FlagCode, help: string, description: string): FlagOperator => ({
  kind: "flag",
  code,
  help,
  description,
});

const regex = (
  code: RegexCode,
  help: string,
  subject: string,
  flags: "" | "m" | "s" = "",
): RegexOperator => ({ kind: "regex", code, help, subject, flags });

// Help strings are mitmproxy's, so the console help screen reads the same.
export const OPERATORS: ReadonlyArray<OperatorSpec> = [
  flag("a", "Match asset in response: CSS, JavaScript, images, fonts.", "asset in response"),
  flag("e", "Match error", "has error"),
  flag("http", "Match HTTP flows", "HTTP flow"),
  flag("marked", "Match marked flows", "marked"),
  flag("replay", "Match replayed flows", "replayed flow"),
  flag("replayq", "Match replayed client request", "replayed client request"),
  flag("replays", "Match replayed server response", "replayed server response"),
  flag("q", "Match request with no response", "request with no response"),
  flag("s", "Match response", "has response"),
  flag("tcp", "Match TCP flows", "TCP flow"),
  flag("udp", "Match UDP flows", "UDP flow"),
  flag("dns", "Match DNS flows", "DNS flow"),
  flag("websocket", "Match WebSocket flows", "WebSocket flow"),
  flag("all", "Match all flows", "all flows"),
  regex("b", "Body", "body", "s"),
  regex("bq", "Request body", "request body", "s"),
  regex("bs", "Response body", "response body", "s"),
  regex("t", "Content-type header", "content type"),
  regex("tq", "Request Content-Type header", "request content type"),
  regex("ts", "Response Content-Type header", "response content type"),
  regex("d", "Domain", "domain"),
  regex("dst", "Match destination address", "destination address"),
  regex("h", "Header", "header", "m"),
  regex("hq", "Request header", "request header", "m"),
  regex("hs", "Response header", "response header", "m"),
  regex("m", "Method", "method"),
  regex("src", "Match source address", "source address"),
  regex("u", "URL", "url"),
  regex("meta", "Flow metadata", "metadata", "m"),
  regex("marker", "Match marked flows with specified marker", "marker"),
  regex("comment", "Flow comment", "comment", "m"),
  { kind: "status", code: "c", help: "HTTP response code" },
];

const BY_CODE: ReadonlyMap<string, OperatorSpec> = new Map(OPERATORS.map((op) => [op.code, op]));

/** Looks up an operator by its code without the `~` (`"h"` for `~h`). */
export function lookupOperator(code: string): OperatorSpec | undefined {
  return BY_CODE.get(code);
}

/** The `~u` operator, which a bare regex stands for. */
export const URL_OPERATOR = BY_CODE.get("u") as RegexOperator;

function helpEntry(op: OperatorSpec): { op: string; help: string } {
  const suffix = op.kind === "regex" ? " regex" : op.kind === "status" ? " int" : "";
  return { op: `~${op.code}${suffix}`, help: op.help };
}

/**
 * The operator table for the console help screen, in the order mitmproxy
 * prints it: operators sorted by their spelled-out form, then the connectives.
 */
export const FILTER_HELP: ReadonlyArray<{ readonly op: string; readonly help: string }> = Object.freeze([
  ...OPERATORS.map(helpEntry).sort((x, y) => (x.op < y.op ? -1 : x.op > y.op ? 1 : 0)),
  { op: "!", help: "unary not" },
  { op: "&", help: "and" },
  { op: "|", help: "or" },
  { op: "(...)", help: "grouping" },
]);
