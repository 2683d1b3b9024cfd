import { Server, formatAddress, type Address, type Client } from "../flow/connection.ts";
import { clientFacts } from "./client-facts.ts";
import type { HTTPFlow } from "../flow/http.ts";
import type { ProxyContext } from "./context.ts";
import type { UpstreamChannel } from "./channel.ts";
import { H1Upstream, UpstreamError, openServer, upstreamCredentialKey, useEagerServer } from "./upstream.ts";
import { H2Upstream } from "./h2-upstream.ts";
import { upstreamTls } from "./tls-settings.ts";

const IDLE_MS = 30_000;

function isBusy(c: UpstreamChannel): boolean {
  return (c as { busy?: boolean }).busy === true;
}

/**
 * Idle server connections left by clients that went away, for other clients to reuse
 * (`connection_reuse=shared`, the default): a browser or phone opens a new tunnel for
 * almost everything, and a TLS handshake to the server per tunnel would dominate.
 * An idle connection is closed after 30 s.
 */
export class SharedUpstreams {
  private readonly idle = new Map<string, { channel: UpstreamChannel; timer: NodeJS.Timeout }[]>();

  put(key: string, channel: UpstreamChannel): void {
    if (channel.closed || isBusy(channel)) {
      channel.close();
      return;
    }
    const list = this.idle.get(key) ?? [];
    const timer = setTimeout(() => {
      this.idle.set(key, (this.idle.get(key) ?? []).filter((e) => e.channel !== channel));
      channel.close();
    }, IDLE_MS);
    timer.unref();
    list.push({ channel, timer });
    this.idle.set(key, list);
  }

  take(key: string): UpstreamChannel | undefined {
    const list = this.idle.get(key);
    while (list?.length) {
      const e = list.pop() as { channel: UpstreamChannel; timer: NodeJS.Timeout };
      clearTimeout(e.timer);
      if (!e.channel.closed) return e.channel;
    }
    return undefined;
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const e of list) {
      clearTimeout(e.timer);
      e.channel.close();
    }
    this.idle.clear();
  }
}

/**
 * What a TLS connection to a server offers: h2 only for a client that speaks it itself (a
 * WebSocket handshake, an HTTP/1.1 upgrade, never does).
 */
export function upstreamAlpn(h2: boolean): string[] {
  return h2 ? ["h2", "http/1.1"] : ["http/1.1"];
}

/**
 * The server connections of one client connection. An idle HTTP/1.1 connection or an
 * HTTP/2 session of this client is reused first, then (in shared mode) one another client
 * left idle, else a new one is opened. `offerH2` is set when the client itself speaks
 * HTTP/2, so the server may answer in kind.
 */
export class UpstreamPool {
  private readonly channels = new Map<string, UpstreamChannel[]>();
  /** Connections being opened that may be HTTP/2, by key: flows that come meanwhile wait for them. */
  private readonly opening = new Map<string, Promise<UpstreamChannel>>();
  /**
   * Connections that carried a request with credentials: never handed to another client, since
   * NTLM and Negotiate authenticate the connection itself, and the next client would be let in
   * as this one's user (mitmproxy never shares server connections between clients).
   */
  private readonly authorized = new WeakSet<UpstreamChannel>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    private readonly offerH2: boolean,
    /** Where the client's tunnel goes (CONNECT, transparent): its requests there keep the client's SNI. */
    private readonly tunnel?: Address,
  ) {}

  /**
   * The name a TLS connection to the server sends and verifies, as mitmproxy chooses it: to the
   * tunnel's own server, the name the client's ClientHello asked for (a test of "SNI x with Host y"
   * asks the server for x); else the host pryx connects to (the CONNECT's, the reverse target's, or
   * another an addon sent the request on to), never the Host header's: a client that connects by IP
   * with another Host, and reverse mode with keep_host_header, verify the server they reach.
   */
  private serverName(req: HTTPFlow["request"]): string {
    const toTunnel = this.tunnel !== undefined && req.host === this.tunnel[0] && req.port === this.tunnel[1];
    return (toTunnel ? clientFacts(this.client).helloName : undefined) ?? req.host;
  }

  async acquire(flow: HTTPFlow, fresh = false): Promise<UpstreamChannel> {
    const channel = await this.channelFor(flow, fresh);
    if (flow.request.plainHeaders.has("authorization")) this.authorized.add(channel);
    return channel;
  }

  private async channelFor(flow: HTTPFlow, fresh: boolean): Promise<UpstreamChannel> {
    const req = flow.request;
    const useTls = req.scheme === "https" || req.scheme === "wss";
    const name = useTls ? this.serverName(req) : "";
    const address: Address = [req.host, req.port];
    const upgrading = req.plainHeaders.has("upgrade");
    const alpn = useTls ? upstreamAlpn(this.offerH2 && !upgrading) : [];
    // How the server was verified is part of the key: a connection made under -k is not reused once verification is on.
    const verify = useTls ? upstreamTls(this.ctx.options, name).key : "";
    const from = this.ctx.options.get<string | undefined>("connect_addr") ?? "";
    const key = `${this.client.proxy_mode}|${useTls ? "tls" : "tcp"}|${formatAddress(address)}|${name}|${alpn.join(",")}|${verify}|${from}|${upstreamCredentialKey(this.ctx, this.client)}`;
    const list = (this.channels.get(key) ?? []).filter((c) => !c.closed);
    this.channels.set(key, list);
    // The tunnel's early connection that failed is this request's failure, not a second attempt.
    const failed = fresh ? undefined : this.ctx.eagerServers.takeFailed(this.client, address);
    if (failed) {
      flow.server_conn = failed;
      throw new UpstreamError(failed.error ?? `cannot connect to ${formatAddress(address)}`);
    }
    // The tunnel's own server connection, opened at CONNECT (connection_strategy=eager), goes first.
    const eager = fresh ? undefined : this.ctx.eagerServers.take(this.client, address, useTls ? { name, alpn } : undefined);
    if (!fresh && !eager) {
      const idle = list.find((c) => !isBusy(c)) ?? this.fromShared(key);
      if (idle) {
        idle.take();
        flow.server_conn = idle.server;
        return idle;
      }
      // A connection on its way that may turn out HTTP/2 serves this flow too: a browser's burst of
      // streams on a new connection opened a TLS connection to the server per stream.
      const opening = this.opening.get(key);
      if (opening) {
        const channel = await opening.catch(() => undefined);
        if (this.opening.get(key) === opening) this.opening.delete(key);
        if (channel && channel.httpVersion === "HTTP/2.0" && !channel.closed) {
          flow.server_conn = channel.server;
          return channel;
        }
        return this.channelFor(flow, fresh);
      }
    }
    const server = eager?.server ?? new Server(address);
    // Only a TLS connection sends a name; a plain one showed "Server Name Indication" in the Detail tab.
    if (useTls) server.sni = name;
    flow.server_conn = server;
    this.ctx.notify(flow);
    const open = async (): Promise<UpstreamChannel> => {
      const socket = eager ? await useEagerServer(this.ctx, this.client, eager, useTls, alpn) : await openServer(this.ctx, this.client, server, useTls, alpn);
      const channel: UpstreamChannel = server.alpn === "h2" ? new H2Upstream(this.ctx, this.client, server, socket) : new H1Upstream(this.ctx, this.client, server, socket);
      channel.take();
      (this.channels.get(key) as UpstreamChannel[]).push(channel);
      return channel;
    };
    if (!alpn.includes("h2")) return open();
    const opening = open();
    this.opening.set(key, opening);
    try {
      return await opening;
    } finally {
      if (this.opening.get(key) === opening) this.opening.delete(key);
    }
  }

  private fromShared(key: string): UpstreamChannel | undefined {
    if (this.ctx.options.get<string>("connection_reuse") !== "shared") return undefined;
    const c = this.ctx.sharedUpstreams.take(key);
    if (c) (this.channels.get(key) as UpstreamChannel[]).push(c);
    return c;
  }

  forget(channel: UpstreamChannel): void {
    for (const [k, list] of this.channels) this.channels.set(k, list.filter((c) => c !== channel));
  }

  /** The client is done: idle connections go to the shared pool (or are closed), busy ones and those that carried credentials are closed. */
  release(): void {
    const share = this.ctx.options.get<string>("connection_reuse") === "shared";
    for (const [key, list] of this.channels) {
      for (const c of list) {
        if (share && !c.closed && !isBusy(c) && !this.authorized.has(c)) this.ctx.sharedUpstreams.put(key, c);
        else c.close();
      }
    }
    this.channels.clear();
  }

  closeAll(): void {
    for (const list of this.channels.values()) for (const c of list) c.close();
    this.channels.clear();
  }
}
