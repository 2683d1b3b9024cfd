import type { FlowDetail, FlowSummary, StreamEvent } from "../../protocol.ts";
import type { HookName } from "../hooks/hooks.ts";
import type { Flow } from "../flow/flow.ts";
import type { HTTPFlow } from "../flow/http.ts";
import type { StreamFlow } from "../flow/tcp.ts";
import { formatAddress } from "../flow/connection.ts";

export interface StreamEventDeps {
  /** flow_detail now: nothing is told at 0 (-q), message contents from 3. */
  level(): number;
  /** Whether dump prints the flow (dumper_filter). */
  shown(flow: Flow): boolean;
  summary(flow: Flow): FlowSummary;
  /** The detail dump prints under a flow line at this level, if any. */
  detail(flow: Flow, summary: FlowSummary): FlowDetail | undefined;
  post(event: StreamEvent): void;
}

const HOOKS = new Set<HookName>(["websocket_start", "websocket_message", "websocket_end", "tcp_message", "tcp_error", "udp_message", "udp_error"]);

/**
 * Dump's view of live connections, as mitmdump's Dumper prints them: a WebSocket's flow line
 * when its handshake is done, a line per message either way (its content from flow_detail 3),
 * how the connection closed or failed. Without it a WebSocket or a TCP tunnel printed nothing
 * until it closed, hours later for a chat or a database session.
 */
export class StreamEventsAddon {
  readonly name = "stream_events";

  constructor(private readonly deps: StreamEventDeps) {}

  /** Only while dump prints flows: otherwise the message hooks stay off the relays' fast path. */
  handles(hook: HookName): boolean {
    return HOOKS.has(hook) && this.deps.level() > 0;
  }

  websocket_start(flow: HTTPFlow): void {
    if (!this.on(flow)) return;
    const summary = this.deps.summary(flow);
    this.deps.post({ kind: "open", summary, detail: this.deps.detail(flow, summary) });
  }

  websocket_message(flow: HTTPFlow): void {
    const m = flow.websocket?.messages.at(-1);
    if (!m || !this.on(flow)) return;
    const r = flow.request;
    this.message("websocket", flow, `${r.host}:${r.port}${r.path}`, m.from_client, m.type, m.content);
  }

  websocket_end(flow: HTTPFlow): void {
    const ws = flow.websocket;
    if (!ws || !this.on(flow)) return;
    const closed = ws.close_code === undefined ? undefined : { byClient: ws.closed_by_client === true, code: ws.close_code, reason: ws.close_reason ?? "" };
    this.deps.post({ kind: "end", proto: "websocket", server: formatAddress(flow.server_conn.address), closed, error: flow.error?.msg });
  }

  tcp_message(flow: StreamFlow): void {
    this.streamMessage("tcp", flow);
  }

  udp_message(flow: StreamFlow): void {
    this.streamMessage("udp", flow);
  }

  tcp_error(flow: StreamFlow): void {
    this.streamError("tcp", flow);
  }

  udp_error(flow: StreamFlow): void {
    this.streamError("udp", flow);
  }

  private on(flow: Flow): boolean {
    return this.deps.level() > 0 && this.deps.shown(flow);
  }

  private streamMessage(proto: "tcp" | "udp", flow: StreamFlow): void {
    const m = flow.messages.at(-1);
    if (!m || !this.on(flow)) return;
    this.message(proto, flow, formatAddress(flow.server_conn.address), m.from_client, "", m.content);
  }

  private streamError(proto: "tcp" | "udp", flow: StreamFlow): void {
    if (!this.on(flow)) return;
    this.deps.post({ kind: "end", proto, server: formatAddress(flow.server_conn.address), closed: undefined, error: flow.error?.msg });
  }

  private message(proto: "websocket" | "tcp" | "udp", flow: Flow, server: string, fromClient: boolean, type: string, content: Uint8Array): void {
    // A copy: the relay goes on with the message, and an addon may still change it.
    const shown = this.deps.level() >= 3 ? Uint8Array.from(content) : undefined;
    this.deps.post({ kind: "message", proto, client: formatAddress(flow.client_conn.peername), server, fromClient, type, content: shown });
  }
}
