/**
 * Spoofs IPv6 answers (mitmproxy's examples/addons/dns-simple.py): an AAAA query for a name in
 * `dns_spoof_local` is answered with ::1, one for a name in `dns_spoof_missing` with NXDOMAIN,
 * and any other AAAA query with no records (the name exists, it has no IPv6). Other query types
 * go to the name server as usual.
 *
 *   pryx dump -m dns@5353 -s addons/dns-spoof.ts --set dns_spoof_local=example.com --set dns_spoof_missing=example.org
 */
import { dns, type Addon, type Loader } from "pryx";

class DnsSpoof implements Addon {
  readonly name = "dns-spoof";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("dns_spoof_local", "str[]", ["example.com"], "Names whose AAAA query the dns-spoof addon answers with ::1.");
    loader.add_option("dns_spoof_missing", "str[]", ["example.org"], "Names whose AAAA query the dns-spoof addon answers with NXDOMAIN.");
  }

  dns_request(flow: dns.DNSFlow): void {
    const q = flow.request.question;
    if (!q || q.type !== dns.types.AAAA) return;
    const named = (option: string): boolean => ((this.loader?.options[option] ?? []) as string[]).includes(q.name);
    console.log(`dns-spoof: spoofing the IPv6 records of ${q.name}`);
    if (named("dns_spoof_local"))
      flow.response = flow.request.succeed([new dns.ResourceRecord({ name: q.name, type: dns.types.AAAA, class_: dns.classes.IN, ttl: dns.ResourceRecord.DEFAULT_TTL, data: "::1" })]);
    else if (named("dns_spoof_missing")) flow.response = flow.request.fail(dns.response_codes.NXDOMAIN);
    else flow.response = flow.request.succeed([]);
  }
}

export default new DnsSpoof();
