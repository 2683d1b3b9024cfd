/**
 * Text formatting for rows and headers: sizes, durations, times, fitting text into columns, and the
 * flow list's columns for a given width. Pure, so layouts at 80 and 100 columns are unit-tested.
 */
import stringWidth from "string-width";
import type { FlowSummary } from "../protocol.ts";
import { markerGlyph } from "../markers.ts";
import { cutEnd, cutStart } from "../ellipsis.ts";

/** Glyphs, with ASCII stand-ins for terminals without UTF-8 (mitmproxy falls back the same way). */
export interface Glyphs {
  ellipsis: string;
  mark: string;
  /** Whether a marker named after an emoji is drawn as it (else as `mark`). */
  emoji: boolean;
  replay: string;
  intercept: string;
  modified: string;
  fromClient: string;
  toClient: string;
  up: string;
  down: string;
  /** The lines between a split layout's panes. */
  ruleH: string;
  ruleV: string;
  /** The Enter key in hints ("⏎ edit"). */
  enter: string;
  /** Ink's border for boxes (choosers). */
  box: "single" | "classic";
}

export const UNICODE_GLYPHS: Glyphs = {
  ellipsis: "…",
  mark: "●",
  emoji: true,
  replay: "↺",
  intercept: "!",
  modified: "*",
  fromClient: "⇒",
  toClient: "⇐",
  up: "⇧",
  down: "⇩",
  ruleH: "─",
  ruleV: "│",
  enter: "⏎",
  box: "single",
};

export const ASCII_GLYPHS: Glyphs = {
  ellipsis: "~",
  mark: "#",
  emoji: false,
  replay: "r",
  intercept: "!",
  modified: "*",
  fromClient: "->",
  toClient: "<-",
  up: "^",
  down: "v",
  ruleH: "-",
  ruleV: "|",
  enter: "enter",
  box: "classic",
};

/** Whether the locale says the terminal takes UTF-8 (the usual LC_ALL > LC_CTYPE > LANG order). */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  const v = env["LC_ALL"] || env["LC_CTYPE"] || env["LANG"] || "";
  // No locale at all is common in containers and over SSH with UTF-8 terminals; prefer Unicode then.
  if (v === "") return true;
  return /utf-?8/i.test(v);
}

export function humanSize(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1024) return `${n}b`;
  const units = ["k", "m", "g", "t"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  // As mitmproxy's pretty_size: a decimal below 100, so 12.2m is not rounded to 12m; five characters at most.
  return `${v < 99.95 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

/** Seconds to a short duration: 35ms, 1.2s, 2m03s. */
export function humanDuration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s) || s < 0) return "";
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  if (m < 60) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Epoch seconds to local HH:MM:SS. */
export function clockTime(ts: number): string {
  const d = new Date(ts * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Epoch seconds to local date and time with milliseconds, for the detail view. */
export function fullTime(ts: number): string {
  const d = new Date(ts * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * Control characters and other invisible code points as escapes: a header or URL can hold anything,
 * and raw control bytes would move the cursor and corrupt the screen.
 */
export function sanitize(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/** Text that is one column per UTF-16 unit: Latin, before the combining marks at U+0300. */
const ONE_COLUMN_EACH = /^[\x00-\u02ff]*$/;

/**
 * The columns a terminal gives `s`: a CJK path takes two a character (counting it by length
 * pushed the row's last column off the screen). Summed a code point at a time, as rows are cut
 * (`fitColumns`) and as tmux and many terminals draw them: an emoji sequence (a ZWJ family, a
 * skin tone) is one glyph to string-width but each of its parts to tmux, and measured whole a
 * line of them "fit" and overflowed the screen. A terminal that joins them draws less, never more.
 */
export function columns(s: string): number {
  if (ONE_COLUMN_EACH.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    n += columnsOf(cp);
  }
  return n;
}

/** Columns of single code points seen, as string-width gives them (it costs microseconds a call). */
const codePointColumns = new Map<number, number>();

function columnsOf(cp: number): number {
  let w = codePointColumns.get(cp);
  if (w === undefined) {
    if (codePointColumns.size >= 65_536) codePointColumns.clear();
    w = cp < 0x300 ? 1 : stringWidth(String.fromCodePoint(cp));
    codePointColumns.set(cp, w);
  }
  return w;
}

/** The index after the longest run of whole code points from `at` that fits in `w` columns. */
export function fitColumns(s: string, at: number, w: number): number {
  let used = 0;
  let end = at;
  while (end < s.length) {
    const cp = s.codePointAt(end)!;
    const size = cp > 0xffff ? 2 : 1;
    used += columnsOf(cp);
    if (used > w) break;
    end += size;
  }
  return end;
}

/** The longest start of `s` (whole code points) that fits in `w` columns. */
function headColumns(s: string, w: number): string {
  return s.slice(0, ONE_COLUMN_EACH.test(s) ? w : fitColumns(s, 0, w));
}

/** The longest end of `s` (whole code points) that fits in `w` columns. */
function tailColumns(s: string, w: number): string {
  if (ONE_COLUMN_EACH.test(s)) return s.slice(Math.max(0, s.length - w));
  const chars = [...s];
  let used = 0;
  let start = chars.length;
  while (start > 0) {
    const c = columnsOf(chars[start - 1]!.codePointAt(0)!);
    if (used + c > w) break;
    used += c;
    start--;
  }
  return chars.slice(start).join("");
}

/** An escape the console writes for a character it will not print: `\xNN`, `\uNNNN`, `\UNNNNNNNN`. */
const ESCAPE = /\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/y;
const LONGEST_ESCAPE = 10;

/** `end`, or where the escape it falls inside starts: `\x` on one row and `ff` on the next reads as neither. */
function escapeBoundary(line: string, at: number, end: number): number {
  for (let i = end - 1; i > at && i > end - LONGEST_ESCAPE; i--) {
    if (line[i] !== "\\") continue;
    ESCAPE.lastIndex = i;
    if (ESCAPE.test(line) && ESCAPE.lastIndex > end) return i;
  }
  return end;
}

/**
 * Where `line` breaks into rows of at most `first` columns, then `rest`, as [start, end) indexes:
 * after the last space that fits, so words stay whole (an event's host name, a header's value
 * are what the reader looks for); a word that would leave its row less than half full is cut at
 * the row's last column instead, or before an escape that column falls in. The space a row ends
 * at belongs to no row.
 */
export function wrapRanges(line: string, first: number, rest: number): [number, number][] {
  const rows: [number, number][] = [];
  // One test for the whole line: a 1 MiB body line is cut by arithmetic, not measured row by row.
  const narrow = ONE_COLUMN_EACH.test(line);
  let at = 0;
  let room = Math.max(1, first);
  for (;;) {
    let end = narrow ? Math.min(line.length, at + room) : fitColumns(line, at, room);
    if (end >= line.length) {
      if (at < line.length || rows.length === 0) rows.push([at, line.length]);
      return rows;
    }
    // A character wider than the whole row still takes one.
    if (end === at) end = at + (line.codePointAt(at)! > 0xffff ? 2 : 1);
    // A row that ends right before a space ends a word too. A word longer than half a row (a
    // URL after its method) is cut instead, so no row is left mostly empty.
    let space = end;
    while (space > at && line[space] !== " ") space--;
    if (space > at && (space - at) * 2 >= end - at) {
      let stop = space;
      while (stop > at && line[stop - 1] === " ") stop--;
      rows.push([at, stop]);
      at = space + 1;
    } else {
      const cut = escapeBoundary(line, at, end);
      rows.push([at, cut]);
      at = cut;
    }
    room = Math.max(1, rest);
  }
}

/** `line` as the rows `wrapRanges` cuts it into. */
export function wrapColumns(line: string, first: number, rest: number): string[] {
  return wrapRanges(line, first, rest).map(([a, b]) => line.slice(a, b));
}

export function truncEnd(s: string, w: number, ellipsis = "…"): string {
  if (w <= 0) return "";
  if (columns(s) <= w) return s;
  if (w <= ellipsis.length) return headColumns(s, w);
  return cutEnd(headColumns(s, w - ellipsis.length), ellipsis);
}

export function truncStart(s: string, w: number, ellipsis = "…"): string {
  if (w <= 0) return "";
  if (columns(s) <= w) return s;
  if (w <= ellipsis.length) return tailColumns(s, w);
  return cutStart(tailColumns(s, w - ellipsis.length), ellipsis);
}

/** `s` cut or filled with spaces to exactly `w` columns. */
export function padEnd(s: string, w: number, ellipsis = "…"): string {
  const c = columns(s);
  if (c <= w) return s + " ".repeat(w - c);
  const t = truncEnd(s, w, ellipsis);
  return t + " ".repeat(Math.max(0, w - columns(t)));
}

export function padStart(s: string, w: number, ellipsis = "…"): string {
  const c = columns(s);
  if (c <= w) return " ".repeat(w - c) + s;
  const t = truncEnd(s, w, ellipsis);
  return " ".repeat(Math.max(0, w - columns(t))) + t;
}

/**
 * Host and path in `w` columns. The path's end is cut first; a long host loses its start
 * (the registrable domain sits at its end), as mitmproxy's list does.
 */
export function fitUrl(host: string, path: string, w: number, ellipsis = "…"): string {
  if (w <= 0) return "";
  const hostCols = columns(host);
  const pathCols = columns(path);
  if (hostCols + pathCols <= w) return host + path;
  // A host that leaves the path a fair share stays whole; only a very long one is cut, and then
  // only as far as the path needs: a short path leaves its unused room to the host. The host keeps
  // up to 12 columns of its end, but not the path's 8 (half of a narrower column): the URL stays
  // within its column and the path is not pushed off it.
  const pathShare = Math.min(8, Math.ceil(w / 2));
  const hostMax = hostCols <= w * 0.6 ? hostCols : Math.max(Math.min(hostCols, 12, w - pathShare), Math.floor(w * 0.4), w - pathCols);
  const h = truncStart(host, Math.min(hostCols, hostMax), ellipsis);
  return h + truncEnd(path, w - columns(h), ellipsis);
}

/**
 * A stream's two endpoints, `client <-> server`, fitted to `w` columns: each side is cut from its
 * start, so both keep their ports (which tell connections apart), and a short side leaves its
 * unused room to the other. fitUrl, made for a host and a path, cut the server's end away.
 */
export function fitEndpoints(client: string, server: string, w: number, ellipsis = "…"): string {
  const arrow = " <-> ";
  if (columns(client) + arrow.length + columns(server) <= w) return client + arrow + server;
  const room = w - arrow.length;
  if (room < 2) return truncStart(server, w, ellipsis);
  const half = Math.floor(room / 2);
  const clientCols = Math.min(columns(client), Math.max(half, room - columns(server)));
  return truncStart(client, clientCols, ellipsis) + arrow + truncStart(server, room - clientCols, ellipsis);
}

/** `parts` made safe to draw, `scheme` put before the host. */
function sanitizedParts(parts: UrlParts, scheme = ""): UrlParts {
  return { host: sanitize(scheme + parts.host), path: sanitize(parts.path), ...(parts.server !== undefined ? { server: sanitize(parts.server) } : {}) };
}

/** The URL column's text for a flow's urlParts, fitted to `w` columns. */
export function fitRowUrl(parts: UrlParts, w: number, ellipsis = "…"): string {
  return parts.server !== undefined ? fitEndpoints(parts.host, parts.server, w, ellipsis) : fitUrl(parts.host, parts.path, w, ellipsis);
}

export function shortContentType(ct: string | undefined): string {
  if (!ct) return "";
  const semi = ct.indexOf(";");
  return (semi >= 0 ? ct.slice(0, semi) : ct).trim();
}

export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx" | "err" | "pending";

/** A DNS rcode's HTTP equivalent, which mitmproxy colours it by (NOERROR 200, NXDOMAIN 404, SERVFAIL 500…). */
const RCODE_AS_HTTP: Record<number, number> = { 0: 200, 1: 400, 2: 500, 3: 404, 4: 501, 5: 403 };

/** The status class a row is coloured by; a DNS flow's rcode counts as its HTTP equivalent. */
export function statusClass(f: Pick<FlowSummary, "status" | "error"> & { type?: FlowSummary["type"] }): StatusClass {
  return f.error ? "err" : codeClass(f);
}

/** The class of the answer's code alone, error or not: an answer that came before the flow failed keeps its colour. */
export function codeClass(f: Pick<FlowSummary, "status"> & { type?: FlowSummary["type"] }): StatusClass {
  if (f.status === undefined) return "pending";
  const s = f.type === "dns" ? (RCODE_AS_HTTP[f.status] ?? 500) : f.status;
  if (s < 200) return "1xx";
  if (s < 300) return "2xx";
  if (s < 400) return "3xx";
  if (s < 500) return "4xx";
  return "5xx";
}

/**
 * A finished response whose body was not kept (streamed past stream_large_bodies): the list says
 * so where the content type goes, as mitmproxy's does, rather than show a size of 0.
 */
export function contentMissing(f: Pick<FlowSummary, "type" | "live" | "status" | "respSize" | "error">): boolean {
  return f.type === "http" && !f.live && f.status !== undefined && f.respSize === undefined && !f.error;
}

/** What a content type column says of a body not kept, by the column's width. */
const MISSING_LABEL = ["[content missing]", "[missing]"];

/**
 * An HTTP flow that failed after its response came (the body cut short by the server, the client
 * gone mid-download): its rows show the status as well as the error, or a server that answered
 * would look like one that never did.
 */
export function answeredThenFailed(f: Pick<FlowSummary, "type" | "status" | "error">): boolean {
  return f.type === "http" && f.status !== undefined && !!f.error;
}

/** The bytes a row shows: the response body for HTTP, all messages for a stream, none for DNS (its sizes count questions and answers). */
export function rowSize(f: FlowSummary): number | undefined {
  return f.type === "http" ? f.respSize : f.type === "dns" ? undefined : f.reqSize + (f.respSize ?? 0);
}

export const STATUS_COLORS: Record<StatusClass, string | undefined> = {
  "1xx": "cyan",
  "2xx": "green",
  "3xx": "cyan",
  "4xx": "yellow",
  "5xx": "red",
  err: "red",
  pending: undefined,
};

export const METHOD_COLORS: Record<string, string> = {
  GET: "green",
  POST: "yellow",
  PUT: "magenta",
  PATCH: "magenta",
  DELETE: "red",
  HEAD: "cyan",
  OPTIONS: "blue",
  CONNECT: "blue",
};

/** Which columns the flow list shows at a width, and how wide each is. */
export interface RowLayout {
  width: number;
  time: boolean;
  scheme: number;
  method: number;
  url: number;
  status: number;
  ctype: number;
  size: number;
  duration: number;
}

/**
 * The columns for a terminal width. Narrow terminals drop the least useful columns first
 * (time, content type, scheme, duration) so the URL keeps at least a third of the row.
 */
export function rowLayout(width: number): RowLayout {
  const w = Math.max(20, width);
  const l: RowLayout = { width: w, time: w >= 90, scheme: 5, method: w >= 100 ? 6 : 4, url: 0, status: 3, ctype: 0, size: 5, duration: 5 };
  if (w >= 70) l.ctype = w >= 140 ? 24 : w >= 110 ? 16 : w >= 100 ? 12 : 10;
  if (w < 56) {
    l.scheme = 0;
    l.duration = 0;
  }
  // focus marker (2) and flags (3) plus one space after each present column.
  const fixed =
    2 +
    (l.time ? 9 : 0) +
    4 +
    (l.scheme ? l.scheme + 1 : 0) +
    l.method +
    1 +
    1 +
    l.status +
    (l.ctype ? l.ctype + 1 : 0) +
    1 +
    l.size +
    (l.duration ? l.duration + 1 : 0);
  l.url = Math.max(8, w - fixed);
  return l;
}

export interface Cell {
  text: string;
  color?: string | undefined;
  bold?: boolean;
  dim?: boolean;
}

export function schemeLabel(f: FlowSummary): string {
  switch (f.type) {
    case "tcp":
      return "TCP";
    case "udp":
      return "UDP";
    case "dns":
      return "DNS";
    case "http": {
      const tls = f.scheme === "https" || f.scheme === "wss";
      if (f.messages !== undefined) return tls ? "WSS" : "WS";
      return tls ? "HTTPS" : "HTTP";
    }
  }
}

function defaultPort(scheme: string): number {
  return scheme === "https" || scheme === "wss" ? 443 : 80;
}

/** What the URL column shows: host and path; for a stream, `host` is the client and `server` the other end. */
export interface UrlParts {
  host: string;
  path: string;
  server?: string;
}

/** What the URL column shows for a flow: host and path for HTTP, the endpoints for streams. */
export function urlParts(f: FlowSummary): UrlParts {
  if (f.type === "tcp" || f.type === "udp") {
    const server = f.server ?? f.host;
    return { host: f.client, path: ` <-> ${server}`, server };
  }
  // A DNS flow's answers, "?" for none, once it has its answer.
  if (f.type === "dns") return { host: f.host, path: f.status === undefined ? "" : ` = ${f.path || "?"}` };
  // The URL's own authority, so the list names what dump prints and ~u matches: with a Host
  // header, its host and port (or none: the scheme's default), not the connection's port.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(f.url)?.[1];
  if (authority) return { host: authority, path: f.path };
  const host = f.port && f.port !== defaultPort(f.scheme) ? `${f.host}:${f.port}` : f.host;
  return { host, path: f.path };
}

/**
 * mitmproxy's `console_flowlist_layout`: "list" draws each flow on two lines (the request, then
 * the answer), "table" on one; "default" is list below 100 columns, as mitmproxy's.
 */
export function flowRowLines(layout: string | undefined, width: number): 1 | 2 {
  return layout === "list" || (layout === "default" && width < 100) ? 2 : 1;
}

/** HTTP/1.0 or 1.1: the versions the list and dump's lines leave unnamed, as mitmproxy's do. */
export const isHttp1 = (version: string): boolean => version === "HTTP/1.1" || version === "HTTP/1.0";

/**
 * A flow's two lines in the list layout, as mitmproxy's LIST rows: the focus mark, flags,
 * method and the whole URL (its HTTP version when not 1.x) first; then, under it, `←` and the
 * status, content type, size and duration, or the error.
 */
export function flowListCells(f: FlowSummary, focused: boolean, width: number, g: Glyphs): [Cell[], Cell[]] {
  const method = f.type === "http" ? f.method : f.type === "dns" ? f.method || "DNS" : schemeLabel(f);
  const parts = urlParts(f);
  const scheme = f.type === "http" ? `${f.scheme}://` : "";
  const version = f.type === "http" && f.httpVersion && !isHttp1(f.httpVersion) ? ` ${f.httpVersion}` : "";
  const room = Math.max(8, width - 2 - 4 - columns(method) - 1 - columns(version));
  const first: Cell[] = [
    focusCell(focused),
    flagsCell(f, g),
    { text: sanitize(method) + " ", color: METHOD_COLORS[method], bold: true },
    { text: fitRowUrl(sanitizedParts(parts, scheme), room, g.ellipsis), ...urlStyle(f) },
    { text: version, dim: true },
  ];
  const cls = statusClass(f);
  const second: Cell[] = [{ text: `      ${g.toClient} ` }];
  if (answeredThenFailed(f)) {
    second.push({ text: `${f.status} `, color: STATUS_COLORS[codeClass(f)], bold: true });
    second.push({ text: `error: ${sanitize(f.error ?? "")}`, color: STATUS_COLORS.err, bold: true });
  } else if (f.error) second.push({ text: sanitize(f.error), color: STATUS_COLORS.err, bold: true });
  else if (f.intercepted) second.push({ text: "intercepted", color: "yellow", bold: true });
  else if (f.status !== undefined || f.type !== "http") {
    if (f.status !== undefined && f.type !== "dns") second.push({ text: `${f.status} `, color: STATUS_COLORS[cls], bold: true });
    if (f.type === "dns") second.push({ text: `${f.reason ?? ""} `, color: STATUS_COLORS[cls] });
    else if (contentMissing(f)) second.push({ text: "[content missing] ", dim: true });
    else if (f.contentType) second.push({ text: `${sanitize(shortContentType(f.contentType))} `, dim: true });
    if (!contentMissing(f)) second.push({ text: `${humanSize(rowSize(f))} ` });
    second.push({ text: humanDuration(f.duration), dim: true });
  }
  return [first, second];
}

/** A row's first cell: the focus mark. */
function focusCell(focused: boolean): Cell {
  return { text: focused ? ">>" : "  ", bold: true, color: focused ? "cyan" : undefined };
}

/** Intercepted, marked, replayed or modified, in three columns. */
function flagsCell(f: FlowSummary, g: Glyphs): Cell {
  const mark = markerGlyph(f.marker, g.mark, g.emoji) || " ";
  // An emoji is two cells wide: it takes the space after the flags, so the columns stay put.
  const after = mark.length > 1 && stringWidth(mark) > 1 ? "" : " ";
  const flags = (f.intercepted ? g.intercept : " ") + mark + (f.replay ? g.replay : f.modified ? g.modified : " ");
  return { text: flags + after, color: f.intercepted ? "yellow" : f.marker !== "" ? "red" : undefined, bold: f.intercepted };
}

/** A paused flow's URL stands out; one still waiting for its answer is dimmed. */
function urlStyle(f: FlowSummary): Pick<Cell, "bold" | "dim"> {
  return { bold: f.intercepted, dim: f.live && !f.intercepted && f.status === undefined && !f.error };
}

/** The cells of one flow row; the row component only paints them. */
export function flowRowCells(f: FlowSummary, focused: boolean, l: RowLayout, g: Glyphs): Cell[] {
  const cells: Cell[] = [focusCell(focused)];
  if (l.time) cells.push({ text: clockTime(f.ts) + " ", color: f.intercepted ? "yellow" : undefined, bold: f.intercepted });
  cells.push(flagsCell(f, g));
  if (l.scheme) cells.push({ text: padEnd(schemeLabel(f), l.scheme, "") + " ", color: "blue" });
  // A narrow list has no scheme column, and a TCP or UDP row has no method: its type takes the
  // method's place then (as DNS's does), or the row would not say what it is.
  const typeAsMethod = !l.scheme && (f.type === "tcp" || f.type === "udp");
  const method = typeAsMethod ? schemeLabel(f) : f.type === "http" ? f.method : f.type === "dns" ? f.method || "DNS" : "";
  cells.push({ text: padEnd(sanitize(method), l.method, "") + " ", color: typeAsMethod ? "blue" : METHOD_COLORS[method], bold: true });
  const url = fitRowUrl(sanitizedParts(urlParts(f)), l.url, g.ellipsis);
  cells.push({ text: padEnd(url, l.url, "") + " ", ...urlStyle(f) });
  const dns = f.type === "dns";
  // An answer that came before the error keeps its code where there is a column left to name the
  // error in; a narrow row without one says "err", the more pressing of the two.
  const answered = answeredThenFailed(f) && l.ctype > 0;
  const cls = answered ? codeClass(f) : statusClass(f);
  // A DNS flow's rcode goes by name (NOERROR) where the content type goes: a number there read as an HTTP status.
  const status = cls === "err" ? "err" : f.status === undefined || dns ? "" : String(f.status);
  cells.push({ text: padStart(status, l.status, "") + " ", color: STATUS_COLORS[cls], bold: cls === "err" });
  // "application/" says little and costs most of a narrow column.
  const ctype = shortContentType(f.contentType).replace(/^application\//, "");
  // A paused flow says so where the content type goes, as plainly as mitmproxy's highlighted row.
  if (l.ctype && f.intercepted) cells.push({ text: padEnd("intercepted", l.ctype, g.ellipsis) + " ", color: "yellow", bold: true });
  // A flow that failed before any answer says why where the answer's type goes, as mitmproxy's row names its error.
  else if (l.ctype && f.error && (dns || f.status === undefined)) cells.push({ text: padEnd(sanitize(f.error), l.ctype, g.ellipsis) + " ", color: STATUS_COLORS[cls] });
  // After a code, the error needs its own marker: without colour the column would read as a content type.
  else if (answered) cells.push({ text: padEnd(`err: ${sanitize(f.error ?? "")}`, l.ctype, g.ellipsis) + " ", color: STATUS_COLORS.err, bold: true });
  else if (l.ctype && dns) cells.push({ text: padEnd(f.reason ?? "", l.ctype, g.ellipsis) + " ", color: STATUS_COLORS[cls] });
  else if (l.ctype) cells.push({ text: padEnd(contentMissing(f) ? MISSING_LABEL.find((m) => m.length <= l.ctype) ?? "" : sanitize(ctype), l.ctype, g.ellipsis) + " ", dim: true });
  const size = rowSize(f);
  cells.push({ text: padStart(humanSize(size), l.size, "") + (l.duration ? " " : "") });
  if (l.duration) cells.push({ text: padStart(humanDuration(f.duration), l.duration, ""), dim: true });
  return cells;
}
