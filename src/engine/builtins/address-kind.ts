import net from "node:net";
import { unmappedIPv4 } from "../flow/connection.ts";

/**
 * What kind of address a client connects from, as Python's `ipaddress` tells it (3.13's
 * tables), since mitmproxy's block addon decides by `is_loopback`, `is_link_local`,
 * `is_private` and `is_global`. "other" is neither private nor global (100.64.0.0/10).
 */
export type AddressKind = "loopback" | "link-local" | "private" | "global" | "other";

type Family = "ipv4" | "ipv6";

/**
 * Subnets by family: one node:net BlockList would also match IPv4 addresses against IPv6
 * rules (8.8.8.8 is in ::ffff:0:0/96 to it), where Python keeps the families apart.
 */
function list(subnets: readonly string[]): (ip: string, family: Family) => boolean {
  const lists = { ipv4: new net.BlockList(), ipv6: new net.BlockList() };
  for (const s of subnets) {
    const [addr, bits] = s.split("/") as [string, string];
    const family = net.isIPv6(addr) ? "ipv6" : "ipv4";
    lists[family].addSubnet(addr, Number(bits), family);
  }
  return (ip, family) => lists[family].check(ip, family);
}

const LOOPBACK = list(["127.0.0.0/8", "::1/128"]);
const LINK_LOCAL = list(["169.254.0.0/16", "fe80::/10"]);
// ipaddress's _private_networks and _private_networks_exceptions (IPv4, then IPv6).
const PRIVATE = list([
  "0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.0.170/31", "192.0.2.0/24",
  "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
  "::1/128", "::/128", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "fc00::/7", "fe80::/10",
]);
const NOT_PRIVATE = list([
  "192.0.0.9/32", "192.0.0.10/32",
  "2001:1::1/128", "2001:1::2/128", "2001:3::/32", "2001:4:112::/48", "2001:20::/28", "2001:30::/28",
]);
/** IPv4's shared address space is neither private nor global. */
const SHARED = list(["100.64.0.0/10"]);

/**
 * The address without a zone (`fe80::1%eth0`) and, for an IPv4-mapped IPv6 address
 * (`::ffff:10.0.0.1`, what a dual-stack listener reports), the IPv4 address: mitmproxy's
 * `address.ipv4_mapped or address`.
 */
export function plainAddress(address: string): string {
  return unmappedIPv4(address.split("%")[0] as string);
}

/**
 * Kinds of the addresses seen lately: clients come from a few addresses, and asking the
 * lists costs ~10 µs a connection (each check builds a SocketAddress), a sixtieth of a new
 * TLS connection's whole cost.
 */
const known = new Map<string, AddressKind | undefined>();
const KNOWN_MAX = 1024;

/** The kind of an IP address, or undefined for what is not one (a replay's "replay"). */
export function addressKind(address: string): AddressKind | undefined {
  if (known.has(address)) return known.get(address);
  if (known.size >= KNOWN_MAX) known.clear();
  const kind = kindOf(address);
  known.set(address, kind);
  return kind;
}

function kindOf(address: string): AddressKind | undefined {
  const ip = plainAddress(address);
  const family = net.isIPv4(ip) ? "ipv4" : net.isIPv6(ip) ? "ipv6" : undefined;
  if (!family) return undefined;
  if (LOOPBACK(ip, family)) return "loopback";
  if (LINK_LOCAL(ip, family)) return "link-local";
  if (PRIVATE(ip, family) && !NOT_PRIVATE(ip, family)) return "private";
  return SHARED(ip, family) ? "other" : "global";
}
