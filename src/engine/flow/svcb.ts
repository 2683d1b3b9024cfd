/**
 * The RDATA of SVCB and HTTPS records (RFC 9460 §2.2), which dns-packet passes through as
 * bytes: SvcPriority, an uncompressed TargetName, then SvcParams as key, length, value, in
 * ascending key order. Only what pryx rewrites is read; every other byte is kept as it was.
 */
export const SVC_KEY_ALPN = 1;
export const SVC_KEY_ECH = 5;

export interface SvcParam {
  readonly key: number;
  readonly value: Buffer;
}

export interface SvcbRdata {
  readonly priority: number;
  /** The TargetName in wire form, labels and the root's zero byte. */
  readonly target: Buffer;
  readonly params: readonly SvcParam[];
}

/** Reads SVCB/HTTPS RDATA; throws, naming what is wrong, on bytes that are not. */
export function decodeSvcb(data: Buffer): SvcbRdata {
  if (data.length < 3) throw new Error(`SVCB data of ${data.length} bytes is too short`);
  const priority = data.readUInt16BE(0);
  let at = 2;
  for (;;) {
    const len = data[at];
    if (len === undefined) throw new Error("SVCB target name runs past the record");
    if (len > 63) throw new Error(`SVCB target name has a label of ${len} bytes (compressed names are not allowed)`);
    at += 1 + len;
    if (len === 0) break;
  }
  if (at > data.length) throw new Error("SVCB target name runs past the record");
  const target = data.subarray(2, at);
  const params: SvcParam[] = [];
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error("SVCB parameter header runs past the record");
    const key = data.readUInt16BE(at);
    const len = data.readUInt16BE(at + 2);
    if (at + 4 + len > data.length) throw new Error(`SVCB parameter ${key} runs past the record`);
    params.push({ key, value: data.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  return { priority, target, params };
}

export function encodeSvcb(r: SvcbRdata): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(r.priority);
  const parts: Buffer[] = [head, r.target];
  for (const p of r.params) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(p.key);
    h.writeUInt16BE(p.value.length, 2);
    parts.push(h, p.value);
  }
  return Buffer.concat(parts);
}

/** An alpn value's protocol ids (each a length byte, then the id). */
export function decodeAlpn(value: Buffer): string[] {
  const ids: string[] = [];
  for (let at = 0; at < value.length; ) {
    const len = value[at] as number;
    if (at + 1 + len > value.length) throw new Error("SVCB alpn value runs past its parameter");
    ids.push(value.subarray(at + 1, at + 1 + len).toString("latin1"));
    at += 1 + len;
  }
  return ids;
}

export function encodeAlpn(ids: readonly string[]): Buffer {
  return Buffer.concat(ids.map((id) => Buffer.concat([Buffer.from([id.length]), Buffer.from(id, "latin1")])));
}

/** dns-packet's name for a type it has no codec for, by number, and the names they are known by. */
export const SVCB_TYPE_NAMES: Readonly<Record<string, string>> = { UNKNOWN_64: "SVCB", UNKNOWN_65: "HTTPS" };

const KEY_NAMES = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"];

function targetText(target: Buffer): string {
  const labels: string[] = [];
  for (let at = 0; target[at]; at += 1 + (target[at] as number)) labels.push(target.subarray(at + 1, at + 1 + (target[at] as number)).toString("latin1"));
  return labels.length ? `${labels.join(".")}.` : ".";
}

function valueText(p: SvcParam): string {
  const v = p.value;
  switch (p.key) {
    case 1:
      return decodeAlpn(v).join(",");
    case 3:
      return v.length === 2 ? String(v.readUInt16BE(0)) : v.toString("hex");
    case 4:
      return Array.from({ length: v.length >> 2 }, (_, i) => [...v.subarray(i * 4, i * 4 + 4)].join(".")).join(",");
    case 5:
      return v.toString("base64");
    case 6:
      return Array.from({ length: v.length >> 4 }, (_, i) => Array.from({ length: 8 }, (_, j) => v.readUInt16BE(i * 16 + j * 2).toString(16)).join(":")).join(",");
    default:
      return v.toString("hex");
  }
}

/** SVCB or HTTPS record data in its presentation form, or `otherwise(data)` for data that is not SVCB bytes. */
export function svcbTextOr(data: unknown, otherwise: (data: unknown) => string): string {
  if (!Buffer.isBuffer(data)) return otherwise(data);
  try {
    return svcbText(data);
  } catch {
    return otherwise(data);
  }
}

/** RFC 9460's presentation form: `1 . alpn=h2,http/1.1 ipv4hint=104.16.0.1`. */
export function svcbText(data: Buffer): string {
  const r = decodeSvcb(data);
  const params = r.params.map((p) => {
    const name = KEY_NAMES[p.key] ?? `key${p.key}`;
    return p.value.length || p.key !== 2 ? `${name}=${valueText(p)}` : name;
  });
  return [String(r.priority), targetText(r.target), ...params].join(" ");
}
