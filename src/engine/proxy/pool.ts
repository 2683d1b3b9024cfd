import { Server, formatAddress, type Address, type Client } from "../flow/connection.ts";
import type { HTTPFlow } from "../flow/http.ts";
import type { ProxyContext } from "./context.ts";
import type { UpstreamChannel } from "./channel.ts";
import { H1Upstream, openServer } from "./upstream.ts";
import { H2Upstream } from "./h2-upstream.ts";

/**
 * The server connections of one client connection, keyed by address and TLS. An idle
 * HTTP/1.1 connection or an HTTP/2 session is reused; otherwise a new one is opened.
 * `offerH2` is set when the client itself speaks HTTP/2, so the server may answer in kind.
 */
export class UpstreamPool {
  private readonly channels = new Map<string, UpstreamChannel[]>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    private readonly offerH2: boolean,
  ) {}

  async acquire(flow: HTTPFlow, fresh = false): Promise<UpstreamChannel> {
    const req = flow.request;
    const useTls = req.scheme === "https" || req.scheme === "wss";
    const address: Address = [req.host, req.port];
    const key = `${formatAddress(address)}|${useTls ? "tls" : "tcp"}`;
    const list = this.channels.get(key) ?? [];
    this.channels.set(key, list.filter((c) => !c.closed));
    if (!fresh) {
      const idle = (this.channels.get(key) ?? []).find((c) => !c.closed && !(c as { busy?: boolean }).busy);
      if (idle) {
        flow.server_conn = idle.server;
        return idle;
      }
    }
    const server = new Server(address);
    server.sni = req.pretty_host;
    flow.server_conn = server;
    this.ctx.notify(flow);
    // A WebSocket handshake is an HTTP/1.1 upgrade, so such a request never offers h2.
    const alpn = useTls ? (this.offerH2 && !req.headers.has("upgrade") ? ["h2", "http/1.1"] : ["http/1.1"]) : [];
    const socket = await openServer(this.ctx, this.client, server, useTls, alpn);
    const channel: UpstreamChannel = server.alpn === "h2" ? new H2Upstream(this.ctx, this.client, server, socket) : new H1Upstream(this.ctx, this.client, server, socket);
    (this.channels.get(key) as UpstreamChannel[]).push(channel);
    return channel;
  }

  forget(channel: UpstreamChannel): void {
    for (const [k, list] of this.channels) this.channels.set(k, list.filter((c) => c !== channel));
  }

  closeAll(): void {
    for (const list of this.channels.values()) for (const c of list) c.close();
    this.channels.clear();
  }
}
