/**
 * Where a connection redirected to pryx (transparent mode) was going. The kernel's answer is
 * the socket option SO_ORIGINAL_DST, which Node cannot ask for; the connection tracking table
 * holds the same fact: the entry whose reply tuple is this socket (from pryx's address and port
 * to the client's) names the original destination in its own tuple.
 */
import fs from "node:fs/promises";
import net from "node:net";
import type { Address } from "../flow/connection.ts";

export const CONNTRACK_FILE = "/proc/net/nf_conntrack";

/** The local and remote ends of an accepted socket, as the tracking table's reply tuple has them. */
export interface SocketEnds {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** One spelling per address: the table writes IPv6 in full, and a dual-stack socket maps IPv4. */
export function canonicalIp(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1] as string;
  if (net.isIPv6(ip)) return new net.SocketAddress({ address: ip, family: "ipv6" }).address;
  return ip;
}

function fields(tuple: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of tuple.split(" ")) {
    const eq = part.indexOf("=");
    if (eq > 0 && !out.has(part.slice(0, eq))) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** One TCP entry: where its client was going, and the client as the reply tuple names it. */
interface Entry {
  client: string;
  destination: Address;
}

/** A table's TCP entries by their reply tuple's ports (pryx's port, then the client's), parsed once per read. */
type TableIndex = Map<string, Entry[]>;

const portsKey = (localPort: number | string, remotePort: number | string): string => `${localPort} ${remotePort}`;

export function indexTable(table: string): TableIndex {
  const index: TableIndex = new Map();
  for (const line of table.split("\n")) {
    if (!/ tcp /.test(line)) continue;
    // The reply tuple, the second src=… in a line, is the answering end (pryx's) to the client.
    const replyAt = line.indexOf(" src=", line.indexOf(" src=") + 1);
    if (replyAt < 0) continue;
    const original = fields(line.slice(0, replyAt));
    const reply = fields(line.slice(replyAt + 1));
    const port = Number(original.get("dport"));
    const host = canonicalIp(original.get("dst") ?? "");
    if (!host || !Number.isInteger(port)) continue;
    const key = portsKey(reply.get("sport") ?? "", reply.get("dport") ?? "");
    const entry = { client: canonicalIp(reply.get("dst") ?? ""), destination: [host, port] as Address };
    const list = index.get(key);
    if (list) list.push(entry);
    else index.set(key, [entry]);
  }
  return index;
}

/**
 * The original destination of the TCP connection `ends`, or undefined when no entry matches, or
 * when the entry says the client came to pryx itself (nothing redirected it).
 */
export function destinationIn(index: TableIndex, ends: SocketEnds): Address | undefined {
  const remote = canonicalIp(ends.remoteAddress);
  const entry = index.get(portsKey(ends.localPort, ends.remotePort))?.find((e) => e.client === remote);
  if (!entry) return undefined;
  const [host, port] = entry.destination;
  return host === canonicalIp(ends.localAddress) && port === ends.localPort ? undefined : entry.destination;
}

/** `destinationIn` over a table's text. */
export function findOriginalDestination(table: string, ends: SocketEnds): Address | undefined {
  return destinationIn(indexTable(table), ends);
}

type TableRead = { index: TableIndex } | { unreadable: string };

async function readTable(file: string): Promise<TableRead> {
  try {
    return { index: indexTable(await fs.readFile(file, "utf8")) };
  } catch (err) {
    return { unreadable: `${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/**
 * Looks connections up in the table, one read (and one parse) for many: a busy gateway's table
 * runs to megabytes, and reading it per connection would cost more than the connection. A lookup waits
 * for the next read to start (one that started earlier may predate its entry), and every
 * lookup waiting then shares that read.
 */
export class OriginalDestinations {
  private inFlight: Promise<TableRead> | undefined;
  private next: Promise<TableRead> | undefined;

  constructor(private readonly file = CONNTRACK_FILE) {}

  /** Where `ends` was going; a table that cannot be read (not Linux, no conntrack, no permission) says why. */
  async lookup(ends: SocketEnds): Promise<{ address: Address | undefined } | { unreadable: string }> {
    const read = await this.nextRead();
    return "unreadable" in read ? read : { address: destinationIn(read.index, ends) };
  }

  private nextRead(): Promise<TableRead> {
    if (!this.inFlight) return this.start();
    this.next ??= this.inFlight.then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<TableRead> {
    const read = readTable(this.file);
    this.inFlight = read;
    void read.then(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    return read;
  }
}
