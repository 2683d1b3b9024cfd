import type { Client } from "../flow/connection.ts";
import type { AddonManager } from "../hooks/addon-manager.ts";
import { now } from "../flow/now.ts";

const reported = new WeakSet<Client>();

/**
 * Fires `client_disconnected` for `client`, once: a client's socket passes through several
 * owners (the CONNECT handler, a tunnel, a TLS layer, an HTTP or TCP handler), and whichever
 * sees it go reports it, so no path is left without the hook and none fires it twice.
 */
export function clientDisconnected(addons: AddonManager, client: Client): Promise<void> {
  if (reported.has(client)) return Promise.resolve();
  reported.add(client);
  client.timestamp_end ??= now();
  client.closed = true;
  client.connected = false;
  return addons.trigger("client_disconnected", client);
}
