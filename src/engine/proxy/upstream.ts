import net from "node:net";
import tls from "node:tls";
import { Http1Parser, type MessageHead } from "../http1/parser.ts";
import { ServerConnectionHookData, formatAddress, type Address, type Client, type Server } from "../flow/connection.ts";
import type { HTTPFlow } from "../flow/http.ts";
import { forwardedFields, framedBody, isChunked, chunk as chunkOf, lastChunk, requestHead } from "../http1/serialize.ts";
import { Headers } from "../flow/headers.ts";
import type { ProxyContext } from "./context.ts";
import type { RequestBody, ResponseSink, UpstreamChannel } from "./channel.ts";

export class UpstreamError extends Error {}

const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Opens the connection to `server.address`, firing server_connect before (an addon may
 * rewrite the address or refuse with `server.error`) and server_connected or
 * server_connect_error after. With TLS, records the negotiated facts and the certificate chain.
 */
export async function openServer(ctx: ProxyContext, client: Client, server: Server, useTls: boolean, alpn: string[]): Promise<net.Socket> {
  const data = new ServerConnectionHookData(server, client);
  await ctx.addons.trigger("server_connect", data);
  if (server.error) {
    await ctx.addons.trigger("server_connect_error", data);
    throw new UpstreamError(`connection to ${formatAddress(server.address)} refused by an addon: ${server.error}`);
  }
  const [host, port] = server.address as Address;
  server.timestamp_start = Date.now() / 1000;
  let socket: net.Socket;
  try {
    socket = await dial(ctx, server, host, port, useTls, alpn);
  } catch (err) {
    server.error = (err as Error).message;
    await ctx.addons.trigger("server_connect_error", data);
    throw new UpstreamError(server.error);
  }
  server.peername = [socket.remoteAddress ?? host, socket.remotePort ?? port];
  server.sockname = [socket.localAddress ?? "", socket.localPort ?? 0];
  socket.setNoDelay(true);
  await ctx.addons.trigger("server_connected", data);
  return socket;
}

function dial(ctx: ProxyContext, server: Server, host: string, port: number, useTls: boolean, alpn: string[]): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let sock: net.Socket;
    const onError = (err: Error & { code?: string }): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(new UpstreamError(describeConnectError(err, server.sni ?? host, port, useTls)));
    };
    const timer = setTimeout(() => onError(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
    if (useTls) {
      const sni = server.sni && !net.isIP(server.sni) ? server.sni : undefined;
      const t = tls.connect({ host, port, servername: sni, rejectUnauthorized: !ctx.options.get<boolean>("ssl_insecure"), ALPNProtocols: alpn });
      sock = t;
      t.once("secureConnect", () => {
        clearTimeout(timer);
        t.off("error", onError);
        server.timestamp_tcp_setup = server.timestamp_start;
        server.timestamp_tls_setup = Date.now() / 1000;
        server.tls = true;
        server.tls_established = true;
        server.tls_version = t.getProtocol() ?? undefined;
        server.cipher = t.getCipher()?.name;
        server.alpn = t.alpnProtocol || undefined;
        server.certificate_list = certificateChain(t);
        resolve(t);
      });
    } else {
      sock = net.connect({ host, port });
      sock.once("connect", () => {
        clearTimeout(timer);
        sock.off("error", onError);
        server.timestamp_tcp_setup = Date.now() / 1000;
        resolve(sock);
      });
    }
    sock.once("error", onError);
  });
}

function certificateChain(t: tls.TLSSocket): string[] {
  const chain: string[] = [];
  const seen = new Set<string>();
  let cert = t.getPeerCertificate(true);
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(`-----BEGIN CERTIFICATE-----\n${cert.raw.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----`);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** Fires server_disconnected once for a server connection that was established. */
export function serverClosed(ctx: ProxyContext, client: Client, server: Server): void {
  if (server.timestamp_end !== undefined || server.timestamp_tcp_setup === undefined) return;
  server.timestamp_end = Date.now() / 1000;
  void ctx.addons.trigger("server_disconnected", new ServerConnectionHookData(server, client));
}

/**
 * An HTTP/1.1 connection to a server, owned by one client connection (as in mitmproxy) and
 * reused for that client's following requests to the same address.
 */
export class H1Upstream implements UpstreamChannel {
  readonly httpVersion = "HTTP/1.1" as const;
  private parser: Http1Parser | undefined;
  private sink: ResponseSink | undefined;
  private uses = 0;
  private responseDone = false;
  private interim = false;
  busy = false;
  closed = false;
  /** Bytes the server sent after a 101 response, for the relay. */
  rest: Buffer | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    readonly server: Server,
    private readonly socket: net.Socket,
  ) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.onClose());
    socket.on("end", () => {
      const err = this.endOfInput();
      if (err) this.fail(err);
    });
  }

  get reused(): boolean {
    return this.uses > 1;
  }

  get rawSocket(): net.Socket {
    return this.socket;
  }

  send(flow: HTTPFlow, sink: ResponseSink, opts: { expectNoBody: boolean; streamBody?: RequestBody }): void {
    this.busy = true;
    this.responseDone = false;
    this.uses++;
    this.sink = sink;
    this.parser = new Http1Parser("response", {
      onHead: (head: MessageHead) => {
        this.interim = head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101;
        this.sink?.onHead(head);
        return (opts.expectNoBody && (head.statusCode < 100 || head.statusCode >= 200)) || undefined;
      },
      onBody: (c) => this.sink?.onBody(c),
      onComplete: (trailers) => {
        if (this.interim) {
          this.interim = false;
          return;
        }
        this.responseDone = true;
        this.sink?.onComplete(trailers);
      },
    });
    const req = flow.request;
    const upgrading = req.headers.has("upgrade");
    let fields = forwardedFields(req.headers, upgrading);
    // pryx relays WebSocket frames uncompressed, so it offers the server no extensions (permessage-deflate).
    if (upgrading && (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket") fields = fields.filter(([n]) => n.toLowerCase() !== "sec-websocket-extensions");
    const head = requestHead(req, fields, this.requestTarget(flow));
    const body = opts.streamBody;
    if (!body) {
      this.socket.cork();
      this.socket.write(head);
      for (const b of framedBody(req.headers, req.raw_content, req.trailers)) this.socket.write(b);
      this.socket.uncork();
      return;
    }
    this.socket.write(head);
    const chunked = isChunked(req.headers);
    body.stream((c) => {
      this.socket.write(chunked ? Buffer.concat(chunkOf(c)) : c);
    });
    void body.whenComplete().then(() => {
      if (chunked) this.socket.write(lastChunk(body.trailers.length ? Headers.fromRaw(body.trailers) : undefined));
    });
  }

  private requestTarget(flow: HTTPFlow): string {
    const req = flow.request;
    if (req.scheme === "http" && this.ctx.options.get<string[]>("mode").some((m) => m.startsWith("upstream:"))) return req.url;
    return req.path;
  }

  finish(keepAlive: boolean): void {
    this.busy = false;
    this.sink = undefined;
    this.parser?.close();
    this.parser = undefined;
    if (!keepAlive) this.close();
  }

  pauseResponse(): void {
    this.socket.pause();
  }

  resumeResponse(): void {
    this.socket.resume();
  }

  private onData(d: Buffer): void {
    if (!this.parser) {
      // Bytes with no request outstanding break HTTP/1.1: drop the connection.
      this.close();
      return;
    }
    const r = this.parser.execute(d);
    if (r.kind === "error") this.fail(r.error);
    else if (r.kind === "upgrade") {
      this.rest = r.rest;
      this.socket.pause();
    }
  }

  private fail(err: Error): void {
    const sink = this.sink;
    this.sink = undefined;
    this.server.error ??= err.message;
    this.close();
    sink?.onError(err);
  }

  private onClose(): void {
    this.closed = true;
    if (this.sink && !this.responseDone) {
      const err = this.endOfInput();
      const sink = this.sink;
      this.sink = undefined;
      if (!this.responseDone) sink?.onError(err ?? this.closedEarly());
    }
    serverClosed(this.ctx, this.client, this.server);
  }

  /**
   * The server closed its side: a body delimited by the close ends here; anything else is a
   * broken response, reported in words a user understands rather than the parser's state.
   */
  private endOfInput(): Error | undefined {
    const err = this.parser?.finish();
    return err ? this.closedEarly() : undefined;
  }

  private closedEarly(): UpstreamError {
    return new UpstreamError(`server ${formatAddress(this.server.address)} closed the connection before the response was complete`);
  }

  /** Hands the socket over for a relay after an upgrade; the caller now owns it. */
  detach(): net.Socket {
    this.socket.removeAllListeners("data");
    this.parser?.close();
    this.parser = undefined;
    this.sink = undefined;
    this.closed = true;
    return this.socket;
  }

  close(): void {
    this.closed = true;
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

export function describeConnectError(err: Error & { code?: string }, host: string, port: number, useTls: boolean): string {
  const where = formatAddress([host, port]);
  switch (err.code) {
    case "ECONNREFUSED":
      return `cannot connect to ${where}: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve ${host}: no such host`;
    case "ETIMEDOUT":
      return `cannot connect to ${where}: timed out`;
    case "ECONNRESET":
      return `connection to ${where} was reset`;
    default:
      if (useTls && /certificate|self.signed|CERT_|unable to verify|altname/i.test(`${err.code ?? ""} ${err.message}`))
        return `TLS verification of ${host} failed: ${err.message} (use -k/--ssl-insecure to skip verification)`;
      return `cannot connect to ${where}: ${err.message}`;
  }
}
