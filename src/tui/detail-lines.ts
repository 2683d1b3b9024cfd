/**
 * The flow view's tabs as display lines: headers, then the body through the content views; the
 * message stream; the connection and timing details. Pure: the controller computes the lines once
 * per (detail, tab, view mode) and the screen only slices the visible ones.
 */
import { wrapLines } from "./wrap-lines.ts";
import type { MessageSchema, SchemaFor } from "../proto-definitions.ts";
import type { CertificateDetail, ConnectionDetail, FlowDetail, FlowSummary, MessageDetail } from "../protocol.ts";
import type { HeaderField } from "../engine/flow/headers.ts";
import { DEFAULT_MAX_LINES, JoinedLines, renderContent, type Line, type LineList, type RenderOptions, type ViewName, type ViewResult } from "./contentviews/index.ts";
import { answeredThenFailed, fullTime, humanDuration, humanSize, sanitize, type Glyphs } from "./format.ts";
import { decodeUrlencoded } from "../urlencoded.ts";
import { shownReason } from "../engine/flow/reason.ts";

export type TabId = "request" | "response" | "messages" | "detail";

export interface Tab {
  id: TabId;
  title: string;
}

/** Tabs by flow type, as mitmproxy's flow view has them. */
export function tabsFor(f: FlowSummary): Tab[] {
  const req = f.interceptedAt === "request" ? "Request intercepted" : "Request";
  const resp = f.interceptedAt === "response" ? "Response intercepted" : "Response";
  switch (f.type) {
    case "http": {
      const tabs: Tab[] = [
        { id: "request", title: req },
        { id: "response", title: resp },
      ];
      if (f.messages !== undefined) tabs.push({ id: "messages", title: "WebSocket Messages" });
      tabs.push({ id: "detail", title: "Detail" });
      return tabs;
    }
    case "tcp":
      return [
        { id: "messages", title: "TCP Stream" },
        { id: "detail", title: "Detail" },
      ];
    case "udp":
      return [
        { id: "messages", title: "UDP Stream" },
        { id: "detail", title: "Detail" },
      ];
    case "dns":
      return [
        { id: "request", title: req },
        { id: "response", title: resp },
        { id: "detail", title: "Detail" },
      ];
  }
}

export interface TabContent {
  lines: LineList;
  /** The content view that rendered the body ("JSON", "Raw", …), for the mode hint. */
  viewName: string | undefined;
  /** Whether the body was cut (by size or by lines), so "f" has something to load. */
  cut: boolean;
  /** The columns the lines were wrapped at, and which line each row is part of, if they were. */
  wrapped?: { width: number; lineOfRow: Int32Array | undefined };
  /** The body shown whole is still being rendered (elsewhere); the lines are its first ones until then. */
  rendering?: true;
}

/** Whether the engine sent only part of a message's body (it cuts at the limit the console asks for). */
export function bodyCut(m: MessageDetail): boolean {
  return m.body.length + m.bodyOffset < m.bodySize;
}

/** Makes a message body's lines: through the content views here, unless the console renders large bodies elsewhere. */
export type BodyRender = (m: MessageDetail, mode: ViewName, opts: RenderOptions) => ViewResult;

const renderHere: BodyRender = (m, mode, opts) => renderContent(m.body, m.contentType, mode, opts);

export interface TabOptions {
  mode: ViewName;
  /** Lines of body to show; Infinity for everything. */
  maxLines: number;
  glyphs: Glyphs;
  /** Columns to wrap the lines at; without it they stay whole. */
  width?: number;
  /** protobuf_definitions: the message types of gRPC bodies, by request path. */
  schemaFor?: SchemaFor | undefined;
  render?: BodyRender;
}

/** Every character outside printable ASCII as an escape: header names and values can carry homoglyphs and control bytes. */
export function escapeAscii(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += `\\U${c.toString(16).padStart(8, "0")}`;
  }
  return out;
}

function headerLines(headers: readonly HeaderField[]): Line[] {
  return headers.map(([k, v]) => [
    { text: escapeAscii(k), style: "key" },
    { text: ": ", style: "punct" },
    { text: escapeAscii(v) },
  ]);
}

/** A message's trailers after its body (gRPC's grpc-status and grpc-message), as mitmproxy shows them. */
function trailerLines(m: MessageDetail): Line[] {
  return m.trailers?.length ? [[], [{ text: "Trailers", style: "heading" }], ...headerLines(m.trailers)] : [];
}

function queryOf(path: string): [string, string][] {
  const q = path.indexOf("?");
  if (q < 0) return [];
  try {
    return decodeUrlencoded(path.slice(q + 1));
  } catch {
    return [];
  }
}

function bodyLines(m: MessageDetail, o: TabOptions, emptyText: string, query: [string, string][], schema: MessageSchema | undefined): Omit<TabContent, "wrapped"> {
  if (m.missing) return { lines: [[{ text: "[content missing]", style: "dim" }]], viewName: undefined, cut: false };
  if (m.bodySize === 0 && query.length === 0) return { lines: [[{ text: emptyText, style: "dim" }]], viewName: undefined, cut: false };
  const r = (o.render ?? renderHere)(m, o.mode, {
    maxLines: o.maxLines === Infinity ? Number.MAX_SAFE_INTEGER : o.maxLines,
    query,
    schema,
  });
  const sizeNote = m.body.length < m.bodySize ? ` (showing ${humanSize(m.body.length)} of ${humanSize(m.bodySize)})` : "";
  const heading: Line = [
    { text: `${r.name}`, style: "heading" },
    { text: ` ${humanSize(m.bodySize)}${sizeNote}`, style: "dim" },
    ...(m.encoding ? [{ text: ` [${m.encoding}]`, style: m.encoding.startsWith("cannot") ? ("error" as const) : ("dim" as const) }] : []),
    ...(r.error ? [{ text: ` ${r.error}`, style: "error" as const }] : []),
    { text: ` [m:${o.mode}]`, style: "dim" },
  ];
  const cutBySize = bodyCut(m);
  const notice: Line[] = cutBySize ? [[{ text: `[body cut at ${humanSize(m.body.length)} of ${humanSize(m.bodySize)}: press f to load all]`, style: "dim" }]] : [];
  const cutByLines = r.lines.length > o.maxLines;
  // The body's lines are not copied: a body shown whole can be millions of them.
  return { lines: new JoinedLines([[heading], r.lines, notice]), viewName: r.name, cut: cutBySize || cutByLines, ...(r.pending ? { rendering: true as const } : {}) };
}

export function tabContent(tab: TabId, d: FlowDetail, o: TabOptions): TabContent {
  const content = unwrappedContent(tab, d, o);
  if (o.width === undefined) return content;
  const { rows, lineOfRow } = wrapLines(content.lines, o.width);
  return { ...content, lines: rows, wrapped: { width: o.width, lineOfRow } };
}

function unwrappedContent(tab: TabId, d: FlowDetail, o: TabOptions): TabContent {
  switch (tab) {
    case "request":
      return requestTab(d, o);
    case "response":
      return responseTab(d, o);
    case "messages":
      return messagesTab(d, o);
    case "detail":
      return { lines: detailTab(d), viewName: undefined, cut: false };
  }
}

/** A DNS message's lines: the heading styled as one, section titles as keys. */
function dnsTab(lines: string[]): TabContent {
  return {
    lines: lines.map((l, i): Line => [{ text: escapeAscii(l), style: i === 0 ? "heading" : l.endsWith(":") && !l.startsWith(" ") ? "key" : undefined }]),
    viewName: undefined,
    cut: false,
  };
}

function requestTab(d: FlowDetail, o: TabOptions): TabContent {
  if (d.dns) return dnsTab(d.dns.request);
  const r = d.request;
  if (!r) return { lines: [[{ text: "No request.", style: "dim" }]], viewName: undefined, cut: false };
  const lines: Line[] = [[{ text: `${r.method} ${escapeAscii(r.url)} ${r.httpVersion}`, style: "heading" }], ...headerLines(r.headers), []];
  const body = bodyLines(r, o, "No request content", queryOf(r.path), o.schemaFor?.(r.path, true));
  return { ...body, lines: new JoinedLines([lines, body.lines, trailerLines(r)]) };
}

function responseTab(d: FlowDetail, o: TabOptions): TabContent {
  if (d.dns?.response) return dnsTab(d.dns.response);
  const r = d.response;
  if (!r) {
    const s = d.summary;
    const lines: Line[] = [];
    if (s.error) lines.push([{ text: `Error: ${s.error}`, style: "error" }]);
    else if (s.interceptedAt === "request") lines.push([{ text: "No response yet: the request is intercepted. Press a to resume it.", style: "dim" }]);
    else if (s.live) lines.push([{ text: "Waiting for the response…", style: "dim" }]);
    // A flow made with `n` or loaded without its answer: what to do next, as mitmproxy says it (and `r` sends it).
    else lines.push([{ text: "No response. Press e and edit any aspect to add one, or r to send the request.", style: "dim" }]);
    return { lines, viewName: undefined, cut: false };
  }
  const lines: Line[] = [[{ text: `${r.httpVersion} ${r.status} ${escapeAscii(shownReason(r.status, r.reason, r.httpVersion))}`.trimEnd(), style: "heading" }], ...headerLines(r.headers), []];
  // A response that came before the flow failed (its body cut short): why it is incomplete comes
  // first, above a body that may be long or missing.
  if (d.summary.error) lines.unshift([{ text: `Error: ${d.summary.error}`, style: "error" }], []);
  const body = bodyLines(r, o, "No content", [], o.schemaFor?.(d.request?.path, false));
  return { ...body, lines: new JoinedLines([lines, body.lines, trailerLines(r)]) };
}

function messagesTab(d: FlowDetail, o: TabOptions): TabContent {
  const lines: Line[] = [];
  if (d.messages.length === 0) lines.push([{ text: "No messages.", style: "dim" }]);
  let cut = false;
  const perMessage = Math.min(o.maxLines, 64);
  for (const m of d.messages) {
    const arrow = m.fromClient ? o.glyphs.fromClient : o.glyphs.toClient;
    const r = renderContent(m.content, m.type === "text" ? "text/plain" : undefined, o.mode, { maxLines: perMessage });
    if (r.lines.length > perMessage) cut = true;
    const first = r.lines.at(0) ?? [];
    // What an addon did to the stream: a message that never reached the other side, one no peer sent.
    const tags = [m.dropped ? "[dropped]" : "", m.injected ? "[injected]" : ""].filter(Boolean).map((text) => ({ text: `${text} `, style: "dim" as const }));
    lines.push([{ text: `${arrow} `, style: m.fromClient ? "key" : "string" }, ...tags, ...first]);
    for (let k = 1; k < r.lines.length; k++) lines.push([{ text: "  " }, ...(r.lines.at(k) as Line)]);
    if (lines.length > o.maxLines) {
      cut = true;
      lines.push([{ text: `Stopped displaying messages after ${o.maxLines} lines. Press f to load all data.`, style: "dim" }]);
      break;
    }
  }
  // mitmproxy ends the stream with who closed it and why; a code other than a normal close is an error.
  const c = d.closed;
  if (c) {
    const normal = c.code === 1000 || c.code === 1001 || c.code === 1005;
    lines.push([
      { text: `${c.byClient ? o.glyphs.fromClient : o.glyphs.toClient} `, style: c.byClient ? "key" : "string" },
      { text: `Connection closed: ${c.code} ${escapeAscii(c.reason)}`.trimEnd(), style: normal ? "dim" : "error" },
    ]);
  }
  if (d.summary.interceptedAt === "message") lines.push([{ text: "The last message is intercepted: it goes on when the flow is resumed (a); X kills the connection.", style: "dim" }]);
  if (d.summary.error) lines.push([{ text: `Error: ${d.summary.error}`, style: "error" }]);
  return { lines, viewName: undefined, cut };
}

function kv(k: string, v: string | number | undefined): Line | undefined {
  if (v === undefined || v === "") return undefined;
  return [{ text: `  ${k}: `, style: "key" }, { text: escapeAscii(String(v)) }];
}

function connectionLines(title: string, c: ConnectionDetail): Line[] {
  const rows = [
    kv("Address", c.address),
    kv("TLS Version", c.tlsVersion),
    kv("Server Name Indication", c.sni),
    kv("Cipher Name", c.cipher),
    // On one line: what was offered says why a protocol was, or was not, agreed.
    kv("ALPN", c.alpnOffers.length ? `${c.alpn ?? "none"} (offered: ${c.alpnOffers.join(", ")})` : c.alpn),
  ].filter((l): l is Line => l !== undefined);
  if (rows.length === 0) return [];
  return [[{ text: title, style: "heading" }], ...rows, []];
}

/** "2026-11-26T08:00:00.000Z" as "2026-11-26 08:00:00 UTC". */
function utcTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** mitmproxy's "Server Certificate:" (or "Client Certificate:") section: the leaf that side sent, summarized. */
function certificateLines(cert: CertificateDetail | undefined, heading = "Server Certificate:"): Line[] {
  if (!cert) return [];
  const out: Line[] = [[{ text: heading, style: "heading" }]];
  if (cert.error !== undefined) {
    out.push([{ text: `  ${escapeAscii(cert.error)}`, style: "error" }], []);
    return out;
  }
  const rows = [
    kv("Type", cert.type),
    // mitmproxy's label is "SHA256 digest"; shorter, the 64 digits fit an 80-column terminal.
    kv("SHA256", cert.sha256),
    kv("Valid from", utcTime(cert.validFrom)),
    kv("Valid to", utcTime(cert.validTo)),
    kv("Serial", cert.serial),
    kv("Subject", cert.subject),
    kv("Issuer", cert.issuer),
    kv("Alt names", cert.altNames.join(", ")),
    kv("Chain", cert.chainLength > 1 ? `${cert.chainLength} certificates` : undefined),
  ];
  for (const l of rows) if (l) out.push(l);
  out.push([]);
  return out;
}

function detailTab(d: FlowDetail): Line[] {
  const s = d.summary;
  const out: Line[] = [[{ text: "Flow:", style: "heading" }]];
  for (const l of [
    kv("Id", s.id),
    kv("Type", s.type),
    kv("Started", fullTime(s.ts)),
    kv("Duration", humanDuration(s.duration)),
    kv("State", s.intercepted ? `intercepted at ${s.interceptedAt ?? "?"}` : s.live ? "live" : "finished"),
    kv("Replay", s.replay),
    kv("Modified", s.modified ? "yes" : undefined),
    kv("Marker", s.marker || undefined),
    // Only beside an error: it says the server did answer, which the rest of this tab would not.
    kv("Response", answeredThenFailed(s) ? `${s.status} ${s.reason ?? ""}`.trimEnd() : undefined),
    kv("Error", s.error),
  ]) {
    if (l) out.push(l);
  }
  // The user's own words, in their own script (mitmproxy shows them as they are): only what would
  // move the cursor or hide text is escaped, not everything past ASCII as in a peer's header.
  if (s.comment) out.push([{ text: "  Comment: ", style: "key" }, { text: sanitize(s.comment) }]);
  out.push([]);
  if (d.metadata?.length) {
    out.push([{ text: "Metadata:", style: "heading" }]);
    for (const [k, v] of d.metadata) out.push([{ text: `  ${escapeAscii(k)}: `, style: "key" }, { text: escapeAscii(v) }]);
    out.push([]);
  }
  out.push(...connectionLines("Server Connection:", d.server));
  out.push(...certificateLines(d.server.certificate));
  out.push(...connectionLines("Client Connection:", d.client));
  out.push(...certificateLines(d.client.certificate, "Client Certificate:"));
  if (d.timings.length) {
    out.push([{ text: "Timing:", style: "heading" }]);
    const sorted = [...d.timings].sort((a, b) => a.ts - b.ts);
    const t0 = sorted[0]!.ts;
    const width = Math.max(...sorted.map((t) => t.name.length));
    for (const t of sorted) {
      out.push([
        { text: `  ${t.name.padEnd(width)}  `, style: "key" },
        { text: fullTime(t.ts) },
        { text: t.ts > t0 ? `  +${humanDuration(t.ts - t0)}` : "", style: "dim" },
      ]);
    }
  }
  return out;
}

export { DEFAULT_MAX_LINES };
