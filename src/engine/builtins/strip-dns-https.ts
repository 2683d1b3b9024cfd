import type { Answer } from "dns-packet";
import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { DNSFlow } from "../flow/dns.ts";
import type { Log } from "../log.ts";
import { SVC_KEY_ALPN, SVC_KEY_ECH, decodeAlpn, decodeSvcb, encodeAlpn, encodeSvcb, type SvcParam } from "../flow/svcb.ts";

/** dns-packet names the HTTPS type (65), which it has no codec for, by its number. */
const HTTPS_TYPES = new Set(["UNKNOWN_65", "HTTPS"]);

/**
 * mitmproxy's StripDnsHttpsRecords, for the answers pryx's DNS mode passes on:
 * - with `strip_ech` (on by default) an HTTPS record loses its ECH configs. A browser that has
 *   them encrypts the real server name inside its ClientHello, and pryx, seeing only the outer
 *   name, would present a certificate for the wrong host.
 * - HTTP/3 ids go from its alpn list, always: pryx does not speak QUIC, and a browser told of h3
 *   would try it over UDP, past the proxy.
 * A record that does not parse is passed on as it came, with a line in the event log.
 */
export class StripDnsHttpsRecordsAddon {
  readonly name = "strip_dns_https_records";
  private options: Readonly<Record<string, OptionValue>> = {};

  constructor(private readonly log: Log) {}

  load(loader: Loader): void {
    loader.add_option("strip_ech", "bool", true, "Strip Encrypted ClientHello (ECH) data from DNS HTTPS records so that pryx can generate matching certificates.");
    this.options = loader.options;
  }

  dns_response(flow: DNSFlow): void {
    for (const answer of flow.response?.answers ?? []) {
      if (!HTTPS_TYPES.has(answer.type) || !Buffer.isBuffer((answer as { data?: unknown }).data)) continue;
      const data = (answer as Answer & { data: Buffer }).data;
      try {
        const stripped = this.strip(data);
        if (stripped) (answer as { data: Buffer }).data = stripped;
      } catch (err) {
        this.log.info(`${answer.name}: HTTPS record left as it came: ${(err as Error).message}`);
      }
    }
  }

  /** The record's data without ECH and h3, or undefined when it holds neither. */
  private strip(data: Buffer): Buffer | undefined {
    const rdata = decodeSvcb(data);
    let changed = false;
    const params: SvcParam[] = [];
    for (const p of rdata.params) {
      if (p.key === SVC_KEY_ECH && this.options["strip_ech"]) {
        changed = true;
        continue;
      }
      if (p.key === SVC_KEY_ALPN) {
        const ids = decodeAlpn(p.value);
        const kept = ids.filter((id) => !id.startsWith("h3"));
        if (kept.length !== ids.length) {
          changed = true;
          if (kept.length) params.push({ key: p.key, value: encodeAlpn(kept) });
          continue;
        }
      }
      params.push(p);
    }
    return changed ? encodeSvcb({ ...rdata, params }) : undefined;
  }
}
