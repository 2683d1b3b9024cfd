import type { Client } from "../flow/connection.ts";

/**
 * The Proxy-Authorization each client's CONNECT carried when it was not for pryx (no proxyauth
 * set): in upstream mode the upstream proxy gets it, as mitmproxy passes a client's credentials
 * on, unless upstream_auth gives pryx's own.
 */
const given = new WeakMap<Client, string>();

export function rememberClientProxyAuth(client: Client, value: string | undefined): void {
  if (value) given.set(client, value);
}

export function clientProxyAuth(client: Client): string | undefined {
  return given.get(client);
}
