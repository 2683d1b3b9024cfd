import type { Options } from "./options.ts";
import type { FlowStore } from "./store.ts";
import type { HTTPFlow } from "./flow/http.ts";
import type { Flow } from "./flow/flow.ts";
import type { TCPFlow, UDPFlow } from "./flow/tcp.ts";
import type { DNSFlow } from "./flow/dns.ts";
import { compileFilter, type Filter, type FilterableFlow } from "./filter/index.ts";
import type { Log } from "./log.ts";

/**
 * Built-in addon: pauses flows that match the `intercept` filter, at the request (after
 * the `request` hooks of addons before it), at the response, at each WebSocket or TCP
 * message and at a DNS query or answer, as mitmproxy's does.
 * The connection handler then waits on the flow until the user resumes or kills it.
 */
export class InterceptAddon {
  readonly name = "intercept";
  private filter: Filter | undefined;
  private toldHeadless = false;

  /** `headless`: the log of a run with no console (pryx dump), where no key resumes what is held. */
  constructor(
    private readonly options: Options,
    private readonly store: FlowStore,
    private readonly headless?: Log,
  ) {}

  configure(updated: Set<string>): void {
    if (updated.has("intercept")) {
      const expr = this.options.get<string | undefined>("intercept");
      this.filter = expr ? compileFilter(expr) : undefined;
    }
  }

  /** Nothing to hold without a filter: relays then skip the hook chain for their messages. */
  handles(): boolean {
    // The option, not the compiled filter: that is compiled in configure, a moment after the option changes.
    return Boolean(this.options.get<string | undefined>("intercept")) && this.options.get<boolean>("intercept_active");
  }

  private maybe(flow: Flow): void {
    // A flow read from a file (`-r`) passes its hooks too, but has no connection to hold.
    if (!this.filter || !this.options.get<boolean>("intercept_active") || flow.is_replay || !flow.live) return;
    if (this.filter(flow as unknown as FilterableFlow)) {
      flow.intercept();
      this.store.update(flow);
      this.tellHeadless();
    }
  }

  /**
   * mitmdump has no intercept at all (its flows pass); in pryx dump a held flow waits for an addon,
   * so the first one says why its client hangs rather than leaving a silent stall.
   */
  private tellHeadless(): void {
    if (!this.headless || this.toldHeadless) return;
    this.toldHeadless = true;
    this.headless.warn(
      `the intercept filter ${JSON.stringify(this.options.get<string>("intercept"))} is holding a flow: pryx dump has no keys to resume it, so it waits until an addon resumes it (flow.resume() or the flow.resume command) or its client gives up; leave out -i/--intercept, or use the console (pryx), where a resumes`,
    );
  }

  request(flow: HTTPFlow): void {
    this.maybe(flow);
  }

  response(flow: HTTPFlow): void {
    this.maybe(flow);
  }

  // Messages and DNS too, as mitmproxy's: the relay holds the message until the flow is resumed.
  websocket_message(flow: HTTPFlow): void {
    this.maybe(flow);
  }

  tcp_message(flow: TCPFlow): void {
    this.maybe(flow);
  }

  udp_message(flow: UDPFlow): void {
    this.maybe(flow);
  }

  dns_request(flow: DNSFlow): void {
    this.maybe(flow);
  }

  dns_response(flow: DNSFlow): void {
    this.maybe(flow);
  }
}
