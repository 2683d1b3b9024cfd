/**
 * What `e` offers to edit, and how each part turns into the text the user edits and back into a
 * FlowPatch. Pure: the FlowEditor fetches the detail, these functions read and write it.
 */
import type { FlowDetail, FlowPatch, FlowSummary } from "../../protocol.ts";
import type { Row } from "./grid.ts";
import { URLENCODED_TYPE, decodeUrlencoded, encodeUrlencoded, isUrlencodedType } from "../../urlencoded.ts";
import { MULTIPART_TYPE, multipartBoundary, multipartFields, rewriteMultipart } from "../../multipart.ts";
import { escapedToBytes as headerBytes } from "../../escapes.ts";
import { formatCookieHeader, parseCookieHeader } from "../../cookies.ts";

/**
 * mitmproxy's names, in its console's order, so `e` then a digit picks what it picks in mitmproxy
 * (`e8` request-headers); pryx's own (the raw messages) after them.
 */
export const HTTP_PARTS = [
  "cookies",
  "urlencoded form",
  "multipart form",
  "path",
  "method",
  "query",
  "reason",
  "request-headers",
  "response-headers",
  "request-body",
  "response-body",
  "status_code",
  "set-cookies",
  "url",
  "comment",
  "raw request",
  "raw response",
] as const;

/** mitmproxy's names for a flow's last message, held by the intercept filter or not. */
export const MESSAGE_PARTS = ["websocket-message", "tcp-message", "udp-message"] as const;
export type MessagePart = (typeof MESSAGE_PARTS)[number];

export type EditPart = (typeof HTTP_PARTS)[number] | MessagePart;
export type ValuePart = "method" | "url" | "path" | "status_code" | "reason" | "comment";
export type GridPart = "query" | "request-headers" | "response-headers" | "urlencoded form" | "multipart form" | "cookies" | "set-cookies";
/** Bytes edited as a whole, in $EDITOR or the inline editor: a body, or a message. */
export type BodyPart = "request-body" | "response-body" | MessagePart;
/** The whole message in $EDITOR: start line, headers, a blank line, the body (mitmproxy users ask for it: #1422, #6227). */
export type RawPart = "raw request" | "raw response";

const VALUE_PARTS: ReadonlySet<string> = new Set<ValuePart>(["method", "url", "path", "status_code", "reason", "comment"]);
const GRID_PARTS: ReadonlySet<string> = new Set<GridPart>(["query", "request-headers", "response-headers", "urlencoded form", "multipart form", "cookies", "set-cookies"]);

/** The grids made from the request body, which need all of it fetched. */
export function isFormPart(p: GridPart): boolean {
  return p === "urlencoded form" || p === "multipart form";
}

export function isValuePart(p: EditPart): p is ValuePart {
  return VALUE_PARTS.has(p);
}

export function isGridPart(p: EditPart): p is GridPart {
  return GRID_PARTS.has(p);
}

export function isMessagePart(p: EditPart): p is MessagePart {
  return (MESSAGE_PARTS as readonly string[]).includes(p);
}

/** The patch that sets a body, or the message at `messageIndex`, to `content`. */
export function contentPatch(part: BodyPart, content: Uint8Array, messageIndex = 0): FlowPatch {
  if (part === "request-body") return { requestBody: content };
  if (part === "response-body") return { responseBody: content };
  return { message: { index: messageIndex, content } };
}

export function isRawPart(p: EditPart): p is RawPart {
  return p === "raw request" || p === "raw response";
}

/**
 * The message as the editor shows it: the start line, `Name: value` lines (byte strings, one
 * char per byte), a blank line, then the body as the flow view fetched it (decoded, as a body
 * edit is). Lines end in \n; both \n and \r\n are read back.
 */
export function rawText(p: RawPart, d: FlowDetail): Uint8Array {
  const m = p === "raw request" ? d.request : d.response;
  const start = p === "raw request" ? `${d.request?.method ?? "GET"} ${d.request?.path ?? "/"} ${d.request?.httpVersion ?? "HTTP/1.1"}` : `${d.response?.httpVersion ?? "HTTP/1.1"} ${d.response?.status ?? 200} ${d.response?.reason ?? "OK"}`;
  const head = [start, ...(m?.headers ?? []).map(([k, v]) => `${k}: ${v}`), "", ""].join("\n");
  return Buffer.concat([Buffer.from(head, "latin1"), m?.body ?? new Uint8Array(0)]);
}

/**
 * The edited text back to one patch of what changed. The body's Content-Length follows it (the
 * engine sets it when the body changes); a final newline the editor added is dropped when the
 * body had none, so saving untouched changes nothing.
 */
export function rawPatch(p: RawPart, edited: Uint8Array, d: FlowDetail): FlowPatch {
  const buf = Buffer.from(edited);
  const lf = buf.indexOf("\n\n");
  const crlf = buf.indexOf("\r\n\r\n");
  const [headEnd, sepLen] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : lf >= 0 ? [lf, 2] : [buf.length, 0];
  const lines = buf.toString("latin1", 0, headEnd).split(/\r?\n/);
  let body: Uint8Array = buf.subarray(Math.min(buf.length, headEnd + sepLen));
  const m = p === "raw request" ? d.request : d.response;
  const old = m?.body ?? new Uint8Array(0);
  if (body[body.length - 1] === 0x0a && old[old.length - 1] !== 0x0a) body = body.subarray(0, body.length - (body[body.length - 2] === 0x0d ? 2 : 1));
  const headers: [string, string][] = lines.slice(1).map((line, i) => {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`line ${i + 2}: expected "Name: value", got ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+/, "")];
  });
  const patch: FlowPatch = {};
  const start = lines[0] ?? "";
  if (p === "raw request") {
    const sl = /^(\S+) (\S+)(?: \S+)?$/.exec(start);
    if (!sl) throw new Error(`line 1: expected "METHOD /path HTTP/1.1", got ${JSON.stringify(start)}`);
    if (sl[1] !== d.request?.method) patch.method = sl[1] as string;
    if (sl[2] !== d.request?.path) patch.path = sl[2] as string;
  } else {
    const sl = /^\S+ (\d{3})(?: (.*))?$/.exec(start);
    if (!sl) throw new Error(`line 1: expected "HTTP/1.1 200 OK", got ${JSON.stringify(start)}`);
    if (Number(sl[1]) !== d.response?.status) patch.statusCode = Number(sl[1]);
    if ((sl[2] ?? "") !== d.response?.reason) patch.reason = sl[2] ?? "";
  }
  const sameHeaders = headers.length === (m?.headers.length ?? 0) && headers.every(([k, v], i) => m?.headers[i]?.[0] === k && m.headers[i]?.[1] === v);
  const sameBody = Buffer.from(body).equals(Buffer.from(old));
  if (p === "raw request") {
    if (!sameHeaders) patch.requestHeaders = headers;
    if (!sameBody) patch.requestBody = body;
  } else {
    if (!sameHeaders) patch.responseHeaders = headers;
    if (!sameBody) patch.responseBody = body;
  }
  return patch;
}

export function isBodyPart(p: EditPart): p is BodyPart {
  return p === "request-body" || p === "response-body";
}

/** Other spellings a user may type after `console.edit.focus`. */
const ALIASES: Record<string, EditPart> = {
  form: "urlencoded form",
  multipart: "multipart form",
  "multipart-form": "multipart form",
  multipart_form: "multipart form",
  "urlencoded-form": "urlencoded form",
  "urlencoded_form": "urlencoded form",
  status: "status_code",
  "status-code": "status_code",
  "raw-request": "raw request",
  raw_request: "raw request",
  "raw-response": "raw response",
  raw_response: "raw response",
};

export function parsePart(s: string): EditPart | undefined {
  const t = s.trim();
  return (HTTP_PARTS as readonly string[]).includes(t) || (MESSAGE_PARTS as readonly string[]).includes(t) ? (t as EditPart) : ALIASES[t];
}

/** What `e` offers, by flow type: mitmproxy's lists (a WebSocket adds its message; DNS has only a comment). */
export function partsFor(flow: FlowSummary): EditPart[] {
  // Held at a message, that message is what the user means to edit: first in the chooser, not
  // below the fold under eleven HTTP parts.
  if (flow.type === "http" && flow.messages !== undefined) return flow.interceptedAt === "message" ? ["websocket-message", ...HTTP_PARTS] : [...HTTP_PARTS, "websocket-message"];
  if (flow.type === "http") return [...HTTP_PARTS];
  if (flow.type === "tcp") return ["tcp-message", "comment"];
  if (flow.type === "udp") return ["udp-message", "comment"];
  return ["comment"];
}

/** The prompt label for a single value. */
export function valueLabel(p: ValuePart): string {
  return p === "status_code" ? "status code: " : `${p}: `;
}

/**
 * The current value the prompt starts with. A response part of a flow without a response shows
 * what the engine will create (mitmproxy's `Response.make()`: 200 OK).
 */
export function currentValue(p: ValuePart, d: FlowDetail): string {
  switch (p) {
    case "method":
      return d.request?.method ?? d.summary.method;
    case "url":
      return d.request?.url ?? d.summary.url;
    case "path":
      return d.request?.path ?? d.summary.path;
    case "status_code":
      return String(d.response?.status ?? 200);
    case "reason":
      return d.response?.reason ?? "OK";
    case "comment":
      return d.summary.comment;
  }
}

export class EditInputError extends Error {}

/** The patch for a typed value; only what the console itself can know is checked here, the engine checks the rest. */
export function valuePatch(p: ValuePart, text: string): FlowPatch {
  switch (p) {
    case "method":
      return { method: text.trim() };
    case "url":
      return { url: text.trim() };
    case "path":
      return { path: text.trim() };
    case "status_code": {
      const t = text.trim();
      if (!/^\d+$/.test(t)) throw new EditInputError(`invalid status code ${JSON.stringify(text)}: expected a number such as 200`);
      return { statusCode: Number(t) };
    }
    case "reason":
      return { reason: text };
    case "comment":
      return { comment: text };
  }
}

export function gridTitle(p: GridPart): string {
  switch (p) {
    case "query":
      return "Edit Query";
    case "request-headers":
      return "Edit Request Headers";
    case "response-headers":
      return "Edit Response Headers";
    case "urlencoded form":
      return "Edit UrlEncoded Form";
    case "multipart form":
      return "Edit Multipart Form";
    case "cookies":
      return "Edit Cookies";
    case "set-cookies":
      return "Edit SetCookies (value, then its attributes: 1; Path=/; HttpOnly)";
  }
}

/** A grid's column titles, as mitmproxy's grid editors have them: a cookie has a name where a header or field has a key. */
export function gridColumns(p: GridPart): readonly string[] {
  return p === "cookies" || p === "set-cookies" ? ["Name", "Value"] : ["Key", "Value"];
}

/** The query's fields as grid rows (see textCell). */
export function queryOf(path: string): Row[] {
  const q = path.indexOf("?");
  return q < 0 ? [] : textRows(decodeUrlencoded(path.slice(q + 1)));
}

const textRows = (fields: readonly (readonly [string, string])[]): Row[] => fields.map(([k, v]) => [textCell(k), textCell(v)]);

/**
 * A decoded query or form field as its grid cell: text as it reads, but a byte that was not
 * UTF-8 (a lone U+DC80–U+DCFF from the decoder) or a control character as \xNN, and a
 * backslash doubled, so that saving the grid untouched gives back the same bytes.
 */
export function textCell(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) out += "\\\\";
    else if (c >= 0xdc80 && c <= 0xdcff) out += `\\x${hex2(c - 0xdc00)}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex2(c)}`;
    else out += text[i];
  }
  return out;
}

/** A grid cell back to the field's text: \xNN is that byte (as a surrogate escape when not ASCII), \\ a backslash. */
export function textFromCell(cell: string): string {
  return cell.replace(/\\(\\|x[0-9a-fA-F]{2})/g, (_m, e: string) => {
    if (e === "\\") return "\\";
    const b = parseInt(e.slice(1), 16);
    return String.fromCharCode(b < 0x80 ? b : 0xdc00 + b);
  });
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/**
 * A header name or value (a byte string: one char per byte) as its grid cell, as mitmproxy's
 * grid shows its bytes columns: printable ASCII as is but a doubled backslash, every other byte
 * as \xNN, the escapes the flow view shows. Shown as Latin-1 instead, a UTF-8 value was mojibake.
 */
export function headerCell(bytes: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += bytes[i];
    else out += `\\x${hex2(c & 0xff)}`;
  }
  return out;
}

/** A file's bytes as a cell of the grid: escaped as the grid shows its fields, so that saving gives back those bytes. */
export function cellFromBytes(p: GridPart, bytes: Uint8Array): string {
  if (p === "request-headers" || p === "response-headers" || p === "cookies" || p === "set-cookies") return headerCell(Buffer.from(bytes).toString("latin1"));
  return textCell(new TextDecoder().decode(bytes));
}

const headerRows = (fields: readonly (readonly [string, string])[] | undefined): Row[] => (fields ?? []).map(([k, v]) => [headerCell(k), headerCell(v)]);

/** The rows a grid starts with. The form needs the full request body in the detail. */
export function gridRows(p: GridPart, d: FlowDetail): Row[] {
  switch (p) {
    case "request-headers":
      return headerRows(d.request?.headers);
    case "response-headers":
      return headerRows(d.response?.headers);
    case "query":
      return queryOf(d.request?.path ?? d.summary.path);
    case "urlencoded form": {
      const r = d.request;
      if (!r || !isUrlencodedType(r.contentType)) return [];
      return textRows(decodeUrlencoded(Buffer.from(r.body).toString("latin1")));
    }
    case "multipart form": {
      const r = d.request;
      const boundary = multipartBoundary(r?.contentType);
      if (!r || !boundary) return [];
      return textRows(multipartFields(r.body, boundary));
    }
    case "cookies":
      return headerRows(parseCookieHeader(valuesOf(d.request?.headers, "cookie")));
    case "set-cookies":
      return headerRows(valuesOf(d.response?.headers, "set-cookie").map(splitSetCookie));
  }
}

const valuesOf = (headers: readonly (readonly [string, string])[] | undefined, name: string): string[] => (headers ?? []).filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);

/** A Set-Cookie line as its grid row: the name, then the value with its attributes as written. */
function splitSetCookie(line: string): [string, string] {
  const eq = line.indexOf("=");
  return eq < 0 ? [line.trim(), ""] : [line.slice(0, eq).trim(), line.slice(eq + 1)];
}

/** `headers` with every `name` field replaced by `fields`, where the first of them was (or at the end). */
function replacingFields(headers: readonly (readonly [string, string])[], name: string, fields: readonly [string, string][]): [string, string][] {
  const at = headers.findIndex(([k]) => k.toLowerCase() === name);
  const kept = headers.filter(([k]) => k.toLowerCase() !== name).map(([k, v]): [string, string] => [k, v]);
  const where = at < 0 ? kept.length : headers.slice(0, at).filter(([k]) => k.toLowerCase() !== name).length;
  kept.splice(where, 0, ...fields);
  return kept;
}

/** Why a form grid starts empty although the request has a body: saving it replaces that body. */
export function formWarning(d: FlowDetail, p: GridPart = "urlencoded form"): string | undefined {
  const r = d.request;
  if (!r || r.bodySize === 0) return undefined;
  if (p === "multipart form" ? multipartBoundary(r.contentType) !== undefined : isUrlencodedType(r.contentType)) return undefined;
  return `the request body is ${r.contentType ?? "not a form"}; saving the form replaces it`;
}

const pairs = (rows: readonly Row[]): [string, string][] => rows.map((r) => [r[0] ?? "", r[1] ?? ""]);
const headerPairs = (rows: readonly Row[]): [string, string][] => pairs(rows).map(([k, v]) => [headerBytes(k), headerBytes(v)]);
const textPairs = (rows: readonly Row[]): [string, string][] => pairs(rows).map(([k, v]) => [textFromCell(k), textFromCell(v)]);

/** The grid's rows as a multipart body (see rewriteMultipart); a request that was no multipart form becomes one. */
function multipartPatch(rows: readonly Row[], d: FlowDetail): FlowPatch {
  const r = d.request;
  const { body, boundary, made } = rewriteMultipart(r?.body, multipartBoundary(r?.contentType), textPairs(rows));
  if (!made) return { requestBody: body };
  return { requestHeaders: withContentType(d, `${MULTIPART_TYPE}; boundary=${boundary}`), requestBody: body };
}

/** The request's headers with its Content-Type replaced by `type` (a body that becomes a form). */
function withContentType(d: FlowDetail, type: string): [string, string][] {
  return replacingFields(d.request?.headers ?? [], "content-type", [["content-type", type]]);
}

/** One patch for the whole grid, as mitmproxy writes a grid back when it is closed. */
export function gridPatch(p: GridPart, rows: readonly Row[], d: FlowDetail): FlowPatch {
  switch (p) {
    case "request-headers":
      return { requestHeaders: headerPairs(rows) };
    case "response-headers":
      return { responseHeaders: headerPairs(rows) };
    case "query":
      return { query: textPairs(rows) };
    case "urlencoded form": {
      const old = d.request && isUrlencodedType(d.request.contentType) ? Buffer.from(d.request.body).toString("latin1") : undefined;
      const body = new TextEncoder().encode(encodeUrlencoded(textPairs(rows), old));
      // As mitmproxy's urlencoded_form setter: the body is only a form if the request says so.
      if (isUrlencodedType(d.request?.contentType)) return { requestBody: body };
      return { requestHeaders: withContentType(d, URLENCODED_TYPE), requestBody: body };
    }
    case "multipart form":
      return multipartPatch(rows, d);
    case "cookies": {
      const cookies = headerPairs(rows);
      return { requestHeaders: replacingFields(d.request?.headers ?? [], "cookie", cookies.length ? [["Cookie", formatCookieHeader(cookies)]] : []) };
    }
    case "set-cookies":
      return { responseHeaders: replacingFields(d.response?.headers ?? [], "set-cookie", headerPairs(rows).map(([k, v]): [string, string] => ["Set-Cookie", `${k}=${v}`])) };
  }
}

/** A file name extension for the editor, so it can highlight the body. */
export function extensionFor(contentType: string | undefined): string {
  const t = (contentType ?? "").toLowerCase();
  if (t.includes("json")) return ".json";
  if (t.includes("html")) return ".html";
  if (t.includes("xml")) return ".xml";
  if (t.includes("css")) return ".css";
  if (t.includes("javascript") || t.includes("ecmascript")) return ".js";
  if (t.includes("yaml")) return ".yaml";
  return ".txt";
}
