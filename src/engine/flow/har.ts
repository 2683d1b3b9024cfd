/** HAR 1.2 export and import (what browsers' devtools and many tools read). */
import { Client, Server } from "./connection.ts";
import { HTTPFlow, Request, Response } from "./http.ts";
import { FlowError, type Flow } from "./flow.ts";
import { WebSocketData, WebSocketMessage } from "./websocket.ts";
import { Headers, headerBytes } from "./headers.ts";
import { parseCookieHeader, parseSetCookie } from "../../cookies.ts";
import { decodeUrlencoded, encodeUrlencoded, isUrlencodedType } from "../../urlencoded.ts";

interface HarNV {
  name: string;
  value: string;
}
/** HAR 1.2's cookie object; the attributes only where the Set-Cookie line has them. */
interface HarCookie extends HarNV {
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
}
interface HarPostData {
  mimeType: string;
  /** HAR 1.2 has `text` or `params`; browsers write `params` alone for some forms. */
  text?: string;
  params?: HarNV[];
  encoding?: string;
}
interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: HarNV[];
  cookies: HarCookie[];
  content: { size: number; mimeType: string; text?: string; encoding?: string };
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  /** Why there is no response: Chrome's and mitmproxy's extension for a failed request. */
  _error?: string;
}
interface HarEntry {
  startedDateTime: string;
  time: number;
  serverIPAddress?: string;
  request: { method: string; url: string; httpVersion: string; headers: HarNV[]; queryString: HarNV[]; cookies: HarCookie[]; headersSize: number; bodySize: number; postData?: HarPostData };
  response: HarResponse;
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  comment?: string;
  /** Chrome's extension: a WebSocket's messages (time in seconds since the epoch; opcode 2 data in base64). */
  _webSocketMessages?: HarWebSocketMessage[];
  /** Chrome's (and mitmproxy's savehar): "websocket" lists the entry as a WebSocket, with its messages. */
  _resourceType?: string;
}
interface HarWebSocketMessage {
  type: "send" | "receive";
  time: number;
  opcode: number;
  data: string;
}

function harMessages(ws: WebSocketData): HarWebSocketMessage[] {
  return ws.messages.map((m) => ({
    type: m.from_client ? "send" : "receive",
    time: m.timestamp,
    opcode: m.type === "text" ? 1 : 2,
    data: Buffer.from(m.content).toString(m.type === "text" ? "utf8" : "base64"),
  }));
}

function messagesFromHar(list: HarWebSocketMessage[]): WebSocketData {
  const ws = new WebSocketData();
  ws.messages = list.map((m) => new WebSocketMessage(m.opcode === 1 ? "text" : "binary", m.type === "send", Buffer.from(m.data ?? "", m.opcode === 1 ? "utf8" : "base64"), m.time));
  return ws;
}

function text(b: Uint8Array | undefined): { text: string; encoding?: string } {
  const buf = Buffer.from(b ?? new Uint8Array(0));
  const s = buf.toString("utf8");
  // Bodies that are not valid UTF-8 go in base64, as HAR allows.
  return Buffer.from(s, "utf8").equals(buf) ? { text: s } : { text: buf.toString("base64"), encoding: "base64" };
}

const nv = (fields: Iterable<readonly [string, string]>): HarNV[] => Array.from(fields, ([name, value]) => ({ name, value }));

const ms = (seconds: number): number => Math.max(0, Math.round(seconds * 1000));

/** send, wait and receive are required and non-negative; a failed request waited until its error. */
function harTimings(f: HTTPFlow): HarEntry["timings"] {
  const r = f.request;
  const s = f.response;
  const sent = r.timestamp_end ?? r.timestamp_start;
  const waitedUntil = s?.timestamp_start ?? f.error?.timestamp;
  return {
    send: r.timestamp_end ? ms(r.timestamp_end - r.timestamp_start) : 0,
    wait: r.timestamp_end && waitedUntil !== undefined ? ms(waitedUntil - sent) : 0,
    receive: s?.timestamp_end ? ms(s.timestamp_end - s.timestamp_start) : 0,
  };
}

function harResponse(s: Response): HarResponse {
  return {
    status: s.status_code,
    statusText: s.reason,
    httpVersion: s.http_version,
    headers: nv(s.headers.byteFields()),
    cookies: responseCookies(s),
    content: { size: s.get_content(false)?.length ?? 0, mimeType: headerBytes(s.headers.get("content-type") ?? ""), ...text(s.get_content(false)) },
    redirectURL: headerBytes(s.headers.get("location") ?? ""),
    headersSize: -1,
    bodySize: s.raw_content?.length ?? -1,
  };
}

/** A request body, and for a form its fields as `params` too, as browsers and mitmproxy's HAR export write it. */
function postData(mimeType: string, body: Uint8Array): HarPostData {
  const data: HarPostData = { mimeType, ...text(body) };
  if (isUrlencodedType(mimeType) && data.encoding === undefined) data.params = nv(decodeUrlencoded(data.text ?? ""));
  return data;
}

/** Each Set-Cookie line as HAR's cookie object, `expires` as an ISO date (from Max-Age, counted from the response, or Expires). */
function responseCookies(s: Response): HarCookie[] {
  const out: HarCookie[] = [];
  for (const line of s.plainHeaders.getAll("set-cookie").map(headerBytes)) {
    const c = parseSetCookie(line);
    if (!c) continue;
    const cookie: HarCookie = { name: c.name, value: c.value };
    const path = c.attrs.get("path");
    const domain = c.attrs.get("domain");
    if (path) cookie.path = path;
    if (domain) cookie.domain = domain;
    const maxAge = c.attrs.get("max-age");
    const expires = maxAge !== undefined && /^-?\d+$/.test(maxAge) ? (s.timestamp_start + Number(maxAge)) * 1000 : Date.parse(c.attrs.get("expires") ?? "");
    if (!Number.isNaN(expires)) cookie.expires = new Date(expires).toISOString();
    cookie.httpOnly = c.attrs.has("httponly");
    cookie.secure = c.attrs.has("secure");
    out.push(cookie);
  }
  return out;
}

/** No response: what Chrome writes for a failed request, status 0 and the reason in `_error`. */
function failedResponse(error: FlowError | undefined): HarResponse {
  const res: HarResponse = { status: 0, statusText: "", httpVersion: "", headers: [], cookies: [], content: { size: 0, mimeType: "x-unknown" }, redirectURL: "", headersSize: -1, bodySize: -1 };
  if (error) res._error = error.msg;
  return res;
}

export function toHar(flows: Flow[]): string {
  const entries: HarEntry[] = [];
  for (const f of flows) {
    if (!(f instanceof HTTPFlow)) continue;
    const r = f.request;
    const s = f.response;
    const start = r.timestamp_start;
    const reqBody = r.get_content(false);
    const timings = harTimings(f);
    const entry: HarEntry = {
      startedDateTime: new Date(start * 1000).toISOString(),
      // HAR 1.2: the total of the timings that are not -1, so never negative.
      time: timings.send + timings.wait + timings.receive,
      request: {
        method: r.method,
        url: r.pretty_url,
        httpVersion: r.http_version,
        headers: nv(r.headers.byteFields()),
        queryString: nv(r.query),
        cookies: nv(parseCookieHeader(r.plainHeaders.getAll("cookie").map(headerBytes))),
        headersSize: -1,
        bodySize: r.raw_content?.length ?? 0,
      },
      response: s ? harResponse(s) : failedResponse(f.error),
      cache: {},
      timings,
    };
    if (f.server_conn.peername) entry.serverIPAddress = f.server_conn.peername[0];
    if (reqBody && reqBody.length) entry.request.postData = postData(headerBytes(r.plainHeaders.get("content-type") ?? ""), reqBody);
    if (f.comment) entry.comment = f.comment;
    if (f.websocket) {
      entry._resourceType = "websocket";
      entry._webSocketMessages = harMessages(f.websocket);
    }
    entries.push(entry);
  }
  // `pages`, empty as mitmproxy's: tools that read HAR 1.2 strictly expect the field.
  return JSON.stringify({ log: { version: "1.2", creator: { name: "pryx", version: "0.1.0" }, pages: [], entries } }, null, 2);
}

/** Fiddler and some Windows tools start a HAR file with a UTF-8 byte order mark, which JSON.parse rejects. */
const BOM = "\ufeff";

export function isHar(textContent: string): boolean {
  return /^\ufeff?\s*\{\s*"log"\s*:/.test(textContent);
}

/**
 * Browsers write HTTP/2 entries with the pseudo-headers (`:authority`, `:path`…) among the headers: they are
 * not header fields (the URL and method carry them), and sent as fields they make a replay a 400. Content-Encoding
 * goes too: HAR holds the decoded body, which made with its Content-Encoding would be encoded again.
 */
function plainFields(headers: HarNV[] | undefined): Headers {
  // A hand-made or trimmed HAR may leave them out: no headers, rather than a JavaScript error for the entry.
  if (headers === undefined) return new Headers();
  if (!Array.isArray(headers)) throw new Error("its headers are not a list of { name, value }");
  const fields = headers.filter((h) => typeof h?.name === "string" && !h.name.startsWith(":") && h.name.toLowerCase() !== "content-encoding");
  return Headers.fromBytes(fields.map((h) => [harBytes(h.name), harBytes(String(h.value ?? ""))]));
}

/**
 * A HAR string as header bytes. pryx writes header bytes as Latin-1 text, so text within Latin-1
 * is taken as those bytes (its own files read back the same); text beyond it, as a browser writes
 * "日本語", is its UTF-8.
 */
function harBytes(s: string): string {
  return /[^\u0000-\u00ff]/.test(s) ? headerBytes(s) : s;
}

/** Chrome writes "http/2.0" (and "" for a cached entry); pryx and the wire spell it "HTTP/2.0". */
function httpVersion(v: string | undefined): string {
  const upper = (v ?? "").trim().toUpperCase();
  if (!upper) return "HTTP/1.1";
  return upper === "H2" || upper === "HTTP/2" ? "HTTP/2.0" : upper;
}

/** A request body from HAR's postData: its text, or for a form given as `params` alone, the fields encoded. */
function bodyFromHar(data: HarPostData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  if (typeof data.text === "string") return Buffer.from(data.text, data.encoding === "base64" ? "base64" : "utf8");
  if (Array.isArray(data.params)) return Buffer.from(encodeUrlencoded(data.params.map((p): [string, string] => [String(p.name), String(p.value ?? "")])), "utf8");
  return new Uint8Array(0);
}

/** The flows of a HAR file's entries, and for each entry that cannot be one, why (its number counted from 1). */
export function fromHar(json: string): { flows: HTTPFlow[]; errors: string[] } {
  let har: { log?: { entries?: HarEntry[] } };
  try {
    har = JSON.parse(json.startsWith(BOM) ? json.slice(1) : json) as typeof har;
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message}): cut off, or not a HAR file`);
  }
  const entries = har.log?.entries;
  if (!Array.isArray(entries)) throw new Error("not a HAR file: no log.entries");
  const flows: HTTPFlow[] = [];
  const errors: string[] = [];
  entries.forEach((e, i) => {
    try {
      flows.push(flowFromEntry(e));
    } catch (err) {
      errors.push(`HAR entry ${i + 1} (${String(e?.request?.method ?? "?")} ${String(e?.request?.url ?? "?")}): ${(err as Error).message}`);
    }
  });
  return { flows, errors };
}

function flowFromEntry(e: HarEntry): HTTPFlow {
  const start = Date.parse(e.startedDateTime) / 1000;
  const body = bodyFromHar(e.request.postData);
  // plainFields leaves Content-Encoding out: HAR holds the decoded body (see there).
  const req = Request.make(e.request.method, e.request.url, body, plainFields(e.request.headers));
  req.http_version = httpVersion(e.request.httpVersion);
  req.timestamp_start = start;
  req.timestamp_end = start;
  const client = new Client(["", 0], ["", 0], "har");
  const server = new Server([req.host, req.port]);
  client.closed = server.closed = true;
  client.connected = false;
  const flow = new HTTPFlow(client, server, req);
  flow.timestamp_created = start;
  if (e.response && e.response.status) {
    const c = e.response.content;
    const content = c?.text !== undefined ? Buffer.from(c.text, c.encoding === "base64" ? "base64" : "utf8") : new Uint8Array(0);
    const headers = plainFields(e.response.headers);
    const res = new Response({ status_code: e.response.status, reason: e.response.statusText, http_version: httpVersion(e.response.httpVersion), headers, content, timestamp_start: start });
    res.timestamp_end = e.time >= 0 ? start + e.time / 1000 : start;
    flow.response = res;
  } else if (e.response?._error) {
    // A failed request (status 0): the flow failed the same way, when the entry's time ran out.
    flow.error = new FlowError(e.response._error, start + Math.max(0, e.time) / 1000);
  }
  flow.comment = e.comment ?? "";
  if (Array.isArray(e._webSocketMessages)) flow.websocket = messagesFromHar(e._webSocketMessages);
  flow.live = false;
  return flow;
}
