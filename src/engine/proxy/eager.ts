import type net from "node:net";
import { formatAddress, type Address, type Client, type Server } from "../flow/connection.ts";

/** A server connection opened at CONNECT (connection_strategy=eager), not yet used by the tunnel. */
export interface EagerServer {
  readonly server: Server;
  readonly socket: net.Socket;
}

/**
 * The server connections opened eagerly, one per tunnelling client, until what the tunnel
 * carries takes it: the first request to that address (over TLS, the handshake then runs on
 * it), or a TCP relay. A client that leaves first takes its connection with it.
 */
export class EagerServers {
  private readonly byClient = new WeakMap<Client, EagerServer>();

  put(client: Client, eager: EagerServer): void {
    this.byClient.set(client, eager);
  }

  /** The client's eager connection if it goes to `address` and is still open; it is the caller's then. */
  take(client: Client, address: Address): EagerServer | undefined {
    const e = this.byClient.get(client);
    if (!e || formatAddress(e.server.address ?? ["", 0]) !== formatAddress(address)) return undefined;
    this.byClient.delete(client);
    if (e.socket.destroyed) return undefined;
    return e;
  }

  /** The client is gone: an eager connection nothing took is closed. */
  drop(client: Client): void {
    const e = this.byClient.get(client);
    if (!e) return;
    this.byClient.delete(client);
    e.socket.destroy();
  }
}
