import type { ContentView, Line } from "./types.ts";
import { hex2, visible } from "./text.ts";

/**
 * MQTT control packets (mitmproxy's MQTT view), as they cross a WebSocket (`mqtt` subprotocol) or
 * a raw TCP stream: the packet type and flags, then what that type carries (CONNECT's client id
 * and credentials, PUBLISH's topic and payload, SUBSCRIBE's topic filters…). MQTT 3.1.1 layout;
 * a message may hold several packets.
 */

const TYPES = ["", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"];

class MqttError extends Error {}

class Reader {
  at: number;
  constructor(
    private readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }

  left(): number {
    return this.end - this.at;
  }

  bytes(n: number): Uint8Array {
    if (this.at + n > this.end) throw new MqttError(`a field at byte ${this.at} needs ${n} bytes; ${this.end - this.at} are left`);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(): number {
    return this.bytes(1)[0] as number;
  }

  u16(): number {
    const b = this.bytes(2);
    return ((b[0] as number) << 8) | (b[1] as number);
  }

  str(): string {
    return new TextDecoder().decode(this.bytes(this.u16()));
  }
}

/** The remaining length (1 to 4 bytes, 7 bits each) and where the packet's body starts. */
function remainingLength(b: Uint8Array, at: number): { length: number; start: number } {
  let length = 0;
  for (let i = 0; i < 4; i++) {
    const byte = b[at + i];
    if (byte === undefined) throw new MqttError(`the remaining length at byte ${at} is cut off`);
    length += (byte & 0x7f) * 128 ** i;
    if ((byte & 0x80) === 0) return { length, start: at + i + 1 };
  }
  throw new MqttError(`the remaining length at byte ${at} runs past four bytes`);
}

const payloadText = (b: Uint8Array): string => {
  try {
    return JSON.stringify(visible(new TextDecoder("utf-8", { fatal: true }).decode(b)));
  } catch {
    return `${Array.from(b.subarray(0, 64), hex2).join("")}${b.length > 64 ? "…" : ""} (${b.length} bytes)`;
  }
};

/** One packet's fields as `name: value` lines. */
function fields(type: number, flags: number, r: Reader): [string, string][] {
  const out: [string, string][] = [];
  switch (type) {
    case 1: {
      out.push(["protocol", `${r.str()} level ${r.u8()}`]);
      const f = r.u8();
      out.push(["keep alive", `${r.u16()} s`], ["client id", JSON.stringify(r.str())]);
      if (f & 0x04) out.push(["will topic", JSON.stringify(r.str())], ["will message", payloadText(r.bytes(r.u16()))]);
      if (f & 0x80) out.push(["username", JSON.stringify(r.str())]);
      if (f & 0x40) out.push(["password", payloadText(r.bytes(r.u16()))]);
      if (f & 0x02) out.push(["clean session", "yes"]);
      break;
    }
    case 2:
      out.push(["session present", r.u8() & 1 ? "yes" : "no"], ["return code", String(r.u8())]);
      break;
    case 3: {
      const qos = (flags >> 1) & 3;
      out.push(["topic", JSON.stringify(r.str())], ["qos", String(qos)]);
      if (qos > 0) out.push(["packet id", String(r.u16())]);
      if (flags & 1) out.push(["retain", "yes"]);
      out.push(["payload", payloadText(r.bytes(r.left()))]);
      break;
    }
    case 8:
    case 10:
      out.push(["packet id", String(r.u16())]);
      while (r.left() > 0) out.push(["topic filter", type === 8 ? `${JSON.stringify(r.str())} qos ${r.u8()}` : JSON.stringify(r.str())]);
      break;
    case 9:
      out.push(["packet id", String(r.u16())], ["granted", Array.from(r.bytes(r.left())).join(", ")]);
      break;
    case 4:
    case 5:
    case 6:
    case 7:
    case 11:
      out.push(["packet id", String(r.u16())]);
      break;
  }
  return out;
}

export const mqttView: ContentView = {
  title: "MQTT",
  render(body, _ctx, sink) {
    let at = 0;
    while (at < body.length) {
      const first = body[at] as number;
      const type = first >> 4;
      if (type === 0) throw new MqttError(`byte ${at} is no MQTT packet type`);
      const { length, start } = remainingLength(body, at + 1);
      if (start + length > body.length) throw new MqttError(`the ${TYPES[type]} packet at byte ${at} says ${length} bytes; ${body.length - start} are there`);
      const line: Line = [{ text: TYPES[type] as string, style: "heading" }];
      if (!sink.push(line)) return;
      for (const [name, value] of fields(type, first & 0x0f, new Reader(body, start, start + length))) {
        if (!sink.push([{ text: `  ${name}: `, style: "key" }, { text: visible(value) }])) return;
      }
      at = start + length;
    }
  },
};

/** MQTT's fixed-header flags: PUBLISH's vary, PUBREL, SUBSCRIBE and UNSUBSCRIBE must be 0010, the rest 0000. */
function flagsValid(type: number, flags: number): boolean {
  return type === 3 || flags === (type === 6 || type === 8 || type === 10 ? 2 : 0);
}

/**
 * Whether an untyped body is exactly a run of MQTT packets (for auto): types and fixed-header
 * flags as the protocol has them, and lengths that add up to the body. Only the framing is read,
 * so choosing the view does not parse what rendering then parses again.
 */
export function sniffMqtt(body: Uint8Array): boolean {
  if (body.length < 2 || body.length > 1024 * 1024) return false;
  try {
    let at = 0;
    while (at < body.length) {
      const type = (body[at] as number) >> 4;
      if (type === 0 || type === 15 || !flagsValid(type, (body[at] as number) & 0x0f)) return false;
      const { length, start } = remainingLength(body, at + 1);
      if (start + length > body.length) return false;
      at = start + length;
    }
    return true;
  } catch {
    return false;
  }
}
