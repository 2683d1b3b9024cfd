import type { Flow } from "./flow/flow.ts";
import type { HTTPFlow } from "./flow/http.ts";
import type { TCPFlow, UDPFlow } from "./flow/tcp.ts";
import type { DNSFlow } from "./flow/dns.ts";
import { flowFilter } from "./flow-filter.ts";

/**
 * The hooks at which a flow is complete, as mitmproxy's save addons take them, passing each
 * flow that `save_stream_filter` lets through to `finished`. A WebSocket's 101 counts when the
 * WebSocket ends, so the flow carries its messages.
 */
export abstract class FinishedFlows {
  /** `save_stream_filter`, compiled when it changes. */
  private filter: ((flow: Flow) => boolean) | undefined;
  /** WebSocket, TCP and UDP connections that started and have not ended. */
  private readonly open = new Set<Flow>();

  protected abstract finished(flow: Flow): void;

  protected setFilter(expr: string | undefined): void {
    this.filter = flowFilter(expr);
  }

  private take(flow: Flow): void {
    this.open.delete(flow);
    if (!this.filter || this.filter(flow)) this.finished(flow);
  }

  /**
   * Connections still open when pryx stops are taken as they are, as mitmproxy's save addon
   * does at `done`: a capture of a WebSocket app is mostly stopped while its socket is open,
   * and its messages were lost with it.
   */
  protected takeUnfinished(): void {
    for (const flow of [...this.open]) this.take(flow);
  }

  websocket_start(flow: HTTPFlow): void {
    this.open.add(flow);
  }
  tcp_start(flow: TCPFlow): void {
    this.open.add(flow);
  }
  udp_start(flow: UDPFlow): void {
    this.open.add(flow);
  }

  response(flow: HTTPFlow): void {
    if (!flow.websocket) this.take(flow);
  }
  error(flow: HTTPFlow): void {
    this.take(flow);
  }
  websocket_end(flow: HTTPFlow): void {
    this.take(flow);
  }
  tcp_end(flow: TCPFlow): void {
    this.take(flow);
  }
  tcp_error(flow: TCPFlow): void {
    this.take(flow);
  }
  udp_end(flow: UDPFlow): void {
    this.take(flow);
  }
  udp_error(flow: UDPFlow): void {
    this.take(flow);
  }
  dns_response(flow: DNSFlow): void {
    this.take(flow);
  }
  dns_error(flow: DNSFlow): void {
    this.take(flow);
  }
}
