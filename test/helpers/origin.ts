import http from "node:http";
import net from "node:net";
import { portOf } from "./proxy.ts";

export interface Origin {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** A node:http origin on 127.0.0.1 with the given handler. */
export async function startHttpOrigin(handler: http.RequestListener): Promise<Origin> {
  const server = http.createServer({ keepAliveTimeout: 5000 }, handler);
  const o = { port: 0, connections: 0, close: () => closeServer(server) };
  server.on("connection", () => o.connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  o.port = portOf(server);
  return o;
}

export interface RawOrigin extends Origin {
  /** Every byte each connection sent, in order. */
  received: Buffer[];
}

/**
 * An origin that records the exact bytes it receives and answers every request-looking
 * chunk with `response` (for header-fidelity tests, where node:http would normalise).
 */
export async function startRawOrigin(response: (request: string) => string | Buffer): Promise<RawOrigin> {
  const sockets = new Set<net.Socket>();
  const o: RawOrigin = { port: 0, connections: 0, received: [], close: async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  } };
  const server = net.createServer((s) => {
    o.connections++;
    sockets.add(s);
    const idx = o.received.push(Buffer.alloc(0)) - 1;
    let pending = "";
    s.on("data", (d: Buffer) => {
      o.received[idx] = Buffer.concat([o.received[idx] as Buffer, d]);
      pending += d.toString("latin1");
      const end = pending.indexOf("\r\n\r\n");
      if (end !== -1) {
        const req = pending.slice(0, end + 4);
        pending = pending.slice(end + 4);
        s.write(response(req));
      }
    });
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  o.port = portOf(server);
  return o;
}

function closeServer(server: net.Server | http.Server): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** Sends raw bytes to host:port and collects what comes back until the peer closes or `untilMs` passes. */
export function rawExchange(port: number, data: string | Buffer, opts: { untilMs?: number; until?: (got: Buffer) => boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, "127.0.0.1", () => s.write(data));
    const finish = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(finish, opts.untilMs ?? 3000);
    s.on("data", (d: Buffer) => {
      chunks.push(d);
      if (opts.until?.(Buffer.concat(chunks))) finish();
    });
    s.on("end", finish);
    s.on("close", finish);
    s.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A GET/POST through the explicit proxy with node:http, resolving with status, headers and body. */
export function viaProxy(
  proxyPort: number,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: http.Agent } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      // Host names the target, as a real proxy client sends it (node:http would name the proxy).
      { host: "127.0.0.1", port: proxyPort, method: opts.method ?? "GET", path: url, headers: { host: new URL(url).host, ...opts.headers }, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error("request through proxy timed out")));
    req.on("error", reject);
    req.end(opts.body);
  });
}
