import type net from "node:net";
import { formatAddress, parseAuthority, type Client } from "../flow/connection.ts";
import { parseClientHello } from "./client-hello.ts";
import { clientDisconnected } from "./client-gone.ts";
import { OriginalDestinations, canonicalIp } from "./original-destination.ts";
import { HTTP_START, type Target, type Tunnel } from "./tunnel.ts";
import type { ProxyContext } from "./context.ts";

const HOST_FIELD = /\r\nhost:[ \t]*([^\r\n]*)/i;

/**
 * The server a client names in its first bytes: a TLS ClientHello's SNI (port 443), an HTTP
 * request's Host header (its port, else 80). Undefined when they name none.
 */
export function namedServer(first: Buffer): Target | undefined {
  if (first[0] === 0x16) {
    const sni = parseClientHello(first)?.sni;
    return sni ? { host: sni, port: 443 } : undefined;
  }
  const head = first.subarray(0, 8192).toString("latin1");
  if (!HTTP_START.test(head)) return undefined;
  const host = HOST_FIELD.exec(head)?.[1]?.trim();
  const a = host ? parseAuthority(host) : undefined;
  return a?.host ? { host: a.host, port: a.port ?? 80 } : undefined;
}

/**
 * Transparent mode's connections: a firewall rule (iptables/nftables REDIRECT or DNAT) sent each
 * to pryx, and the connection tracking table says where it was going; it then goes on as a
 * CONNECT tunnel to that address would. Without an entry (a client sent here by DNS, or a
 * system without the table) its first bytes name the server instead.
 */
export class TransparentProxy {
  private warnedNoConntrack = false;
  private readonly destinations = new OriginalDestinations();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly tunnel: Tunnel,
  ) {}

  async open(socket: net.Socket, client: Client): Promise<void> {
    const ends = { localAddress: socket.localAddress ?? "", localPort: socket.localPort ?? 0, remoteAddress: socket.remoteAddress ?? "", remotePort: socket.remotePort ?? 0 };
    const found = await this.destinations.lookup(ends);
    if ("address" in found && found.address) return this.start(socket, client, { host: found.address[0], port: found.address[1] }, Buffer.alloc(0));
    if ("unreadable" in found && !this.warnedNoConntrack) {
      this.warnedNoConntrack = true;
      this.ctx.log.warn(`transparent mode: no connection tracking table (${found.unreadable}), so the server is taken from each connection's TLS SNI or HTTP Host header`);
    }
    this.tunnel.onFirstBytes(socket, client, Buffer.alloc(0), (first) => {
      const named = namedServer(first);
      const who = formatAddress(client.peername);
      const self = named && named.port === ends.localPort && (named.host === "localhost" || canonicalIp(named.host) === canonicalIp(ends.localAddress));
      if (!named) return void this.refuse(socket, client, `no redirect is recorded for ${who}, and its first bytes name no server (no TLS SNI, no HTTP Host header); closed`);
      if (self) return void this.refuse(socket, client, `${who} names this proxy itself (${formatAddress([named.host, named.port])}); was its connection redirected by a rule that also catches pryx's own?`);
      void this.start(socket, client, named, first);
    });
  }

  private async start(socket: net.Socket, client: Client, target: Target, first: Buffer): Promise<void> {
    const ready = await this.tunnel.prepare(client, target);
    // Why the server could not be reached was logged where its connection failed, once.
    if ("error" in ready) return this.close(socket, client);
    ready.start(socket, first);
  }

  /** A connection that cannot go on: said why in the event log, closed, and reported gone. */
  private refuse(socket: net.Socket, client: Client, why: string): Promise<void> {
    this.ctx.log.warn(`transparent mode: ${why}`);
    return this.close(socket, client);
  }

  private close(socket: net.Socket, client: Client): Promise<void> {
    socket.destroy();
    return clientDisconnected(this.ctx.addons, client);
  }
}
