import dgram from "node:dgram";
import { answerFromHosts } from "./hosts-file.ts";
import fs from "node:fs";
import net from "node:net";
import * as dnsPacket from "dns-packet";
import type { Packet } from "dns-packet";
import { Client, Server, formatAddress, parseAuthority, type Address } from "../flow/connection.ts";
import { DNSFlow, DNSMessage } from "../flow/dns.ts";
import { FlowError, FlowKilled } from "../flow/flow.ts";
import type { ProxyContext } from "./context.ts";
import { waitIfIntercepted } from "./paused.ts";

const QUERY_TIMEOUT_MS = 5000;

/** `dns_name_servers` entries ("IP" or "IP:PORT"), or the first nameserver of /etc/resolv.conf. */
export function resolvers(configured: readonly string[]): Address[] {
  const list = configured.length ? configured : systemResolvers();
  return list.map((s) => {
    const a = parseAuthority(s);
    if (!a || !net.isIP(a.host)) throw new Error(`invalid name server ${JSON.stringify(s)}: expected IP or IP:PORT`);
    return [a.host, a.port ?? 53];
  });
}

function systemResolvers(): string[] {
  try {
    return fs
      .readFileSync("/etc/resolv.conf", "utf8")
      .split("\n")
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => Boolean(x));
  } catch {
    return [];
  }
}

/** How a query came in: where from, where to, how to answer it, and so how to ask upstream. */
interface QueryPath {
  peer: Address;
  local: Address;
  reply(packet: Packet): void;
  /** A client that asked over TCP (after a truncated UDP answer, or by choice) is asked for upstream over TCP too. */
  tcp: boolean;
}

/**
 * DNS over TCP frames each message with its length (RFC 1035 4.2.2). dns-packet's streamEncode
 * frames a packet it encodes; the client's query is forwarded as the bytes it sent, so framed here.
 */
function framed(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** Calls `each` with every whole length-framed message `socket` sends. */
function readFramed(socket: net.Socket, each: (msg: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (d: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const len = pending.readUInt16BE(0);
      each(pending.subarray(2, 2 + len));
      pending = pending.subarray(2 + len);
    }
  });
}

/**
 * dns mode: a UDP listener, and a TCP one on the same port, whose queries become DNSFlows.
 * dns_request hooks may answer (flow.response = flow.request.succeed(...) or .fail(...));
 * otherwise the query goes to the upstream resolver, and its answer passes dns_response before
 * reaching the client.
 */
export class DnsServer {
  private socket: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly tcpClients = new Set<net.Socket>();

  /** `fixedUpstream`: reverse:dns's server, asked for every query (no hosts file, no dns_name_servers). */
  constructor(
    private readonly ctx: ProxyContext,
    private readonly fixedUpstream?: Address,
  ) {}

  async listen(host: string, port: number): Promise<string> {
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    this.socket = sock;
    sock.on("message", (msg, rinfo) => {
      const a = sock.address();
      const reply = (p: dnsPacket.Packet): void => {
        // The listener closed meanwhile (a mode change): there is no socket left to answer from.
        if (this.socket !== sock) throw new Error("the DNS listener closed (a change of mode or listen address) before the answer could be sent");
        sock.send(dnsPacket.encode(p), rinfo.port, rinfo.address);
      };
      void this.onQuery(msg, { peer: [rinfo.address, rinfo.port], local: [a.address, a.port], tcp: false, reply });
    });
    const where = await new Promise<Address>((resolve, reject) => {
      sock.once("error", (err) => reject(new Error(`cannot listen for DNS on ${host}:${port}: ${err.message}`)));
      sock.bind(port, host, () => {
        const a = sock.address();
        resolve([a.address, a.port]);
      });
    });
    // TCP on the port UDP got: resolvers retry there when an answer did not fit a datagram.
    await this.listenTcp(host, where[1]);
    return formatAddress(where);
  }

  private listenTcp(host: string, port: number): Promise<void> {
    const server = net.createServer((conn) => {
      this.tcpClients.add(conn);
      conn.on("close", () => this.tcpClients.delete(conn));
      conn.on("error", () => undefined);
      const path = (): Omit<QueryPath, "reply"> => ({ peer: [conn.remoteAddress ?? "?", conn.remotePort ?? 0], local: [conn.localAddress ?? "?", conn.localPort ?? 0], tcp: true });
      readFramed(conn, (msg) => void this.onQuery(msg, { ...path(), reply: (p) => void (conn.destroyed ? undefined : conn.write(dnsPacket.streamEncode(p))) }));
    });
    this.tcp = server;
    return new Promise((resolve) => {
      server.once("error", (err: Error & { code?: string }) => {
        // UDP is the DNS that matters; without TCP, answers too large for a datagram fail. A TCP
        // mode on the same port (-m regular -m dns) is the usual reason, and no fault.
        const why = err.code === "EADDRINUSE" ? "the port is taken by another TCP listener" : err.message;
        this.ctx.log.info(`dns mode: no DNS over TCP on ${host}:${port} (${why}); DNS over UDP is served`);
        this.tcp = undefined;
        resolve();
      });
      server.listen(port, host, () => resolve());
    });
  }

  private async onQuery(msg: Buffer, path: QueryPath): Promise<void> {
    const { ctx } = this;
    let packet: Packet;
    try {
      packet = dnsPacket.decode(msg);
    } catch (err) {
      ctx.log.warn(`${formatAddress(path.peer)}: malformed DNS query (${(err as Error).message}); ignored`);
      return;
    }
    const client = new Client(path.peer, path.local, this.fixedUpstream ? `reverse:dns://${formatAddress(this.fixedUpstream)}` : "dns");
    let upstream = this.fixedUpstream;
    if (!upstream) {
      try {
        upstream = resolvers(ctx.options.get<string[]>("dns_name_servers"))[0];
      } catch (err) {
        ctx.log.error((err as Error).message);
      }
    }
    const flow = new DNSFlow(client, new Server(upstream), new DNSMessage(packet));
    ctx.store.add(flow);
    // The query as the hooks were given it: one they changed goes upstream as changed, else as the client's bytes.
    const asGiven = dnsPacket.encode(packet);
    try {
      await ctx.addons.trigger("dns_request", flow);
      await waitIfIntercepted(ctx, flow);
      if (!flow.response && !this.fixedUpstream && ctx.options.get<boolean>("dns_use_hosts_file")) flow.response = answerFromHosts(flow.request);
      if (!flow.response) {
        if (!upstream) throw new Error("no upstream name server: set dns_name_servers");
        const edited = dnsPacket.encode(flow.request.packet);
        const query = edited.equals(asGiven) ? msg : edited;
        flow.response = new DNSMessage(await (path.tcp ? this.forwardTcp(query, upstream) : this.forward(query, upstream)));
      }
      await ctx.addons.trigger("dns_response", flow);
      await waitIfIntercepted(ctx, flow);
      // An addon that took the response away sends none: the client's resolver times out or retries, as with mitmproxy.
      if (flow.response) path.reply({ ...flow.response.packet, id: packet.id });
    } catch (err) {
      // A killed query gets no answer, as in mitmproxy: the client's resolver times out or retries.
      if (err instanceof FlowKilled) return;
      flow.error = new FlowError((err as Error).message);
      await ctx.addons.trigger("dns_error", flow);
      // The client learns of the failure instead of waiting for its own timeout (if it can still be answered).
      try {
        path.reply({ ...flow.request.fail("SERVFAIL").packet, id: packet.id });
      } catch {
        // The flow's error says why; no answer can go.
      }
    } finally {
      flow.live = false;
      ctx.notify(flow);
    }
  }

  private forward(query: Buffer, to: Address): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(to[0]) ? "udp6" : "udp4");
      const done = (err: Error | undefined, p?: Packet): void => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(p as Packet);
      };
      /** What came that was no answer to this query, for the timeout to say. */
      let stray: string | undefined;
      const timer = setTimeout(() => done(new Error(`name server ${formatAddress(to)} did not answer within ${QUERY_TIMEOUT_MS / 1000} s${stray ? ` (it sent ${stray})` : ""}`)), QUERY_TIMEOUT_MS);
      // A datagram that is no answer to this query (a late answer to an earlier one, a forged
      // one, garbage) is passed over, as a stub resolver passes it over: the answer may still come.
      // Taken, a wrong ID's answers went to the client, and garbage failed a query about to be answered.
      const id = query.readUInt16BE(0);
      sock.on("message", (m) => {
        let answer: Packet;
        try {
          answer = dnsPacket.decode(m);
        } catch (err) {
          stray = `a malformed answer: ${(err as Error).message}`;
          return;
        }
        if (answer.id === id && answer.type === "response") done(undefined, answer);
        else stray = answer.id === id ? "a query, not an answer" : `an answer with ID ${answer.id ?? "none"}, not the query's ${id}`;
      });
      sock.on("error", (err: Error & { code?: string }) =>
        done(new Error(`name server ${formatAddress(to)}: ${err.code === "ECONNREFUSED" ? "connection refused (nothing listens there)" : err.message}`)),
      );
      // A connected socket hears ICMP port-unreachable, so a dead resolver fails at once.
      sock.connect(to[1], to[0], () => sock.send(query));
    });
  }

  /** The query over TCP, for a client that asked over TCP: the answer may be larger than a datagram. */
  private forwardTcp(query: Buffer, to: Address): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(to[1], to[0]);
      const done = (err: Error | undefined, p?: Packet): void => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(p as Packet);
      };
      const timer = setTimeout(() => done(new Error(`name server ${formatAddress(to)} did not answer over TCP within ${QUERY_TIMEOUT_MS / 1000} s`)), QUERY_TIMEOUT_MS);
      sock.on("error", (err: Error & { code?: string }) => done(new Error(`name server ${formatAddress(to)} over TCP: ${err.code === "ECONNREFUSED" ? "connection refused" : err.message}`)));
      sock.on("connect", () => sock.write(framed(query)));
      readFramed(sock, (m) => {
        try {
          done(undefined, dnsPacket.decode(m));
        } catch (err) {
          done(new Error(`malformed answer from ${formatAddress(to)}: ${(err as Error).message}`));
        }
      });
    });
  }

  close(): void {
    const sock = this.socket;
    this.socket = undefined;
    sock?.close();
    this.socket = undefined;
    this.tcp?.close();
    this.tcp = undefined;
    for (const c of this.tcpClients) c.destroy();
  }
}
