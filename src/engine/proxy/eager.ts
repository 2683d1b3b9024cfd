import type net from "node:net";
import { formatAddress, type Address, type Client, type Server } from "../flow/connection.ts";

/** A server connection opened at CONNECT (connection_strategy=eager), not yet used by the tunnel. */
export interface EagerServer {
  readonly server: Server;
  readonly socket: net.Socket;
  /** Its TLS handshake, begun while the client's own runs (see `secureEagerServer`). */
  secured?: EarlyTls;
}

/** A TLS handshake begun on an eager connection before any request asked for it. */
export interface EarlyTls {
  /** The SNI sent, and the ALPN offers joined with ",": a request that needs others cannot use it. */
  readonly name: string;
  readonly alpn: string;
  /** Settles as `useEagerServer` would have: the secured socket, or the UpstreamError. */
  readonly socket: Promise<net.Socket>;
}

/**
 * The server connections opened eagerly, one per tunnelling client, until what the tunnel
 * carries takes it: the first request to that address (over TLS, the handshake then runs on
 * it, unless it began at the client's ClientHello), or a TCP relay. A client that leaves first
 * takes its connection with it.
 */
export class EagerServers {
  private readonly byClient = new WeakMap<Client, EagerServer>();
  // Apart from byClient: one client can hold both, a plain connection (its TLS begun at the
  // ClientHello) and the failure of the TLS one tried when it then stayed silent, and `drop`
  // closes the connection while the failure stays for the request that comes.
  private readonly failures = new WeakMap<Client, Server>();

  put(client: Client, eager: EagerServer): void {
    this.byClient.set(client, eager);
  }

  /** The client's eager connection, left where it is (for a handshake to begin on it). */
  peek(client: Client): EagerServer | undefined {
    const e = this.byClient.get(client);
    return e && !e.socket.destroyed ? e : undefined;
  }

  /**
   * The client's eager connection if it goes to `address` and is still open; it is the caller's
   * then. One whose TLS began early is only for a caller that wants TLS with that name and those
   * ALPN offers (`tls`); for another it is closed, and the caller opens its own.
   */
  take(client: Client, address: Address, tls?: { name: string; alpn: string[] }): EagerServer | undefined {
    const e = this.byClient.get(client);
    if (!e || formatAddress(e.server.address ?? ["", 0]) !== formatAddress(address)) return undefined;
    this.byClient.delete(client);
    if (e.socket.destroyed) return undefined;
    if (e.secured && (e.secured.name !== tls?.name || e.secured.alpn !== tls.alpn.join(","))) {
      e.socket.destroy();
      return undefined;
    }
    return e;
  }

  /**
   * An early connection (for a lazy tunnel's silent client) that failed, its reason in
   * `server.error`: the tunnel's first use of that address fails with it rather than trying again,
   * so server_connect and server_connect_error fire once for the one connection the client asked for.
   */
  putFailed(client: Client, server: Server): void {
    this.failures.set(client, server);
  }

  /** The failed early connection to `address`, once: a later use tries afresh. */
  takeFailed(client: Client, address: Address): Server | undefined {
    const failed = this.failures.get(client);
    if (!failed || formatAddress(failed.address ?? ["", 0]) !== formatAddress(address)) return undefined;
    this.failures.delete(client);
    return failed;
  }

  /** The client is gone: an eager connection nothing took is closed. */
  drop(client: Client): void {
    const e = this.byClient.get(client);
    if (!e) return;
    this.byClient.delete(client);
    e.socket.destroy();
  }
}
