import type { Client } from "../flow/connection.ts";

/**
 * What pryx keeps of a client connection that is not part of mitmproxy's Client (so neither addons
 * nor saved flows see it), alive as long as the Client is.
 */
export interface ClientFacts {
  /**
   * The name the client's ClientHello asked for, as it came. `client.sni` is what tls_start_client
   * may change (it names the certificate pryx presents); the server is asked for this one (see UpstreamPool).
   */
  helloName?: string;
  /**
   * The Proxy-Authorization the client's CONNECT carried when it was not for pryx (no proxyauth
   * set): in upstream mode the upstream proxy gets it, as mitmproxy passes a client's credentials
   * on, unless upstream_auth gives pryx's own.
   */
  proxyAuth?: string;
}

const facts = new WeakMap<Client, ClientFacts>();

export function clientFacts(client: Client): ClientFacts {
  let f = facts.get(client);
  if (!f) facts.set(client, (f = {}));
  return f;
}
