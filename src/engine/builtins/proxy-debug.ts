import type { Loader } from "../hooks/loader.ts";
import type { HookName } from "../hooks/hooks.ts";
import type { OptionValue } from "../options.ts";
import type { Log } from "../log.ts";
import { formatAddress, type Client, type NextLayerData, type ServerConnectionHookData, type TlsData } from "../flow/connection.ts";

/**
 * mitmproxy's `proxy_debug`: each connection's steps in the event log at debug level (shown by
 * `pryx dump -v` or `--set termlog_verbosity=debug`, and the console's event log at debug): the
 * mode a client came in by, where pryx connects it (and through which upstream proxy), the layer
 * its first bytes were taken for, and the TLS each side agreed, between the connects and
 * disconnects that the info level shows (ConnectionLogAddon). For finding out where a connection
 * went, a transparent mode's most of all. Off, it says it has no work, so the hooks only it wants
 * are not taken.
 */
export class ProxyDebugAddon {
  readonly name = "proxy_debug";
  private options: Readonly<Record<string, OptionValue>> = {};

  constructor(private readonly log: Log) {}

  load(loader: Loader): void {
    loader.add_option("proxy_debug", "bool", false, "Log each connection's steps (connects, disconnects, layer, TLS) at debug level.");
    this.options = loader.options;
  }

  handles(_hook: HookName): boolean {
    return this.options.proxy_debug === true;
  }

  private say(client: Client, what: string): void {
    if (this.options.proxy_debug) this.log.debug(`${formatAddress(client.peername)}: ${what}`);
  }

  client_connected(client: Client): void {
    this.say(client, `${client.proxy_mode} mode, to ${formatAddress(client.sockname)}`);
  }

  client_disconnected(client: Client): void {
    if (client.error) this.say(client, `client gone: ${client.error}`);
  }

  server_connect(data: ServerConnectionHookData): void {
    this.say(data.client, `connecting to ${formatAddress(data.server.address)}${data.server.via ? ` via ${formatAddress(data.server.via)}` : ""}`);
  }

  server_connect_error(data: ServerConnectionHookData): void {
    this.say(data.client, `server connect ${formatAddress(data.server.address)} failed: ${data.server.error ?? "unknown error"}`);
  }

  next_layer(data: NextLayerData): void {
    this.say(data.context.client, `next layer ${data.layer} (first bytes ${data.data_client().length}, for ${formatAddress(data.context.server.address)})`);
  }

  tls_established_client(data: TlsData): void {
    const c = data.conn;
    this.say(data.context.client, `client TLS ${c.tls_version ?? "?"} ${c.cipher ?? ""}, SNI ${c.sni ?? "none"}, ALPN ${c.alpn ?? "none"}`);
  }

  tls_established_server(data: TlsData): void {
    const s = data.conn;
    this.say(data.context.client, `server TLS ${s.tls_version ?? "?"} ${s.cipher ?? ""} with ${formatAddress(data.context.server.address)}, SNI ${s.sni ?? "none"}, ALPN ${s.alpn ?? "none"}`);
  }
}
