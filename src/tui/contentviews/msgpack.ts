import type { ContentView } from "./types.ts";
import { formatJson } from "./json.ts";
import { hex2 } from "./text.ts";

/**
 * MessagePack bodies, shown as the JSON they would be (mitmproxy's msgpack view does the same):
 * binary values as hex strings, extension values as {"ext": type, "data": hex}, 64-bit integers
 * beyond what a double holds as their decimal text, and map keys that are not strings as text.
 */

class MsgpackError extends Error {}

const hex = (b: Uint8Array): string => Array.from(b, hex2).join("");

class Reader {
  at = 0;
  constructor(private readonly b: Uint8Array) {}

  private take(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new MsgpackError(`a value at byte ${this.at} needs ${n} bytes; ${this.b.length - this.at} are left`);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  private view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  private big(v: bigint): number | string {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }

  private str(n: number): string {
    return new TextDecoder().decode(this.take(n));
  }

  private array(n: number, depth: number): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      out[typeof k === "string" ? k : JSON.stringify(k)] = this.value(depth + 1);
    }
    return out;
  }

  private ext(n: number): { ext: number; data: string } {
    const type = this.view(1).getInt8(0);
    return { ext: type, data: hex(this.take(n)) };
  }

  value(depth = 0): unknown {
    if (depth > 256) throw new MsgpackError("values nested more than 256 deep");
    const t = this.take(1)[0] as number;
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t <= 0x8f) return this.map(t & 0x0f, depth);
    if (t <= 0x9f) return this.array(t & 0x0f, depth);
    if (t <= 0xbf) return this.str(t & 0x1f);
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return hex(this.take(this.view(1).getUint8(0)));
      case 0xc5: return hex(this.take(this.view(2).getUint16(0)));
      case 0xc6: return hex(this.take(this.view(4).getUint32(0)));
      case 0xc7: return this.ext(this.view(1).getUint8(0));
      case 0xc8: return this.ext(this.view(2).getUint16(0));
      case 0xc9: return this.ext(this.view(4).getUint32(0));
      case 0xca: return this.view(4).getFloat32(0);
      case 0xcb: return this.view(8).getFloat64(0);
      case 0xcc: return this.view(1).getUint8(0);
      case 0xcd: return this.view(2).getUint16(0);
      case 0xce: return this.view(4).getUint32(0);
      case 0xcf: return this.big(this.view(8).getBigUint64(0));
      case 0xd0: return this.view(1).getInt8(0);
      case 0xd1: return this.view(2).getInt16(0);
      case 0xd2: return this.view(4).getInt32(0);
      case 0xd3: return this.big(this.view(8).getBigInt64(0));
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.str(this.view(1).getUint8(0));
      case 0xda: return this.str(this.view(2).getUint16(0));
      case 0xdb: return this.str(this.view(4).getUint32(0));
      case 0xdc: return this.array(this.view(2).getUint16(0), depth);
      case 0xdd: return this.array(this.view(4).getUint32(0), depth);
      case 0xde: return this.map(this.view(2).getUint16(0), depth);
      case 0xdf: return this.map(this.view(4).getUint32(0), depth);
      default: throw new MsgpackError(`byte 0x${hex2(t)} at ${this.at - 1} starts no MessagePack value`);
    }
  }
}

export const msgpackView: ContentView = {
  title: "MsgPack",
  render(body, _ctx, sink) {
    const reader = new Reader(body);
    const value = reader.value();
    if (reader.at !== body.length) throw new MsgpackError(`${body.length - reader.at} bytes follow the value`);
    formatJson(Buffer.from(JSON.stringify(value) ?? "null"), sink);
  },
};
