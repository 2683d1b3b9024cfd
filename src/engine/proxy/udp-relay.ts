import dgram from "node:dgram";
import net from "node:net";
import { Client, Server, ServerConnectionHookData, formatAddress, type Address } from "../flow/connection.ts";
import { FlowError, FlowKilled, KILLED_MESSAGE } from "../flow/flow.ts";
import { UDPFlow, UDPMessage } from "../flow/tcp.ts";
import type { ProxyContext } from "./context.ts";
import { waitIfIntercepted } from "./paused.ts";
import { clientDisconnected } from "./client-gone.ts";
import { connectFailed, serverConnectHook } from "./upstream.ts";
import { now } from "../flow/now.ts";

/**
 * A reverse:udp listener, as mitmproxy's: UDP has no connections, so each client address is one
 * flow (a UDPFlow) with its own socket to the target, until no datagram has passed either way
 * for udp_timeout seconds. Datagrams pass udp_message (and the intercept filter) one at a time
 * in arrival order, as TCP chunks do.
 */
export class UdpRelay {
  private socket: dgram.Socket | undefined;
  private readonly sessions = new Map<string, UdpSession>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly target: Address,
    private readonly mode: string,
  ) {}

  /** UDP flows open now (for proxyserver.active_connections). */
  get flowCount(): number {
    return this.sessions.size;
  }

  async listen(host: string, port: number): Promise<string> {
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    this.socket = sock;
    await new Promise<void>((resolve, reject) => {
      sock.once("error", (err) => reject(new Error(`cannot listen for UDP on ${host}:${port}: ${err.message}`)));
      sock.bind(port, host, () => resolve());
    });
    // A send to a client that went away is that client's problem, not the listener's.
    sock.on("error", (err) => this.ctx.log.warn(`reverse:udp listener: ${err.message}`));
    sock.on("message", (data, peer) => this.onDatagram(sock, data, [peer.address, peer.port]));
    const a = sock.address();
    return formatAddress([a.address, a.port]);
  }

  private onDatagram(sock: dgram.Socket, data: Buffer, peer: Address): void {
    const key = formatAddress(peer);
    let session = this.sessions.get(key);
    if (!session) {
      const a = sock.address();
      const client = new Client(peer, [a.address, a.port], this.mode);
      const toClient = (bytes: Uint8Array): void => sock.send(bytes, peer[1], peer[0]);
      session = new UdpSession(this.ctx, client, this.target, toClient, () => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    session.datagram(true, data);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.end()));
    this.socket?.close();
    this.socket = undefined;
  }
}

class UdpSession {
  private chain: Promise<void>;
  private flow: UDPFlow | undefined;
  private upstream: dgram.Socket | undefined;
  /** Set once the flow has ended (or the client was refused): later datagrams are dropped. */
  private over = false;
  /** finish() has run: the session is out of the relay's table. */
  private finished = false;
  private queued = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    private readonly target: Address,
    private readonly toClient: (bytes: Uint8Array) => void,
    private readonly forget: () => void,
  ) {
    this.chain = this.start();
  }

  /** client_connected, the flow and udp_start, then the server socket (server_connect and server_connected). */
  private async start(): Promise<void> {
    const { ctx, client } = this;
    this.armIdle();
    await ctx.addons.trigger("client_connected", client);
    if (client.error) {
      // Its datagrams are dropped for udp_timeout seconds; then the next one asks client_connected again.
      ctx.log.info(`client ${formatAddress(client.peername)} refused: ${client.error}`);
      this.over = true;
      return;
    }
    if (this.over) return void (await clientDisconnected(ctx.addons, client));
    const server = new Server(this.target);
    const flow = new UDPFlow(client, server);
    this.flow = flow;
    ctx.store.add(flow);
    await ctx.addons.trigger("udp_start", flow);
    try {
      this.upstream = await this.connect(server);
    } catch (err) {
      await this.finish(err as Error);
      return;
    }
    // pryx stopped while the server socket opened.
    if (this.finished) return void this.upstream.close();
    this.upstream.on("message", (data) => this.datagram(false, data));
    // ICMP port unreachable from the server comes back as an error on the connected socket.
    this.upstream.on("error", (err) => void this.finish(new Error(`server ${formatAddress(this.target)}: ${err.message}`)));
    // inject.udp: a datagram taken as the peer it seems to come from sent it, through udp_message like received ones.
    ctx.injectors.add(flow.id, "udp", (toClient, content) => this.datagram(!toClient, content));
    flow.onKill(() => void this.finish(new Error(KILLED_MESSAGE)));
  }

  private async connect(server: Server): Promise<dgram.Socket> {
    const { ctx, client } = this;
    const data = await serverConnectHook(ctx, client, server);
    const [host, port] = server.address as Address;
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once("error", reject);
        sock.connect(port, host, () => {
          sock.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      sock.close();
      return connectFailed(ctx, data, new Error(`cannot reach ${formatAddress([host, port])} over UDP: ${(err as Error).message}`));
    }
    const remote = sock.remoteAddress();
    const local = sock.address();
    server.peername = [remote.address, remote.port];
    server.sockname = [local.address, local.port];
    await ctx.addons.trigger("server_connected", data);
    return sock;
  }

  /** A datagram from the client (or the server), queued behind the ones before it. */
  datagram(fromClient: boolean, data: Buffer): void {
    if (this.over) return;
    this.armIdle();
    const msg = new UDPMessage(fromClient, Buffer.from(data));
    this.queued++;
    this.chain = this.chain.then(() => this.pass(msg)).finally(() => void this.queued--);
  }

  private async pass(msg: UDPMessage): Promise<void> {
    const { ctx, flow } = this;
    if (this.over || !flow) return;
    flow.messages.push(msg);
    ctx.notify(flow);
    if (ctx.addons.wants("udp_message")) {
      await ctx.addons.trigger("udp_message", flow);
      try {
        await waitIfIntercepted(ctx, flow);
      } catch (err) {
        if (err instanceof FlowKilled) return void this.finish(new Error(KILLED_MESSAGE));
        throw err;
      }
    }
    if (msg.content.length) this.send(!msg.from_client, msg.content);
    ctx.notify(flow);
  }

  private send(toClient: boolean, content: Uint8Array): void {
    if (this.over) return;
    if (toClient) this.toClient(content);
    else this.upstream?.send(content);
  }

  /** udp_timeout seconds with no datagram either way (a held message keeps it open) end the flow. */
  private armIdle(): void {
    clearTimeout(this.idle);
    const seconds = this.ctx.options.get<number>("udp_timeout");
    if (!(seconds > 0)) return;
    this.idle = setTimeout(() => {
      if (this.queued > 0) this.armIdle();
      else void this.finish();
    }, seconds * 1000);
    this.idle.unref();
  }

  /** pryx stops: the flow ends as if it went idle. */
  end(): Promise<void> {
    return this.finish();
  }

  private async finish(err?: Error): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const refused = this.over && !this.flow;
    this.over = true;
    clearTimeout(this.idle);
    this.forget();
    const { ctx, flow } = this;
    // Refused by client_connected: it never had a flow. Not yet started: start() reports it.
    if (!flow) return void (refused ? await clientDisconnected(ctx.addons, this.client) : undefined);
    ctx.injectors.delete(flow.id);
    flow.onKill(undefined);
    if (err) flow.error = new FlowError(err.message);
    // A datagram held by the intercept filter goes nowhere now.
    if (flow.intercepted) flow.resume();
    flow.live = false;
    this.upstream?.close();
    ctx.notify(flow);
    await ctx.addons.trigger(flow.error ? "udp_error" : "udp_end", flow);
    if (this.upstream) {
      flow.server_conn.timestamp_end = now();
      await ctx.addons.trigger("server_disconnected", new ServerConnectionHookData(flow.server_conn, this.client));
    }
    await clientDisconnected(ctx.addons, this.client);
  }
}
