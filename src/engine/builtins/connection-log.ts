import type { Log } from "../log.ts";
import { formatAddress, type Client, type ServerConnectionHookData } from "../flow/connection.ts";

/**
 * The event log's lines for connections coming and going, as mitmproxy's proxy server writes
 * them at info level (mitmdump prints them by default): which client, and which server it
 * reached, named as asked and, when that was a name, by the address it resolved to. A CI log
 * then shows where a failing request went, and a connection that never carried a flow.
 */
export class ConnectionLogAddon {
  readonly name = "connection_log";

  constructor(private readonly log: Log) {}

  client_connected(client: Client): void {
    this.log.info(`${formatAddress(client.peername)}: client connect`);
  }

  client_disconnected(client: Client): void {
    this.log.info(`${formatAddress(client.peername)}: client disconnect`);
  }

  server_connected({ client, server }: ServerConnectionHookData): void {
    this.log.info(`${formatAddress(client.peername)}: server connect ${serverNamed(server)}`);
  }

  // Named as its connect line named it, so the two pair up when grepped by address.
  server_disconnected({ client, server }: ServerConnectionHookData): void {
    this.log.info(`${formatAddress(client.peername)}: server disconnect ${serverNamed(server)}`);
  }
}

/** A server as asked for and, when that was a name, the address it resolved to: `localhost:80 (127.0.0.1:80)`. */
function serverNamed(server: ServerConnectionHookData["server"]): string {
  const asked = formatAddress(server.address);
  const reached = formatAddress(server.peername);
  return `${asked}${reached && reached !== asked ? ` (${reached})` : ""}`;
}
