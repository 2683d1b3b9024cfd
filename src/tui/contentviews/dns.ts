import * as dnsPacket from "dns-packet";
import type { ContentView } from "./types.ts";
import { dnsPacketLines } from "../../engine/flow/dns-text.ts";
import { visible } from "./text.ts";

/**
 * A DNS message in an HTTP body (DNS over HTTPS, application/dns-message), shown as a DNS flow's
 * messages are: the heading, then the question and record sections.
 */
export const dnsView: ContentView = {
  title: "DNS",
  render(body, _ctx, sink) {
    const packet = dnsPacket.decode(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    for (const line of dnsPacketLines(packet)) {
      if (!sink.push([{ text: visible(line), style: line.endsWith(":") || line.startsWith("DNS ") ? "heading" : undefined }])) return;
    }
  },
};
