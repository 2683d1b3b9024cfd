import type { FlowSummary } from "../../protocol.ts";
import type { Flow } from "./flow.ts";
import type { HTTPFlow } from "./http.ts";
import type { TCPFlow } from "./tcp.ts";
import { rcodeName, type DNSFlow } from "./dns.ts";
import { SVCB_TYPE_NAMES } from "./svcb.ts";
import { formatAddress } from "./connection.ts";

const HIGH_BYTE = /[\x80-\xff]/;

/**
 * A request target as a user reads it. Targets are kept as sent, one character per byte, so a
 * raw UTF-8 path (`/日本語`, which mitmproxy accepts and so does pryx) would show as mojibake;
 * when its bytes are valid UTF-8 the list shows the text. The flow itself keeps the bytes.
 */
export function readable(target: string): string {
  if (!HIGH_BYTE.test(target)) return target;
  const text = Buffer.from(target, "latin1").toString("utf8");
  return text.includes("\ufffd") ? target : text;
}

/** The per-protocol part of a summary. */
type Specific = Pick<
  FlowSummary,
  "interceptedAt" | "method" | "scheme" | "host" | "port" | "path" | "url" | "httpVersion" | "responseVersion" | "status" | "reason" | "contentType" | "reqSize" | "respSize" | "duration" | "messages"
>;

function httpPart(f: HTTPFlow, showHost: boolean): Specific {
  const req = f.request;
  const res = f.response;
  const end = res?.timestamp_end;
  return {
    // A WebSocket flow is held at a message once its connection is open (the 101 sent on).
    interceptedAt: f.intercepted ? (f.websocket && f.live && f.websocket.messages.length ? "message" : res ? "response" : "request") : undefined,
    method: req.method,
    scheme: f.websocket ? (req.scheme === "https" ? "wss" : "ws") : req.scheme,
    host: showHost ? req.pretty_host : req.host,
    port: req.port,
    path: readable(req.path),
    url: readable(showHost ? req.pretty_url : req.url),
    httpVersion: req.http_version,
    responseVersion: res && res.http_version !== req.http_version ? res.http_version : undefined,
    status: res?.status_code,
    reason: res?.reason,
    contentType: res?.plainHeaders.get("content-type"),
    reqSize: req.raw_content?.length ?? 0,
    // No size for a body not kept (streamed, stream_large_bodies) or not read yet: the list says so (contentMissing).
    respSize: res?.raw_content?.length,
    duration: end !== undefined ? Math.max(0, end - req.timestamp_start) : undefined,
    messages: f.websocket?.messages.length,
  };
}

function streamDuration(f: TCPFlow): number | undefined {
  const last = f.messages.at(-1);
  const start = f.client_conn.timestamp_start ?? f.timestamp_created;
  return last ? Math.max(0, last.timestamp - start) : undefined;
}

function streamPart(f: TCPFlow): Specific {
  const addr = f.server_conn.address;
  let size = 0;
  for (const m of f.messages) size += m.content.length;
  return {
    interceptedAt: f.intercepted ? "message" : undefined,
    method: "",
    scheme: f.type,
    host: addr?.[0] ?? "",
    port: addr?.[1] ?? 0,
    path: "",
    url: `${f.type}://${formatAddress(addr)}`,
    httpVersion: "",
    responseVersion: undefined,
    status: undefined,
    reason: undefined,
    contentType: undefined,
    reqSize: size,
    respSize: undefined,
    // As mitmproxy's list: the last message's time less the client's connect.
    duration: streamDuration(f),
    messages: f.messages.length,
  };
}

function dnsPart(f: DNSFlow): Specific {
  const q = f.request.question;
  const res = f.response;
  return {
    interceptedAt: f.intercepted ? (res ? "response" : "request") : undefined,
    method: q ? (SVCB_TYPE_NAMES[q.type] ?? String(q.type)) : "",
    scheme: "dns",
    host: q?.name ?? "",
    port: 0,
    // The answers, which the list shows after the name (mitmproxy's "foo.test (A) = 10.1.2.3").
    path: res ? res.answerText() : "",
    url: q ? `dns://${q.name}` : "dns://",
    httpVersion: "",
    responseVersion: undefined,
    status: res ? res.rcode : undefined,
    reason: res ? rcodeName(res.rcode) : undefined,
    contentType: undefined,
    reqSize: f.request.questions.length,
    respSize: res?.answers.length,
    // From the answer's own timestamp: a summary is made again on every mark, reload or update.
    duration: res?.timestamp !== undefined ? Math.max(0, res.timestamp - f.timestamp_created) : undefined,
    messages: res?.answers.length,
  };
}

function specificPart(flow: Flow, showHost: boolean): Specific {
  return flow.type === "http" ? httpPart(flow as HTTPFlow, showHost) : flow.type === "dns" ? dnsPart(flow as DNSFlow) : streamPart(flow as TCPFlow);
}

/** A flow imported from HAR has no client address: nothing rather than ":0". */
const clientOf = (flow: Flow): string => (flow.client_conn.peername[0] ? formatAddress(flow.client_conn.peername) : "");
const serverOf = (flow: Flow): string | undefined => (flow.server_conn.address ? formatAddress(flow.server_conn.address) : undefined);

/**
 * The compact form of a flow that crosses to the UI (packed by `encodeSummaries`). Built as one
 * object literal with a fixed shape: spreads made it the engine's hottest function. (Writing
 * flows straight into a batch without this object measured no faster: the fields' own work is
 * the cost.)
 * `showHost`: mitmproxy's option, the Host header's host in the host and URL instead of the connection's.
 */
export function summarize(flow: Flow, seq: number, shown: boolean, showHost = true): FlowSummary {
  const p = specificPart(flow, showHost);
  return {
    id: flow.id,
    seq,
    type: flow.type,
    ts: flow.timestamp_created,
    method: p.method,
    scheme: p.scheme,
    host: p.host,
    port: p.port,
    path: p.path,
    url: p.url,
    httpVersion: p.httpVersion,
    responseVersion: p.responseVersion,
    status: p.status,
    reason: p.reason,
    contentType: p.contentType,
    reqSize: p.reqSize,
    respSize: p.respSize,
    duration: p.duration,
    error: flow.error?.msg,
    intercepted: flow.intercepted,
    interceptedAt: p.interceptedAt,
    marker: flow.marked,
    replay: flow.is_replay ?? undefined,
    modified: flow.modified(),
    live: flow.live,
    client: clientOf(flow),
    server: serverOf(flow),
    messages: p.messages,
    comment: flow.comment,
    shown,
  };
}
