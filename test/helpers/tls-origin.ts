import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { portOf, testConfdir } from "./proxy.ts";
import { selfSignedCert } from "../../bench/cert.ts";

export interface OriginCert {
  keyPem: string;
  certPem: string;
  x509: X509Certificate;
}

let originCert: OriginCert | undefined;

/**
 * A self-signed certificate for the test origins, made once per test process. It is
 * independent of pryx's CA code on purpose: a bug there must not also break the origin.
 */
export function originCertificate(): OriginCert {
  if (originCert) return originCert;
  const { keyPem, certPem } = selfSignedCert("pryx test origin", ["127.0.0.1"], ["localhost", "app.test"]);
  originCert = { keyPem, certPem, x509: new X509Certificate(certPem) };
  return originCert;
}

/** The pryx CA certificate the test proxies use (they share one confdir). */
export function pryxCaPem(): string {
  return fs.readFileSync(path.join(testConfdir(), "pryx-ca-cert.pem"), "utf8");
}

export type OriginProtocols = "h1" | "h2" | "both";

export interface SeenRequest {
  method: string;
  path: string;
  /** "1.1" or "2.0": what the proxy spoke to the origin. */
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  /** The fields as they came, [name, value, ...]: one per field line. */
  rawHeaders: string[];
  body: Buffer;
}

export interface TlsOrigin {
  port: number;
  cert: OriginCert;
  /** Requests in the order their bodies were complete. */
  requests: SeenRequest[];
  /** TLS connections accepted so far. */
  connections: number;
  /** Of those, the ones that resumed an earlier session. */
  resumed: number;
  /** HTTP/2 PING frames received (h2 and both only). */
  pings: number;
  /** The SNI of each TLS connection accepted (false: none sent). */
  servernames: (string | false)[];
  close(): Promise<void>;
}

/** node:http2's compatibility response has the same surface as node:http's for what tests use. */
export type TlsHandler = (req: SeenRequest, res: http.ServerResponse) => unknown;

/**
 * A TLS origin on 127.0.0.1 with its own self-signed certificate: "h1" is node:https (ALPN
 * http/1.1 only), "h2" is node:http2 without HTTP/1 fallback, "both" offers h2 and http/1.1.
 * The handler sees the request with its whole body.
 */
export async function startTlsOrigin(handler: TlsHandler, protocols: OriginProtocols = "h1"): Promise<TlsOrigin> {
  const cert = originCertificate();
  const o: TlsOrigin = { port: 0, cert, requests: [], connections: 0, resumed: 0, pings: 0, servernames: [], close: async () => undefined };
  const onRequest = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen: SeenRequest = { method: req.method ?? "", path: req.url ?? "", httpVersion: req.httpVersion, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
      o.requests.push(seen);
      Promise.resolve(handler(seen, res as http.ServerResponse)).catch((err: Error) => {
        res.statusCode = 500;
        res.end(`origin handler failed: ${err.message}`);
      });
    });
  };
  const sockets = new Set<net.Socket>();
  let server: https.Server | http2.Http2SecureServer;
  if (protocols === "h1") {
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem, ALPNProtocols: ["http/1.1"] }, onRequest);
  } else {
    server = http2.createSecureServer({ key: cert.keyPem, cert: cert.certPem, allowHTTP1: protocols === "both" }, onRequest);
    server.on("session", (session: http2.ServerHttp2Session) => session.on("ping", () => o.pings++));
  }
  server.on("secureConnection", (s: tls.TLSSocket) => {
    o.connections++;
    if (s.isSessionReused()) o.resumed++;
    o.servernames.push(s.servername ?? false);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  o.port = portOf(server);
  o.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return o;
}

export class ConnectRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    /** The proxy ended the connection itself (rather than this helper giving up after 3 s). */
    readonly closedByProxy: boolean,
  ) {
    super(`CONNECT answered ${status}: ${body}`);
  }
}

/**
 * Asks the proxy for a tunnel to `target` (host:port) with node:http. Resolves with the raw
 * socket after a 2xx; rejects with ConnectRefused (status and the body up to the close) otherwise.
 */
export function connectTunnel(proxyPort: number, target: string, headers: Record<string, string> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: proxyPort, method: "CONNECT", path: target, headers: { host: target, ...headers }, agent: false });
    req.setTimeout(10_000, () => req.destroy(new Error(`CONNECT ${target} timed out`)));
    req.on("connect", (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      req.setTimeout(0);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        if (head.length) socket.unshift(head);
        resolve(socket);
        return;
      }
      // node treats any answer to CONNECT as the end of HTTP: the body follows on the socket.
      const chunks = [head];
      let ended = false;
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.on("end", () => (ended = true));
      socket.on("error", () => undefined);
      socket.on("close", () => reject(new ConnectRefused(status, Buffer.concat(chunks).toString(), ended)));
      const timer = setTimeout(() => socket.destroy(), 3000);
      socket.on("close", () => clearTimeout(timer));
    });
    req.on("error", reject);
    req.end();
  });
}

export interface TlsClientOptions {
  /** What the CONNECT asks for, host:port. */
  target: string;
  /** SNI; leave out for none (as for an IP target). */
  servername?: string;
  /** The name the certificate must carry, when not the servername (or the target host). */
  certName?: string;
  /** Trusted roots; defaults to the pryx CA. "system" is Node's built-in roots, as for a client never told about pryx. */
  ca?: string[] | "system";
  alpn?: string[];
  /** A session from an earlier connection, to offer for resumption. */
  session?: Buffer;
  /** The one TLS version to speak (TLS 1.0 and 1.1 need OpenSSL's security level 0, which this sets). */
  version?: tls.SecureVersion;
  /** Headers of the CONNECT itself (a Proxy-Authorization). */
  connectHeaders?: Record<string, string>;
}

/**
 * CONNECT through the proxy, then TLS over the tunnel. The certificate's name is checked
 * against the servername, or the target host when there is none (so an IP needs an IP SAN).
 */
export async function tlsViaProxy(proxyPort: number, opts: TlsClientOptions): Promise<tls.TLSSocket> {
  const socket = await connectTunnel(proxyPort, opts.target, opts.connectHeaders);
  const host = opts.target.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const t = tls.connect({
      socket,
      host,
      ...(opts.servername ? { servername: opts.servername } : {}),
      ...(opts.certName ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(opts.certName as string, cert) } : {}),
      ...(opts.ca === "system" ? {} : { ca: opts.ca ?? [pryxCaPem()] }),
      ALPNProtocols: opts.alpn ?? ["http/1.1"],
      ...(opts.session ? { session: opts.session } : {}),
      ...(opts.version ? { minVersion: opts.version, maxVersion: opts.version, ciphers: "DEFAULT:@SECLEVEL=0" } : {}),
    });
    t.once("secureConnect", () => {
      t.off("error", reject);
      resolve(t);
    });
    t.once("error", (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

export interface ClientResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP/1.1 request over an established (TLS) socket, with node:http's parser. */
export function h1Request(
  socket: net.Socket,
  opts: { path?: string; method?: string; host: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method: opts.method ?? "GET",
        path: opts.path ?? "/",
        headers: { host: opts.host, ...opts.headers },
        // No agent: only then does node:http use createConnection.
        createConnection: () => socket,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error("request through the tunnel timed out")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** CONNECT + TLS (trusting the pryx CA) + one HTTP/1.1 request; the socket is closed afterwards. */
export async function httpsViaProxy(
  proxyPort: number,
  opts: TlsClientOptions & { path?: string; method?: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<ClientResponse & { peer: tls.PeerCertificate }> {
  const t = await tlsViaProxy(proxyPort, opts);
  try {
    const peer = t.getPeerCertificate();
    const res = await h1Request(t, { host: opts.servername ? `${opts.servername}:${opts.target.replace(/^.*:/, "")}` : opts.target, ...opts });
    return { ...res, peer };
  } finally {
    t.destroy();
  }
}

/** An HTTP/2 client session through the proxy (ALPN h2, trusting the pryx CA by default). */
export async function h2ViaProxy(proxyPort: number, opts: TlsClientOptions): Promise<{ session: http2.ClientHttp2Session; socket: tls.TLSSocket }> {
  const socket = await tlsViaProxy(proxyPort, { alpn: ["h2"], ...opts });
  if (socket.alpnProtocol !== "h2") {
    socket.destroy();
    throw new Error(`the proxy did not negotiate h2 (ALPN: ${String(socket.alpnProtocol)})`);
  }
  // As a browser or curl sends it: the name and the port.
  const authority = `https://${opts.servername ? `${opts.servername}:${opts.target.replace(/^.*:/, "")}` : opts.target}`;
  const session = http2.connect(authority, { createConnection: () => socket });
  session.on("error", () => undefined);
  return { session, socket };
}

/** One request on an HTTP/2 session. */
export function h2Request(
  session: http2.ClientHttp2Session,
  opts: { path?: string; method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": opts.method ?? "GET", ":path": opts.path ?? "/", ...opts.headers }, { endStream: opts.body === undefined });
    let headers: Record<string, string | string[] | undefined> = {};
    stream.on("response", (h) => {
      headers = h as Record<string, string | string[] | undefined>;
    });
    const chunks: Buffer[] = [];
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => resolve({ status: Number(headers[":status"] ?? 0), headers, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on("close", () => {
      if (!stream.readableEnded) reject(new Error(`HTTP/2 stream closed early (code ${stream.rstCode})`));
    });
    if (opts.body !== undefined) stream.end(opts.body);
  });
}
