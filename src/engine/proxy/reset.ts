import type net from "node:net";

/**
 * Closes `sock` with an RST where it is plain TCP, so its peer learns the stream was cut off
 * rather than ended (a FIN ends a close-delimited body as if whole). A TLS socket (its handle no
 * TCP socket) is closed without its close_notify, which tells its peer the same.
 */
export function resetOrDestroy(sock: net.Socket): void {
  try {
    sock.resetAndDestroy();
  } catch {
    sock.destroy();
  }
}
