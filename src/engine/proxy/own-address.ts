import os from "node:os";
import net from "node:net";
import type { Address } from "../flow/connection.ts";

/** The addresses pryx's own TCP listeners are bound to (`0.0.0.0` and `::` for every interface). */
export type BoundAddresses = () => readonly Address[];

const unbracketed = (host: string): string => host.replace(/^\[|\]$/g, "").toLowerCase();

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || (net.isIPv4(host) && host.startsWith("127."));
}

/** This machine's interface addresses, and the names that mean "here". */
function localAddresses(): Set<string> {
  const out = new Set(["localhost", "0.0.0.0", "::"]);
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}

/**
 * Whether a connection to `address` would reach one of pryx's own listeners: a client asking
 * pryx for pryx (`curl -x :8080 http://127.0.0.1:8080/`) would otherwise loop, each hop a new
 * request to itself, as mitmproxy's proxyserver refuses too.
 */
export function isOwnAddress([host, port]: Address, bound: readonly Address[]): boolean {
  const h = unbracketed(host);
  for (const [listenHost, listenPort] of bound) {
    if (listenPort !== port) continue;
    const l = unbracketed(listenHost);
    if (l === "0.0.0.0" || l === "::") {
      if (isLoopback(h) || localAddresses().has(h)) return true;
    } else if (l === h || (isLoopback(l) && isLoopback(h))) return true;
  }
  return false;
}
