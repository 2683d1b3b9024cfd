import dgram from "node:dgram";
import dnsPacket, { type Packet } from "dns-packet";

/** One DNS query over UDP to 127.0.0.1:port, and its decoded answer; rejects when none comes in time. */
export function dnsQuery(port: number, name: string, { type = "A", timeoutMs = 5000 }: { type?: "A" | "AAAA"; timeoutMs?: number } = {}): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`DNS query timed out: no answer to ${type} ${name} in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(m));
    });
    sock.send(dnsPacket.encode({ id: 4242, type: "query", flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), port, "127.0.0.1");
  });
}
