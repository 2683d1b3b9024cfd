/**
 * Sends a device's web traffic to pryx by DNS, for devices that ignore proxy settings on a
 * network where no firewall rule can redirect them: pryx is the device's DNS server, every A
 * query is answered with pryx's own address, and pryx's transparent listeners on 80 and 443 take
 * the connections that follow, each naming its server by TLS SNI or HTTP Host header. AAAA
 * queries get no answer, so the device uses IPv4; names in `dns_to_pryx_except` are resolved
 * as usual (pryx's own upstream lookups do not go through its DNS mode, so nothing loops).
 *
 *   sudo pryx -m dns@53 -m transparent@80 -m transparent@443 --listen-host 0.0.0.0 \
 *     -s addons/dns-to-pryx.ts --set dns_to_pryx=192.168.1.10
 *
 * then set the device's DNS server to 192.168.1.10 and trust pryx's CA on it (http://pryx.it/).
 */
import net from "node:net";
import { dns, type Addon, type Loader } from "pryx";

class DnsToPryx implements Addon {
  readonly name = "dns-to-pryx";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("dns_to_pryx", "optional str", undefined, "The IPv4 address every A query is answered with: pryx's, as the device reaches it.", undefined, {
      validate: (v) => {
        if (typeof v === "string" && !net.isIPv4(v)) throw new Error(`${JSON.stringify(v)} is not an IPv4 address`);
      },
    });
    loader.add_option("dns_to_pryx_except", "str[]", [], "Names (and their subdomains) resolved as usual.");
  }

  dns_request(flow: dns.DNSFlow): void {
    const address = this.loader?.options["dns_to_pryx"];
    const q = flow.request.question;
    if (typeof address !== "string" || !q) return;
    const except = (this.loader?.options["dns_to_pryx_except"] ?? []) as string[];
    const name = q.name.toLowerCase().replace(/\.$/, "");
    if (except.some((e) => name === e.toLowerCase() || name.endsWith(`.${e.toLowerCase()}`))) return;
    if (q.type === "A") flow.response = flow.request.succeed([new dns.ResourceRecord({ name: q.name, type: "A", ttl: 30, data: address })]);
    else if (q.type === "AAAA") flow.response = flow.request.succeed([]);
  }
}

export default new DnsToPryx();
