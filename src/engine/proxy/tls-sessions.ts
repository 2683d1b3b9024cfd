import type tls from "node:tls";

/**
 * TLS sessions of servers pryx spoke to, for resuming them on the next connection.
 *
 * Each client connection that makes a request over TLS opens its own server connection, and a
 * full handshake makes both sides do the key exchange, the server sign and pryx parse and verify
 * its certificate chain. A resumed one skips the certificates: browsers and Node's own https
 * agent resume the same way. A session is only offered again under the same key, which holds
 * everything that decided whether its first handshake was accepted (verification settings, the
 * client certificate, SNI, ALPN, the address): Node takes a resumed session's verification
 * result from the session itself, without checking the certificate again.
 *
 * A resumed handshake carries no certificates, and Node 20 gives none for it, so the chain
 * seen when the session was made is kept with it for `server_conn.certificate_list`.
 */
export interface ResumableSession {
  readonly session: Buffer;
  readonly chain: readonly string[];
}

/** Bounded like Node's https agent's cache (100): the oldest server's session goes first. */
const MAX_SESSIONS = 256;
const sessions = new Map<string, ResumableSession>();

export function sessionFor(key: string): ResumableSession | undefined {
  return sessions.get(key);
}

export function forgetSession(key: string): void {
  sessions.delete(key);
}

function remember(key: string, entry: ResumableSession): void {
  sessions.delete(key);
  if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
  sessions.set(key, entry);
}

/**
 * Keeps the sessions `socket` receives under `key`, once its handshake has succeeded: with TLS
 * 1.2 a session can arrive before the certificate is checked; with 1.3 tickets come after.
 * `established` gives the chain when the handshake succeeded, and undefined until then.
 */
export function keepSessions(socket: tls.TLSSocket, key: string, established: () => readonly string[] | undefined): void {
  let pending: Buffer | undefined;
  socket.on("session", (session: Buffer) => {
    const chain = established();
    if (chain === undefined) pending = session;
    else remember(key, { session, chain });
  });
  socket.once("secureConnect", () => {
    const chain = established();
    if (pending !== undefined && chain !== undefined) remember(key, { session: pending, chain });
    pending = undefined;
  });
}
