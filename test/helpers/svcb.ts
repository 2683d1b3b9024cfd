import { encodeAlpn } from "../../src/engine/flow/svcb.ts";

/** An HTTPS record's data as a resolver sends it: priority 1, target ".", alpn h3,h2, ech, ipv4hint. */
export function httpsRdata(opts: { alpn?: string[]; ech?: boolean } = {}): Buffer {
  const params: Buffer[] = [];
  const param = (key: number, value: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(key);
    h.writeUInt16BE(value.length, 2);
    params.push(h, value);
  };
  param(1, encodeAlpn(opts.alpn ?? ["h3", "h2"]));
  if (opts.ech ?? true) param(5, Buffer.from("0045fe0d0041aa", "hex"));
  param(4, Buffer.from([104, 16, 0, 1]));
  return Buffer.concat([Buffer.from([0, 1, 0]), ...params]);
}
