/** HAR 1.2 export and import (what browsers' devtools and many tools read). */
import { Client, Server } from "./connection.ts";
import { HTTPFlow, Request, Response } from "./http.ts";
import type { Flow } from "./flow.ts";

interface HarNV {
  name: string;
  value: string;
}
interface HarEntry {
  startedDateTime: string;
  time: number;
  serverIPAddress?: string;
  request: { method: string; url: string; httpVersion: string; headers: HarNV[]; queryString: HarNV[]; cookies: HarNV[]; headersSize: number; bodySize: number; postData?: { mimeType: string; text: string; encoding?: string } };
  response: { status: number; statusText: string; httpVersion: string; headers: HarNV[]; cookies: HarNV[]; content: { size: number; mimeType: string; text?: string; encoding?: string }; redirectURL: string; headersSize: number; bodySize: number };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  comment?: string;
}

function text(b: Uint8Array | undefined): { text: string; encoding?: string } {
  const buf = Buffer.from(b ?? new Uint8Array(0));
  const s = buf.toString("utf8");
  // Bodies that are not valid UTF-8 go in base64, as HAR allows.
  return Buffer.from(s, "utf8").equals(buf) ? { text: s } : { text: buf.toString("base64"), encoding: "base64" };
}

const nv = (fields: Iterable<readonly [string, string]>): HarNV[] => Array.from(fields, ([name, value]) => ({ name, value }));

export function toHar(flows: Flow[]): string {
  const entries: HarEntry[] = [];
  for (const f of flows) {
    if (!(f instanceof HTTPFlow)) continue;
    const r = f.request;
    const s = f.response;
    const start = r.timestamp_start;
    const reqBody = r.content;
    const entry: HarEntry = {
      startedDateTime: new Date(start * 1000).toISOString(),
      time: s?.timestamp_end ? Math.round((s.timestamp_end - start) * 1000) : -1,
      request: {
        method: r.method,
        url: r.pretty_url,
        httpVersion: r.http_version,
        headers: nv(r.headers),
        queryString: nv(r.query),
        cookies: [],
        headersSize: -1,
        bodySize: r.raw_content?.length ?? 0,
      },
      response: {
        status: s?.status_code ?? 0,
        statusText: s?.reason ?? (f.error?.msg ?? ""),
        httpVersion: s?.http_version ?? r.http_version,
        headers: nv(s?.headers ?? []),
        cookies: [],
        content: { size: s?.content?.length ?? 0, mimeType: s?.headers.get("content-type") ?? "", ...(s ? text(s.content) : {}) },
        redirectURL: s?.headers.get("location") ?? "",
        headersSize: -1,
        bodySize: s?.raw_content?.length ?? -1,
      },
      cache: {},
      timings: {
        send: r.timestamp_end ? Math.max(0, Math.round((r.timestamp_end - start) * 1000)) : 0,
        wait: s && r.timestamp_end ? Math.max(0, Math.round((s.timestamp_start - r.timestamp_end) * 1000)) : 0,
        receive: s?.timestamp_end ? Math.max(0, Math.round((s.timestamp_end - s.timestamp_start) * 1000)) : 0,
      },
    };
    if (f.server_conn.peername) entry.serverIPAddress = f.server_conn.peername[0];
    if (reqBody && reqBody.length) entry.request.postData = { mimeType: r.headers.get("content-type") ?? "", ...text(reqBody) };
    if (f.comment) entry.comment = f.comment;
    entries.push(entry);
  }
  return JSON.stringify({ log: { version: "1.2", creator: { name: "pryx", version: "0.1.0" }, entries } }, null, 2);
}

/** Fiddler and some Windows tools start a HAR file with a UTF-8 byte order mark, which JSON.parse rejects. */
const BOM = "\ufeff";

export function isHar(textContent: string): boolean {
  return /^\ufeff?\s*\{\s*"log"\s*:/.test(textContent);
}

/**
 * Browsers write HTTP/2 entries with the pseudo-headers (`:authority`, `:path`…) among the headers: they are
 * not header fields (the URL and method carry them), and sent as fields they make a replay a 400.
 */
function plainFields(headers: HarNV[]): [string, string][] {
  return headers.filter((h) => !h.name.startsWith(":")).map((h) => [h.name, h.value]);
}

/** Chrome writes "http/2.0" (and "" for a cached entry); pryx and the wire spell it "HTTP/2.0". */
function httpVersion(v: string | undefined): string {
  const upper = (v ?? "").trim().toUpperCase();
  if (!upper) return "HTTP/1.1";
  return upper === "H2" || upper === "HTTP/2" ? "HTTP/2.0" : upper;
}

export function fromHar(json: string): HTTPFlow[] {
  const har = JSON.parse(json.startsWith(BOM) ? json.slice(1) : json) as { log?: { entries?: HarEntry[] } };
  const entries = har.log?.entries;
  if (!Array.isArray(entries)) throw new Error("not a HAR file: no log.entries");
  return entries.map((e) => {
    const start = Date.parse(e.startedDateTime) / 1000;
    const body = e.request.postData ? Buffer.from(e.request.postData.text, e.request.postData.encoding === "base64" ? "base64" : "utf8") : new Uint8Array(0);
    const req = Request.make(e.request.method, e.request.url, body, plainFields(e.request.headers));
    req.headers.delete("content-encoding");
    req.http_version = httpVersion(e.request.httpVersion);
    req.timestamp_start = start;
    req.timestamp_end = start;
    const flow = new HTTPFlow(new Client(["", 0], ["", 0], "har"), new Server([req.host, req.port]), req);
    flow.timestamp_created = start;
    if (e.response && e.response.status) {
      const c = e.response.content;
      const content = c?.text !== undefined ? Buffer.from(c.text, c.encoding === "base64" ? "base64" : "utf8") : new Uint8Array(0);
      // HAR keeps decoded content: drop the encoding header so the body is not decoded twice.
      const headers = plainFields(e.response.headers).filter(([name]) => name.toLowerCase() !== "content-encoding");
      const res = new Response({ status_code: e.response.status, reason: e.response.statusText, http_version: httpVersion(e.response.httpVersion), headers, content, timestamp_start: start });
      res.timestamp_end = e.time >= 0 ? start + e.time / 1000 : start;
      flow.response = res;
    }
    flow.comment = e.comment ?? "";
    flow.live = false;
    return flow;
  });
}
