/**
 * The only contract between the engine worker and the main thread (console or dump).
 * Everything posted across the thread boundary is one of these types; nothing else crosses.
 * Types only (plus assertNever), so both threads import it without pulling in the other's code.
 */
import type { HeaderField } from "./engine/flow/headers.ts";
import type { SummaryBatch } from "./summary-codec.ts";
import type { PathForm } from "./path-form.ts";

export type FlowType = "http" | "tcp" | "udp" | "dns";

/** A batch (33 ms of changes) with more flows than this comes from a flood (or a file being read): it is handled as one. */
export const FLOOD_BATCH_ROWS = 100;

/** Why an edit of an HTTP flow in progress and not paused is refused: the engine's check, and the console's before an editor opens. */
export const EDIT_IN_PROGRESS = "the flow is still in progress: what comes from the client or server would replace the edit; pause it with the intercept filter (i) to edit it, or edit it once it has finished";

/** A compact, immutable view of a flow: what a list row and the dump line need. */
export interface FlowSummary {
  id: string;
  /** Arrival order, unique per engine run. */
  seq: number;
  type: FlowType;
  /** Seconds since the epoch when the flow was created. */
  ts: number;
  method: string;
  scheme: string;
  /** The Host header's host, else the connection's. */
  host: string;
  port: number;
  path: string;
  url: string;
  httpVersion: string;
  /** The response's HTTP version where it is not the request's (an HTTP/2 client of an HTTP/1.1 server): mitmdump prints both then. */
  responseVersion: string | undefined;
  status: number | undefined;
  reason: string | undefined;
  contentType: string | undefined;
  reqSize: number;
  respSize: number | undefined;
  /** Seconds from the request's start to the response's end. */
  duration: number | undefined;
  error: string | undefined;
  intercepted: boolean;
  /** Which side a paused flow waits on. */
  interceptedAt: "request" | "response" | "message" | undefined;
  /** The flow's marker, "" when it has none: ":default:", a letter or digit, or an emoji name such as ":grapes:". */
  marker: string;
  /** Which side pryx replayed (mitmproxy's `is_replay`): the request sent again, or a response from server replay. */
  replay: "request" | "response" | undefined;
  modified: boolean;
  /** False once the flow has finished (response sent, error, or loaded from a file). */
  live: boolean;
  /** client ip:port */
  client: string;
  server: string | undefined;
  /** WebSocket, TCP or DNS message count, when the flow carries messages. */
  messages: number | undefined;
  comment: string;
  /** Whether the flow matches the current view filter. */
  shown: boolean;
}

export interface MessageDetail {
  headers: HeaderField[];
  /** The decoded body, cut to the requested window. */
  body: Uint8Array;
  /** The full decoded body size. */
  bodySize: number;
  /** Offset of `body` inside the full body. */
  bodyOffset: number;
  contentType: string | undefined;
  /** The Content-Encoding the body was decoded from ("decoded gzip"), or that failed to decode ("cannot decode br"). */
  encoding: string | undefined;
  /** HTTP trailers after the body (gRPC's grpc-status), when there are any. */
  trailers?: HeaderField[];
  /** The body was not kept (streamed past stream_large_bodies): mitmproxy's "content missing". */
  missing?: true;
}

export interface RequestDetail extends MessageDetail {
  method: string;
  url: string;
  path: string;
  httpVersion: string;
}

export interface ResponseDetail extends MessageDetail {
  status: number;
  reason: string;
  httpVersion: string;
}

/** A certificate as the Detail tab shows it; `error` alone when its PEM does not parse. */
export type CertificateDetail =
  | {
      type: string;
      /** Lowercase hex, as mitmproxy shows it. */
      sha256: string;
      /** ISO 8601, UTC. */
      validFrom: string;
      validTo: string;
      serial: string;
      subject: string;
      issuer: string;
      altNames: string[];
      /** Certificates the server sent, this one included. */
      chainLength: number;
      error?: undefined;
    }
  | { error: string; chainLength: number };

export interface ConnectionDetail {
  address: string | undefined;
  tlsVersion: string | undefined;
  cipher: string | undefined;
  sni: string | undefined;
  alpn: string | undefined;
  /** Offered: by the client, or by pryx to the server. */
  alpnOffers: readonly string[];
  /** The server's leaf certificate, summarized; undefined without one (clients, plain connections). */
  certificate: CertificateDetail | undefined;
  timestampStart: number | undefined;
  timestampTlsSetup: number | undefined;
  timestampEnd: number | undefined;
}

export interface StreamMessageDetail {
  fromClient: boolean;
  type: string;
  content: Uint8Array;
  timestamp: number;
  /** A WebSocket message an addon dropped (recorded, never sent on). */
  dropped?: true;
  /** A WebSocket message pryx made up (inject.websocket), not one a peer sent. */
  injected?: true;
}

/** How a WebSocket connection ended: who sent the close frame, with its code and reason. */
export interface WebSocketCloseDetail {
  byClient: boolean;
  code: number;
  reason: string;
}

export interface FlowDetail {
  summary: FlowSummary;
  request: RequestDetail | undefined;
  response: ResponseDetail | undefined;
  messages: StreamMessageDetail[];
  /** Set once a WebSocket flow has seen a close frame. */
  closed: WebSocketCloseDetail | undefined;
  client: ConnectionDetail;
  server: ConnectionDetail;
  timings: { name: string; ts: number }[];
  /** A DNS flow's query and answer as text lines (mitmproxy's sections), for the Request and Response tabs. */
  dns: { request: string[]; response: string[] | undefined } | undefined;
  /** The flow's metadata (addons', proxyauth's user), each value as text: the Detail tab's Metadata section. */
  metadata?: [string, string][];
}

export type OptionType = "bool" | "int" | "optional int" | "str" | "optional str" | "str[]" | "filter" | "choice";

export interface OptionInfo {
  name: string;
  type: OptionType;
  /** The current value rendered as text the user can edit. */
  value: string;
  default: string;
  help: string;
  choices: string[] | undefined;
  /** A list option's entries: `value` joins them with commas, and an entry (a regex) may hold one. */
  items?: string[];
  /**
   * The value is a file or directory path (a list option's: each entry is one), which the console
   * completes as a path; "after=" when entries are written `[name=]path` (certs) and the path
   * follows the first "=", "after+" when a leading "+" (save_stream_file's append) comes before it.
   */
  paths?: PathForm;
}

export interface CommandInfo {
  name: string;
  signature: string;
  help: string;
}

export type LogLevel = "error" | "warn" | "info" | "debug" | "alert";

/** mitmproxy's log levels, most severe first: a verbosity option shows its level and those before it. */
export const LOG_LEVELS = ["error", "warn", "info", "alert", "debug"] as const satisfies readonly LogLevel[];

/**
 * How severe each level counts when filtering, as mitmproxy's `log_tier`: alert ranks with info,
 * because an alert (a save's report) is what the status line sends the user to the event log for.
 */
const LOG_TIERS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, alert: 2, debug: 3 };

/** Whether an entry of `level` shows at `verbosity` (an unknown verbosity shows everything). */
export function shownAt(level: LogLevel, verbosity: string | undefined): boolean {
  const v = verbosity ?? "info";
  return !Object.hasOwn(LOG_TIERS, v) || LOG_TIERS[level] <= LOG_TIERS[v as LogLevel];
}

export interface LogEntry {
  ts: number;
  level: LogLevel;
  msg: string;
}

/** A change to one flow, sent by an editor. Absent fields stay as they are. */
export interface FlowPatch {
  method?: string;
  url?: string;
  path?: string;
  query?: [string, string][];
  requestHeaders?: HeaderField[];
  requestBody?: Uint8Array;
  statusCode?: number;
  reason?: string;
  responseHeaders?: HeaderField[];
  responseBody?: Uint8Array;
  comment?: string;
  /** A WebSocket, TCP or UDP message's new content, by its place in the flow's messages. */
  message?: { index: number; content: Uint8Array };
}

/** Requests the main thread may make; each gets exactly one reply. */
export type EngineRequest =
  | { op: "detail"; id: string; bodyLimit: number; bodyOffset?: number }
  | { op: "command"; line: string }
  /** A command line that makes new flows (replay.client, view.flows.duplicate), run for the ids of those flows. */
  | { op: "start"; line: string }
  | { op: "setOption"; name: string; value: string }
  | { op: "options" }
  | { op: "commands" }
  | { op: "edit"; id: string; patch: FlowPatch }
  | { op: "completions"; partial: string };

/** What a command that makes flows says (as `command`'s reply), and the new flows' ids, in the order they are made. */
export interface StartedFlows {
  said: string | undefined;
  ids: string[];
}

/** The value each request's reply carries. */
export interface EngineReplies {
  detail: FlowDetail | undefined;
  command: string | undefined;
  start: StartedFlows;
  setOption: OptionInfo;
  options: OptionInfo[];
  commands: CommandInfo[];
  edit: FlowSummary;
  completions: string[];
}

export type EngineRequestOp = EngineRequest["op"];

/** main thread → worker */
export type UiMessage =
  | { t: "request"; id: number; req: EngineRequest }
  | { t: "shutdown" };

export interface ReadyInfo {
  listen: string[];
  modes: string[];
  confdir: string;
  /** The CA was created on this run: the user has yet to trust it, so the start-up says so. */
  caCreated: boolean;
  /** The mitmproxy CA file the created CA was taken from: clients that trust mitmproxy need nothing new. */
  caAdoptedFrom?: string;
  /** The CA certificate (PEM) a client must trust. */
  caCert: string;
  options: OptionInfo[];
  commands: CommandInfo[];
}

/**
 * Dump mode: what happens on a live WebSocket, TCP or UDP connection, printed when it happens as
 * mitmdump prints it (a connection open for hours is not silent for hours). `open`: a WebSocket's
 * handshake is done, its flow line is printed now rather than when it closes. `message`: one
 * message, with its content from flow_detail 3. `end`: how it closed, or why it failed.
 */
export type StreamEvent =
  | { kind: "open"; summary: FlowSummary; detail: FlowDetail | undefined }
  | { kind: "message"; proto: "websocket" | "tcp" | "udp"; client: string; server: string; fromClient: boolean; type: string; content: Uint8Array | undefined }
  | { kind: "end"; proto: "websocket" | "tcp" | "udp"; server: string; closed: WebSocketCloseDetail | undefined; error: string | undefined };

/** worker → main thread */
export type EngineEvent =
  | { t: "ready"; info: ReadyInfo }
  /** `details`: in dump mode at flow_detail 2 and up, the detail of each finished flow shown (its store lets go of it). */
  /** `add`, `update`: summaries packed (see summary-codec.ts); `decodeSummaries` gives the objects. */
  | { t: "batch"; add: SummaryBatch; update: SummaryBatch; remove: string[]; logs: LogEntry[]; reset: boolean; details?: FlowDetail[] }
  | { t: "options"; changed: OptionInfo[] }
  /**
   * The view filter changed: the `seq` of every flow it shows (empty when `filter` is "",
   * meaning all). Arrival numbers rather than ids: a typed array is cheap to send, and a number
   * is cheap to look up, for the 100,000 flows a filter pass may cover.
   */
  | { t: "view"; filter: string; shown: Uint32Array }
  | { t: "reply"; id: number; ok: true; value: unknown }
  | { t: "reply"; id: number; ok: false; error: string }
  | { t: "fatal"; error: string }
  /** The one-shot work (-r, -C, -S) is done and `keepserving` is off: dump stops; the console keeps serving. */
  | { t: "served"; what: string }
  /** Text for dump's standard output, after the flows already posted (`hardump=-` its HAR); the console has no such output. */
  | { t: "print"; text: string }
  /** Dump mode, unless --jsonl: a live connection's open, messages and end (see `StreamEvent`). */
  | { t: "stream"; event: StreamEvent }
  /** The listeners moved (listen_port, listen_host or mode set while running): where pryx listens now. */
  | { t: "listening"; listen: string[]; modes: string[] }
  | { t: "stopped" };

export function assertNever(x: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
