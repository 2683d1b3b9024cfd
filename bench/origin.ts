/**
 * The origin, in its own process so it never competes with the proxy for one event loop.
 * One process, not a node:cluster pair: on two cores shared with the generator, two workers
 * measured slower (55k against 68k req/s direct), and through a proxy the origin idles anyway.
 * Answers GET /1k and /100k with fixed bodies over HTTP and HTTPS, keep-alive, on free ports,
 * and reports the ports and its certificate to the parent over IPC.
 */
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { selfSignedCert } from "./cert.ts";

export type OriginReady = { type: "ready"; httpPort: number; httpsPort: number; certPem: string };

const BODIES = new Map<string, Buffer>([
  ["/1k", Buffer.alloc(1024, "a")],
  ["/100k", Buffer.alloc(100 * 1024, "b")],
]);

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  // A proxy may forward the absolute form untouched; the path is all that selects the body.
  const path = (req.url ?? "/").replace(/^[a-z]+:\/\/[^/]+/i, "");
  const body = BODIES.get(path);
  if (!body) {
    res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": "10" });
    res.end("not found\n");
    return;
  }
  res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) });
  res.end(body);
}

// Idle keep-alive connections must outlive the gap between warm-up and measurement.
const serverOptions = { keepAliveTimeout: 120_000, headersTimeout: 130_000, requestTimeout: 0 };

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

if (!process.send) throw new Error("bench/origin.ts is started by bench/run.ts over IPC");
const { keyPem, certPem } = selfSignedCert("pryx-bench-origin", ["127.0.0.1"], ["localhost"]);
const plain = http.createServer(serverOptions, handle);
const secure = https.createServer({ ...serverOptions, key: keyPem, cert: certPem }, handle);
const [httpPort, httpsPort] = await Promise.all([listen(plain), listen(secure)]);
const ready: OriginReady = { type: "ready", httpPort, httpsPort, certPem };
process.send(ready);
process.on("disconnect", () => process.exit(0));
