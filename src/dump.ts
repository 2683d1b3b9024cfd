import { isUtf8 } from "node:buffer";
import type { EngineHandle } from "./engine-client.ts";
import { shownAt, type EngineEvent, type FlowDetail, type FlowSummary, type LogEntry, type LogLevel, type MessageDetail, type StreamEvent } from "./protocol.ts";
import { decodeSummaries } from "./summary-codec.ts";
import { jsonlFlow } from "./dump-json.ts";
import { DEFAULT_MAX_LINES, lineTextAt, renderContent, type ViewName } from "./tui/contentviews/index.ts";
import { isMostlyBinary } from "./tui/contentviews/text.ts";
import type { MessageSchema, SchemaFor } from "./proto-definitions.ts";
import { contentMissing, isHttp1, sanitize } from "./tui/format.ts";
import { escapeAscii } from "./tui/detail-lines.ts";
import { shownReason } from "./engine/flow/reason.ts";

export interface DumpOptions {
  jsonl: boolean;
  /** 0 prints no flows (errors only), 1 a line per flow, 2 with headers, 3 with bodies cut, 4 whole. */
  flowDetail: number;
  /** termlog_verbosity: the least severe log level printed (info by default). */
  logLevel?: LogLevel;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** dumper_default_contentview: how bodies are shown from flow_detail 3 (auto by default). */
  contentView?: ViewName;
  /** content_view_lines_cutoff: a body's lines at flow_detail 3 (512 by default). */
  linesCutoff?: number;
  /** protobuf_definitions: gRPC bodies' message types, by request path. */
  schemaFor?: SchemaFor;
}

type BodyStyle = Pick<DumpOptions, "contentView" | "linesCutoff" | "schemaFor">;

export function formatSize(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1024) return `${n}b`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)}k`;
  return `${(n / 1024 / 1024).toFixed(1)}m`;
}

export function formatDuration(s: number | undefined): string {
  if (s === undefined) return "";
  return s < 1 ? `${Math.round(s * 1000)}ms` : `${s.toFixed(2)}s`;
}

/**
 * The HTTP versions mitmdump prints beside the request and before the status: none between an
 * HTTP/1.x client and a server of the same version; else the request's, and the response's.
 */
function httpVersions(f: FlowSummary): { request: string; response: string } {
  if (f.type !== "http" || !f.httpVersion) return { request: "", response: "" };
  // No response yet: mitmdump compares the request's version with HTTP/1.1.
  const differs = f.responseVersion !== undefined || (f.status === undefined && f.httpVersion !== "HTTP/1.1");
  const responseVersion = f.responseVersion ?? f.httpVersion;
  return {
    request: !isHttp1(f.httpVersion) || differs ? ` ${f.httpVersion}` : "",
    response: f.status !== undefined && (!isHttp1(responseVersion) || f.responseVersion !== undefined) ? `${responseVersion} ` : "",
  };
}

/** mitmdump's one line: client, method, full URL (and the HTTP versions as mitmdump shows them), status (or error), size, duration. */
export function formatFlowLine(f: FlowSummary): string {
  const versions = httpVersions(f);
  const what = f.type === "http" ? `${f.method} ${f.url}${versions.request}` : f.type === "dns" ? `DNS ${f.method} ${f.url}` : `${f.type.toUpperCase()} ${f.url}`;
  // A DNS flow's status is its rcode, which goes by name; its sizes count questions and answers, not bytes.
  const dns = f.type === "dns";
  // A DNS flow's answers follow its rcode, as mitmdump prints them (" << 10.1.2.3, 10.1.2.4").
  const status = dns ? `${f.reason ?? ""}${f.path ? ` ${sanitize(f.path)}` : ""}` : `${versions.response}${f.status} ${escapeAscii(shownReason(f.status ?? 0, f.reason ?? "", f.responseVersion ?? f.httpVersion))}`.trimEnd();
  // As mitmdump marks replays: a request pryx sent again has "[replay]" for its client, a response
  // from server replay "[replay]" before it.
  const requestReplay = f.replay === "request";
  const responseReplay = f.replay === "response" && f.status !== undefined ? "[replay] " : "";
  const answered = f.status !== undefined ? `${responseReplay}<< ${status}` : undefined;
  // A response that came before the flow failed (its body cut short, the client gone mid-download)
  // keeps its status ahead of the error, as mitmdump prints both: the server did answer.
  const outcome = f.error !== undefined ? [answered, `<< error: ${f.error}`] : [answered ?? "<<"];
  const size = f.type === "http" ? (contentMissing(f) ? "(content missing)" : formatSize(f.respSize)) : dns ? "" : formatSize(f.reqSize);
  return [requestReplay ? "[replay]" : f.client, what, ...outcome, size, formatDuration(f.duration)].filter(Boolean).join(" ");
}

/**
 * A WebSocket, TCP or UDP message's content under its line: text with its control characters
 * and backslashes escaped (what a peer sends must not clear the terminal or set its title), bytes that are not
 * text as a hex dump, as mitmdump's content views show them.
 */
export function streamMessageLines(content: Uint8Array, style: BodyStyle = {}): string[] {
  if (isBinaryMessage(content)) {
    const r = renderContent(content, undefined, "hex", { maxLines: style.linesCutoff ?? DEFAULT_MAX_LINES, cutNotice: `[cut: ${formatSize(content.length)} in all]` });
    return Array.from({ length: r.lines.length }, (_, i) => `    ${lineTextAt(r.lines, i)}`);
  }
  const text = Buffer.from(content).toString("utf8");
  // A backslash doubled, as mitmdump's: a real ESC (\x1b) and the text "\x1b" must not print alike.
  return text.replace(/\n$/, "").split("\n").map((l) => `    ${sanitize(l.replace(/\r$/, "").replace(/\\/g, "\\\\"))}`);
}

/**
 * Bytes rather than text: a NUL, bytes that are not UTF-8, or, as mitmproxy's is_mostly_bin has it,
 * more than 30% control bytes in the first 100 (a binary frame of small values is valid UTF-8;
 * a text message with a few escape sequences in it is still text, shown escaped).
 */
function isBinaryMessage(content: Uint8Array): boolean {
  return content.includes(0) || !isUtf8(content) || isMostlyBinary(content, 30, 100);
}

/** mitmdump's lines for what happens on a live connection (see `StreamEvent`); "open" is printed as a flow. */
export function formatStreamEvent(e: Exclude<StreamEvent, { kind: "open" }>, style: BodyStyle = {}): string[] {
  if (e.kind === "message") {
    const dir = e.fromClient ? "->" : "<-";
    const what = e.proto === "websocket" ? `WebSocket ${e.type} message` : e.proto;
    return [`${e.client} ${dir} ${what} ${dir} ${e.server}`, ...(e.content ? streamMessageLines(e.content, style) : [])];
  }
  const name = e.proto === "websocket" ? "WebSocket" : e.proto.toUpperCase();
  // 1000, 1001 and 1005 are a normal end; any other code, or no close frame, is an error.
  if (e.closed && [1000, 1001, 1005].includes(e.closed.code)) return [`WebSocket connection closed by ${e.closed.byClient ? "client" : "server"}: ${e.closed.code} ${sanitize(e.closed.reason)}`.trimEnd()];
  const why = e.closed ? `WebSocket Error: close code ${e.closed.code}${e.closed.reason ? ` (reason: ${sanitize(e.closed.reason)})` : ""}` : (e.error ?? "closed");
  return e.error || e.closed ? [`Error in ${name} connection to ${e.server}: ${why}`] : [];
}

/**
 * A body through a content view, as mitmdump shows it (dumper_default_contentview: JSON
 * pretty-printed, binary as hex...), cut after content_view_lines_cutoff lines below level 4,
 * or where the engine cut the bytes it sent.
 */
function bodyLines(m: MessageDetail, level: number, style: BodyStyle, schema: MessageSchema | undefined): string[] {
  const cutNotice = `[cut: ${formatSize(m.bodySize)} in all; --flow-detail 4 shows everything]`;
  const maxLines = level < 4 ? (style.linesCutoff ?? DEFAULT_MAX_LINES) : Infinity;
  const r = renderContent(m.body, m.contentType, style.contentView ?? "auto", { maxLines, cutNotice, schema });
  const lines = Array.from({ length: r.lines.length }, (_, i) => lineTextAt(r.lines, i));
  if (!r.truncated && m.body.length < m.bodySize) lines.push(cutNotice);
  return lines;
}

/** Header bytes as mitmdump prints them: what is not printable ASCII escaped, so a peer's escape sequences never reach the terminal. */
function fieldLines(fields: readonly (readonly [string, string])[]): string[] {
  return fields.map(([k, v]) => `${escapeAscii(k)}: ${escapeAscii(v)}`);
}

/** Headers, then at level 3 and up the body, indented under the flow line as mitmdump does. */
function messageLines(m: MessageDetail, level: number, style: BodyStyle, schema: MessageSchema | undefined): string[] {
  const out = fieldLines(m.headers);
  if (level >= 3 && m.missing) out.push("", "content missing");
  else if (level >= 3 && m.bodySize > 0) out.push("", ...bodyLines(m, level, style, schema));
  // mitmdump's "HTTP Trailers" section, from level 2 with the headers: a gRPC call's grpc-status is there.
  if (m.trailers?.length) out.push("", "--- HTTP Trailers", ...fieldLines(m.trailers));
  return out.map((l) => (l ? `    ${l}` : l));
}

/** What flow_detail 2..4 adds under a flow's line: request, `<< status` and response, messages. */
export function formatDetail(d: FlowDetail, level: number, style: BodyStyle = {}): string[] {
  const out: string[] = [];
  const path = d.request?.path;
  if (d.request) out.push(...messageLines(d.request, level, style, style.schemaFor?.(path, true)));
  if (d.response) out.push(` << ${d.response.status} ${escapeAscii(shownReason(d.response.status, d.response.reason, d.response.httpVersion))}`.trimEnd(), ...messageLines(d.response, level, style, style.schemaFor?.(path, false)));
  // A connection's messages were printed as they came (`stream` events), not again here.
  return out;
}

export function formatLog(e: LogEntry): string {
  // A log line can quote what a peer sent (a client's SNI): never its control characters. Its own
  // line breaks (an addon's error and where it was) are continuation lines, indented so that no
  // text can pass for a log line of its own.
  return `[${e.level}] ${e.msg.split(/\r?\n/).map(sanitize).join("\n    ")}`;
}

/** Headless consumer of engine events: prints each finished flow that the view filter shows. */
export function attachDump(engine: EngineHandle, given: DumpOptions): () => void {
  // Followed as they change: an addon that sets flow_detail or termlog_verbosity (or the prompt's
  // set) changes what is printed from then on, as in mitmdump.
  const opts: DumpOptions = { ...given };
  const follow: Record<string, (value: string) => void> = {
    flow_detail: (v) => (opts.flowDetail = Number(v)),
    termlog_verbosity: (v) => (opts.logLevel = v as LogLevel),
    dumper_default_contentview: (v) => (opts.contentView = v as ViewName),
    content_view_lines_cutoff: (v) => (opts.linesCutoff = Number(v)),
  };
  // WebSockets printed when their handshake was done: not again when they close.
  const printedAtOpen = new Set<string>();
  const printFlow = (f: FlowSummary, detail: FlowDetail | undefined): void => {
    const lines = [formatFlowLine(f), ...(detail && opts.flowDetail >= 2 ? formatDetail(detail, opts.flowDetail, opts) : [])];
    opts.out.write(`${lines.join("\n")}\n${lines.length > 1 ? "\n" : ""}`);
  };
  const print = (f: FlowSummary, detail: FlowDetail | undefined): void => {
    if (f.live || !f.shown || opts.flowDetail <= 0 || printedAtOpen.delete(f.id)) return;
    if (opts.jsonl) opts.out.write(`${JSON.stringify(jsonlFlow(f, detail, opts.flowDetail))}\n`);
    else printFlow(f, detail);
  };
  const stream = (e: StreamEvent): void => {
    if (opts.jsonl || opts.flowDetail <= 0) return;
    if (e.kind === "open") {
      printedAtOpen.add(e.summary.id);
      printFlow(e.summary, e.detail);
      return;
    }
    const lines = formatStreamEvent(e, opts);
    if (lines.length) opts.out.write(`${lines.join("\n")}\n`);
  };
  return engine.on((ev: EngineEvent) => {
    if (ev.t === "options") for (const o of ev.changed) follow[o.name]?.(o.value);
    if (ev.t === "print") opts.out.write(ev.text);
    if (ev.t === "stream") stream(ev.event);
    if (ev.t !== "batch") return;
    // termlog_verbosity, as mitmdump's (-q sets it to error).
    for (const l of ev.logs) if (shownAt(l.level, opts.logLevel)) opts.err.write(`${formatLog(l)}\n`);
    if (opts.flowDetail <= 0) return;
    // Within one batch, print in arrival order whether a flow was added or updated.
    // An HTTP request with neither a response nor an error (an addon's `view.flows.add` of a copy
    // it is about to replay, a file's request-only flow) is printed once it has one, as mitmdump
    // prints at the response and error hooks only: not as a half line ending in "<<".
    const finished = [...decodeSummaries(ev.add), ...decodeSummaries(ev.update)].filter((f) => !f.live && !(f.type === "http" && f.status === undefined && f.error === undefined));
    if (finished.length > 1) finished.sort((a, b) => a.seq - b.seq);
    const details = new Map((ev.details ?? []).map((d) => [d.summary.id, d]));
    for (const f of finished) print(f, details.get(f.id));
  });
}
