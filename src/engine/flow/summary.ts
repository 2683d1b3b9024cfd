import type { FlowSummary } from "../../protocol.ts";
import type { Flow } from "./flow.ts";
import { formatAddress } from "./connection.ts";

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

const EMPTY = {
  method: "",
  scheme: "",
  host: "",
  port: 0,
  path: "",
  url: "",
  httpVersion: "",
  status: undefined,
  reason: undefined,
  contentType: undefined,
  reqSize: 0,
  respSize: undefined,
  duration: undefined,
};

/** The compact, cloneable form of a flow that crosses to the UI. */
export function summarize(flow: Flow, seq: number, shown: boolean): FlowSummary {
  const base = {
    id: flow.id,
    seq,
    type: flow.type,
    ts: flow.timestamp_created,
    error: flow.error?.msg,
    intercepted: flow.intercepted,
    interceptedAt: undefined as FlowSummary["interceptedAt"],
    marked: flow.marked !== "",
    isReplay: flow.is_replay !== null,
    modified: flow.modified,
    live: flow.live,
    client: formatAddress(flow.client_conn.peername),
    server: flow.server_conn.address ? formatAddress(flow.server_conn.address) : undefined,
    messages: undefined as number | undefined,
    comment: flow.comment,
    shown,
  };
  switch (flow.type) {
    case "http": {
      const f = flow as import("./http.ts").HTTPFlow;
      const req = f.request;
      const res = f.response;
      const end = res?.timestamp_end;
      return {
        ...base,
        interceptedAt: f.intercepted ? (res ? "response" : "request") : undefined,
        method: req.method,
        scheme: f.websocket ? (req.scheme === "https" ? "wss" : "ws") : req.scheme,
        host: req.pretty_host,
        port: req.port,
        path: req.path,
        url: req.pretty_url,
        httpVersion: req.http_version,
        status: res?.status_code,
        reason: res?.reason,
        contentType: res?.headers.get("content-type"),
        reqSize: req.raw_content?.length ?? 0,
        respSize: res ? (res.raw_content?.length ?? 0) : undefined,
        duration: end !== undefined ? Math.max(0, end - req.timestamp_start) : undefined,
        messages: f.websocket?.messages.length,
      };
    }
    case "tcp":
    case "udp": {
      const f = flow as import("./tcp.ts").TCPFlow;
      const addr = flow.server_conn.address;
      let size = 0;
      for (const m of f.messages) size += m.content.length;
      return { ...base, ...EMPTY, scheme: flow.type, host: addr?.[0] ?? "", port: addr?.[1] ?? 0, url: `${flow.type}://${formatAddress(addr)}`, reqSize: size, messages: f.messages.length };
    }
    case "dns": {
      const f = flow as import("./dns.ts").DNSFlow;
      const q = f.request.question;
      return {
        ...base,
        ...EMPTY,
        scheme: "dns",
        method: q ? String(q.type) : "",
        host: q?.name ?? "",
        url: q ? `dns://${q.name}` : "dns://",
        status: f.response ? f.response.rcode : undefined,
        reason: f.response ? (RCODE_NAMES[f.response.rcode] ?? `RCODE${f.response.rcode}`) : undefined,
        reqSize: f.request.questions.length,
        respSize: f.response?.answers.length,
        duration: f.response ? Math.max(0, Date.now() / 1000 - f.timestamp_created) : undefined,
        messages: f.response?.answers.length,
      };
    }
  }
}
