import net from "node:net";
import tls from "node:tls";
import type { Route } from "../jobs.ts";

const HOST = "127.0.0.1";

export interface Dialed {
  socket: net.Socket;
  /** When the socket was ready for the first request (after CONNECT and TLS, if any). */
  readyAt: number;
}

/**
 * Opens one client connection ready for origin-form (TLS) or absolute-form (plain, via proxy)
 * requests: TCP, then CONNECT when tunnelling through a proxy, then TLS.
 */
export async function dial(route: Route, useTls: boolean, servername: string, timeoutMs = 10_000): Promise<Dialed> {
  const raw = net.connect({ host: HOST, port: route.dialPort, noDelay: true });
  const timer = setTimeout(() => raw.destroy(new Error(`dial timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    await once(raw, "connect");
    if (!useTls) return { socket: raw, readyAt: performance.now() };
    if (route.viaProxy) {
      const authority = `${route.connectByName ? servername : HOST}:${route.originPort}`;
      await connectTunnel(raw, authority);
    }
    const secure = tls.connect({
      socket: raw,
      servername,
      secureContext: contextFor(route.caPem),
      // pryx answers h2 when offered; these figures are about HTTP/1.1 inside the tunnel.
      ALPNProtocols: ["http/1.1"],
      ...(route.checkHostname ? {} : { checkServerIdentity: () => undefined }),
    });
    secure.setNoDelay(true);
    await once(secure, "secureConnect");
    return { socket: secure, readyAt: performance.now() };
  } catch (err) {
    raw.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const contexts = new Map<string, tls.SecureContext>();

/**
 * One context per trusted CA: passing `ca` to tls.connect builds a fresh context, parsing the
 * PEM and a certificate store, on every connection, and at hundreds of handshakes a second
 * that made the generator, not the proxy, the bottleneck.
 */
function contextFor(caPem: string | undefined): tls.SecureContext {
  const key = caPem ?? "";
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = tls.createSecureContext(caPem ? { ca: caPem } : {});
    contexts.set(key, ctx);
  }
  return ctx;
}

function once(socket: net.Socket, event: "connect" | "secureConnect"): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off(event, onOk);
      reject(err);
    };
    const onClose = (): void => onError(new Error(`connection closed before ${event}`));
    const onOk = (): void => {
      socket.off("error", onError);
      socket.off("close", onClose);
      resolve();
    };
    socket.once(event, onOk);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

function connectTunnel(socket: net.Socket, authority: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => onError(new Error(`proxy closed the connection during CONNECT ${authority}`));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      cleanup();
      const statusLine = head.toString("latin1", 0, head.indexOf("\r\n"));
      if (!/^HTTP\/1\.[01] 2\d\d/.test(statusLine)) {
        reject(new Error(`CONNECT ${authority} refused: ${statusLine}`));
        return;
      }
      // Pause before handing over so no TLS byte is emitted while nobody listens.
      socket.pause();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve();
    };
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

/** The request bytes for one hop: absolute-form only when plain HTTP goes through a proxy. */
export function requestBytes(route: Route, useTls: boolean, path: string): Buffer {
  const origin = `${HOST}:${route.originPort}`;
  const target = route.viaProxy && !useTls ? `http://${origin}${path}` : path;
  return Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${origin}\r\n\r\n`, "latin1");
}
