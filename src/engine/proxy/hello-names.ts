import type { Client } from "../flow/connection.ts";

/**
 * The name each client's ClientHello asked for, as it came. `client.sni` is what tls_start_client
 * may change (it names the certificate pryx presents); the server is asked for the name the
 * client asked for (see UpstreamPool).
 */
const asked = new WeakMap<Client, string>();

export function rememberHelloName(client: Client, sni: string | undefined): void {
  if (sni) asked.set(client, sni);
}

export function helloName(client: Client): string | undefined {
  return asked.get(client);
}
