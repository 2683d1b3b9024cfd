import net from "node:net";
import tls from "node:tls";
import { Http1Parser, type MessageHead, type ParserCallbacks } from "../http1/parser.ts";
import { Server, ServerConnectionHookData, formatAddress, type Address, type Client } from "../flow/connection.ts";
import type { ProxyContext } from "./context.ts";

export class UpstreamError extends Error {}

export interface ResponseSink extends ParserCallbacks {
  /** The connection failed or closed before the response completed. */
  onError(err: Error): void;
}

const CONNECT_TIMEOUT_MS = 30_000;

/**
 * One connection to a server, owned by one client connection (as in mitmproxy), reused for
 * that client's following requests to the same address. Fires the server_* hooks.
 */
export class Upstream {
  readonly server: Server;
  private socket: net.Socket | undefined;
  private parser: Http1Parser | undefined;
  private sink: ResponseSink | undefined;
  private closedHookFired = false;
  /** True while an exchange is in progress. */
  busy = false;
  closed = false;
  /** Bytes the server sent after a 101/upgrade, to relay. */
  rest: Buffer | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly client: Client,
    address: Address,
    readonly useTls: boolean,
    readonly sni: string | undefined,
  ) {
    this.server = new Server(address);
    this.server.sni = sni;
  }

  get key(): string {
    return `${formatAddress(this.server.address)}|${this.useTls ? "tls" : "tcp"}`;
  }

  get rawSocket(): net.Socket | undefined {
    return this.socket;
  }

  /** Connects, firing server_connect before and server_connected or server_connect_error after. */
  async connect(): Promise<void> {
    const data = new ServerConnectionHookData(this.server, this.client);
    await this.ctx.addons.trigger("server_connect", data);
    if (this.server.error) {
      await this.ctx.addons.trigger("server_connect_error", data);
      throw new UpstreamError(`connection to ${formatAddress(this.server.address)} refused by an addon: ${this.server.error}`);
    }
    const [host, port] = this.server.address as Address;
    this.server.timestamp_start = Date.now() / 1000;
    try {
      this.socket = await this.open(host, port);
    } catch (err) {
      this.server.error = (err as Error).message;
      this.closed = true;
      await this.ctx.addons.trigger("server_connect_error", data);
      throw new UpstreamError(this.server.error);
    }
    const s = this.socket;
    this.server.peername = [s.remoteAddress ?? host, s.remotePort ?? port];
    this.server.sockname = [s.localAddress ?? "", s.localPort ?? 0];
    s.setNoDelay(true);
    s.on("data", (d: Buffer) => this.onData(d));
    s.on("error", (err) => this.fail(err));
    s.on("close", () => this.onClose());
    s.on("end", () => {
      const err = this.parser?.finish();
      if (err) this.fail(err);
    });
    await this.ctx.addons.trigger("server_connected", data);
  }

  private open(host: string, port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const ssl_insecure = this.ctx.options.get<boolean>("ssl_insecure");
      const onError = (err: Error & { code?: string }): void => {
        sock.destroy();
        reject(new UpstreamError(describeConnectError(err, host, port, this.useTls)));
      };
      const timer = setTimeout(() => onError(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
      let sock: net.Socket;
      if (this.useTls) {
        const alpn = ["http/1.1"];
        const t = tls.connect({ host, port, servername: this.sni && !net.isIP(this.sni) ? this.sni : undefined, rejectUnauthorized: !ssl_insecure, ALPNProtocols: alpn });
        sock = t;
        t.once("secureConnect", () => {
          clearTimeout(timer);
          t.off("error", onError);
          this.server.timestamp_tcp_setup = this.server.timestamp_start;
          this.server.timestamp_tls_setup = Date.now() / 1000;
          this.server.tls = true;
          this.server.tls_established = true;
          this.server.tls_version = t.getProtocol() ?? undefined;
          this.server.cipher = t.getCipher()?.name;
          this.server.alpn = t.alpnProtocol || undefined;
          const chain: string[] = [];
          let cert = t.getPeerCertificate(true);
          const seen = new Set<string>();
          while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
            seen.add(cert.fingerprint256);
            chain.push(`-----BEGIN CERTIFICATE-----\n${cert.raw.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----`);
            cert = cert.issuerCertificate;
          }
          this.server.certificate_list = chain;
          resolve(t);
        });
      } else {
        sock = net.connect({ host, port });
        sock.once("connect", () => {
          clearTimeout(timer);
          sock.off("error", onError);
          this.server.timestamp_tcp_setup = Date.now() / 1000;
          resolve(sock);
        });
      }
      sock.once("error", onError);
    });
  }

  /** Sends a request (already serialised) and routes the response to `sink`. */
  startExchange(sink: ResponseSink, expectNoBody: boolean): void {
    this.busy = true;
    this.sink = sink;
    this.parser = new Http1Parser("response", {
      onHead: (head: MessageHead) => {
        sink.onHead(head);
        return expectNoBody || undefined;
      },
      onBody: (chunk) => sink.onBody(chunk),
      onComplete: (trailers) => sink.onComplete(trailers),
    });
  }

  write(data: Buffer | Buffer[]): boolean {
    if (!this.socket || this.closed) return false;
    if (Array.isArray(data)) {
      let ok = true;
      for (const d of data) ok = this.socket.write(d);
      return ok;
    }
    return this.socket.write(data);
  }

  endExchange(): void {
    this.busy = false;
    this.sink = undefined;
    this.parser?.close();
    this.parser = undefined;
  }

  private onData(d: Buffer): void {
    if (!this.parser) {
      if (this.rest !== undefined) return;
      // Data with no exchange waiting: the server broke the protocol; drop the connection.
      this.close();
      return;
    }
    const r = this.parser.execute(d);
    if (r.kind === "error") this.fail(r.error);
    else if (r.kind === "upgrade") this.rest = r.rest;
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
    const sink = this.sink;
    this.sink = undefined;
    if (sink) {
      // A body delimited by the connection closing ends here; anything else is a broken response.
      const err = this.parser?.finish();
      sink.onError(err ?? new UpstreamError(`server ${formatAddress(this.server.address)} closed the connection before the response was complete`));
    }
    void this.fireDisconnected();
  }

  private async fireDisconnected(): Promise<void> {
    if (this.closedHookFired || !this.server.timestamp_tcp_setup) return;
    this.closedHookFired = true;
    this.server.timestamp_end = Date.now() / 1000;
    await this.ctx.addons.trigger("server_disconnected", new ServerConnectionHookData(this.server, this.client));
  }

  /** Detaches the socket for a relay (upgrade); the caller now owns it. */
  detach(): net.Socket | undefined {
    const s = this.socket;
    if (!s) return undefined;
    s.removeAllListeners("data");
    this.parser?.close();
    this.parser = undefined;
    this.sink = undefined;
    return s;
  }

  close(): void {
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    this.closed = true;
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
      if (useTls && /certificate|self.signed|CERT_|unable to verify/i.test(`${err.code ?? ""} ${err.message}`))
        return `TLS verification of ${host} failed: ${err.message} (use -k/--ssl-insecure to skip verification)`;
      return `cannot connect to ${where}: ${err.message}`;
  }
}
