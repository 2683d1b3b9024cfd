import dgram from "node:dgram";
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

/**
 * dns mode: a UDP listener whose queries become DNSFlows. dns_request hooks may answer
 * (flow.response = flow.request.succeed(...) or .fail(...)); otherwise the query goes to the
 * upstream resolver, and its answer passes dns_response before reaching the client.
 */
export class DnsServer {
  private socket: dgram.Socket | undefined;

  constructor(private readonly ctx: ProxyContext) {}

  listen(host: string, port: number): Promise<string> {
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    this.socket = sock;
    sock.on("message", (msg, rinfo) => void this.onQuery(msg, rinfo));
    return new Promise((resolve, reject) => {
      sock.once("error", (err) => reject(new Error(`cannot listen for DNS on ${host}:${port}: ${err.message}`)));
      sock.bind(port, host, () => {
        const a = sock.address();
        resolve(formatAddress([a.address, a.port]));
      });
    });
  }

  private async onQuery(msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const { ctx } = this;
    let packet: Packet;
    try {
      packet = dnsPacket.decode(msg);
    } catch (err) {
      ctx.log.warn(`${formatAddress([rinfo.address, rinfo.port])}: malformed DNS query (${(err as Error).message}); ignored`);
      return;
    }
    const local = this.socket?.address();
    const client = new Client([rinfo.address, rinfo.port], [local?.address ?? "", local?.port ?? 0], "dns");
    let upstream: Address | undefined;
    try {
      upstream = resolvers(ctx.options.get<string[]>("dns_name_servers"))[0];
    } catch (err) {
      ctx.log.error((err as Error).message);
    }
    const flow = new DNSFlow(client, new Server(upstream), new DNSMessage(packet));
    ctx.store.add(flow);
    try {
      await ctx.addons.trigger("dns_request", flow);
      await waitIfIntercepted(ctx, flow);
      if (!flow.response) {
        if (!upstream) throw new Error("no upstream name server: set dns_name_servers");
        flow.response = new DNSMessage(await this.forward(msg, upstream));
      }
      await ctx.addons.trigger("dns_response", flow);
      await waitIfIntercepted(ctx, flow);
      const out = { ...flow.response.packet, id: packet.id };
      this.socket?.send(dnsPacket.encode(out), rinfo.port, rinfo.address);
    } catch (err) {
      // A killed query gets no answer, as in mitmproxy: the client's resolver times out or retries.
      if (err instanceof FlowKilled) return;
      flow.error = new FlowError((err as Error).message);
      await ctx.addons.trigger("dns_error", flow);
      // The client learns of the failure instead of waiting for its own timeout.
      const fail = flow.request.fail("SERVFAIL").packet;
      this.socket?.send(dnsPacket.encode({ ...fail, id: packet.id }), rinfo.port, rinfo.address);
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
      const timer = setTimeout(() => done(new Error(`name server ${formatAddress(to)} did not answer within ${QUERY_TIMEOUT_MS / 1000} s`)), QUERY_TIMEOUT_MS);
      sock.on("message", (m) => {
        try {
          done(undefined, dnsPacket.decode(m));
        } catch (err) {
          done(new Error(`malformed answer from ${formatAddress(to)}: ${(err as Error).message}`));
        }
      });
      sock.on("error", (err: Error & { code?: string }) =>
        done(new Error(`name server ${formatAddress(to)}: ${err.code === "ECONNREFUSED" ? "connection refused (nothing listens there)" : err.message}`)),
      );
      // A connected socket hears ICMP port-unreachable, so a dead resolver fails at once.
      sock.connect(to[1], to[0], () => sock.send(query));
    });
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
