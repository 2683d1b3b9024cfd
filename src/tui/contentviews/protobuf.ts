import { LineSink, type ContentView, type Line, type Segment } from "./types.ts";
import { formatJson } from "./json.ts";
import type { MessageSchema } from "../../proto-definitions.ts";
import { hex2, visible } from "./text.ts";

/**
 * Protocol Buffers without a schema, as mitmproxy's protobuf view shows them: each field by its
 * number, varints as integers, fixed32/fixed64 as integers and floats, and a length-delimited
 * field as a nested message when its bytes parse as one, else as text when they are text, else
 * as bytes. gRPC bodies are the same messages in 5-byte frames.
 */

const INDENT = "  ";
/** Deeper than this, a length-delimited field is shown as bytes: real schemas rarely nest further. */
const MAX_DEPTH = 16;
/** Bytes shown of a bytes field before "…". */
const BYTES_SHOWN = 64;

type Field =
  | { no: number; kind: "varint"; value: bigint }
  | { no: number; kind: "fixed64"; bytes: Uint8Array }
  | { no: number; kind: "fixed32"; bytes: Uint8Array }
  | { no: number; kind: "len"; bytes: Uint8Array };

class WireError extends Error {}

function readVarint(b: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < b.length && i < at + 10; i++) {
    const byte = b[i] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
  }
  throw new WireError(`a varint at byte ${at} does not end`);
}

/** Every field of one message, or a WireError when the bytes are not one message exactly. */
function parseMessage(b: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < b.length) {
    const tag = readVarint(b, at);
    at = tag.next;
    const no = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    if (no < 1 || no > 0x1fffffff) throw new WireError(`field number ${no} at byte ${at} is out of range`);
    if (wire === 0) {
      const v = readVarint(b, at);
      fields.push({ no, kind: "varint", value: v.value });
      at = v.next;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (at + size > b.length) throw new WireError(`field ${no} needs ${size} bytes at byte ${at}`);
      fields.push({ no, kind: wire === 1 ? "fixed64" : "fixed32", bytes: b.subarray(at, at + size) });
      at += size;
    } else if (wire === 2) {
      const len = readVarint(b, at);
      at = len.next;
      const end = at + Number(len.value);
      if (len.value > BigInt(b.length) || end > b.length) throw new WireError(`field ${no} says ${len.value} bytes at byte ${at}; ${b.length - at} are left`);
      fields.push({ no, kind: "len", bytes: b.subarray(at, end) });
      at = end;
    } else {
      // Groups (3, 4) are deprecated and 6, 7 do not exist: not a message this view can read.
      throw new WireError(`field ${no} has wire type ${wire}, which this view does not read`);
    }
  }
  return fields;
}

/** Text a person would call text: valid UTF-8 with no control characters but tab and newlines. */
function asText(b: Uint8Array): string | undefined {
  if (b.length === 0) return "";
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

function bytesText(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < Math.min(b.length, BYTES_SHOWN); i++) out += hex2(b[i] as number);
  return `${out}${b.length > BYTES_SHOWN ? "…" : ""}`;
}

function fixedLine(f: Extract<Field, { kind: "fixed32" | "fixed64" }>): Segment[] {
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  const int = f.kind === "fixed32" ? String(view.getUint32(0, true)) : String(view.getBigUint64(0, true));
  const float = f.kind === "fixed32" ? view.getFloat32(0, true) : view.getFloat64(0, true);
  return [
    { text: int, style: "number" },
    { text: ` (${f.kind}; as ${f.kind === "fixed32" ? "float" : "double"} ${Number.isFinite(float) ? String(float) : "not a number"})`, style: "dim" },
  ];
}

function pushFields(fields: Field[], depth: number, sink: LineSink): void {
  const pad = INDENT.repeat(depth);
  for (const f of fields) {
    if (!sink.more()) return;
    const key: Segment[] = [{ text: pad }, { text: String(f.no), style: "key" }, { text: ": ", style: "punct" }];
    if (f.kind === "varint") {
      // A negative int32 or int64 is sent as ten bytes of two's complement: say what it likely was.
      // (A sint's zigzag cannot be told from an unsigned value, so it is not guessed.)
      const also = f.value >= 1n << 63n ? ` (as int64 ${f.value - (1n << 64n)})` : "";
      sink.push([...key, { text: String(f.value), style: "number" }, ...(also ? [{ text: also, style: "dim" as const }] : [])]);
    } else if (f.kind !== "len") {
      sink.push([...key, ...fixedLine(f)]);
    } else {
      let nested: Field[] | undefined;
      const text = asText(f.bytes);
      if (text === undefined && depth < MAX_DEPTH && f.bytes.length > 0) {
        try {
          nested = parseMessage(f.bytes);
        } catch {
          nested = undefined;
        }
      }
      if (nested) {
        sink.push([...key, { text: "{", style: "punct" }]);
        pushFields(nested, depth + 1, sink);
        sink.push([{ text: pad }, { text: "}", style: "punct" }]);
      } else if (text !== undefined) {
        const lines = text.split("\n");
        const quoted = (s: string): Segment => ({ text: JSON.stringify(visible(s)), style: "string" });
        sink.push([...key, quoted(lines[0] as string)]);
        for (const more of lines.slice(1)) sink.push([{ text: `${pad}${INDENT}` }, quoted(`\n${more}`)]);
      } else {
        sink.push([...key, { text: bytesText(f.bytes), style: "string" }, { text: ` (${f.bytes.length} bytes)`, style: "dim" }]);
      }
    }
  }
}

/**
 * One message: with a schema, its fields by name (as JSON, 64-bit numbers and enums as text,
 * bytes as base64) under the type's name; bytes the type does not decode, and bodies without
 * one, by field number.
 */
function pushMessage(bytes: Uint8Array, schema: MessageSchema | undefined, depth: number, sink: LineSink): void {
  const pad = INDENT.repeat(depth);
  if (schema) {
    let json: Buffer;
    try {
      json = Buffer.from(JSON.stringify(schema.decode(bytes)));
    } catch (err) {
      if (!sink.push([{ text: pad }, { text: `not a ${schema.name} (${err instanceof Error ? err.message : String(err)}); by field number:`, style: "error" }])) return;
      return pushFields(parseMessage(bytes), depth, sink);
    }
    if (!sink.push([{ text: pad }, { text: schema.name, style: "dim" }])) return;
    const lines = new LineSink(sink.max);
    formatJson(json, lines);
    for (const line of lines.lines) if (!sink.push(depth ? [{ text: pad }, ...line] : line)) return;
    return;
  }
  pushFields(parseMessage(bytes), depth, sink);
}

export const protobufView: ContentView = {
  title: "Protobuf",
  render(body, ctx, sink) {
    pushMessage(body, ctx.schema, 0, sink);
  },
};

/** gRPC's length-prefixed messages (a flag byte, then a big-endian length), each a protobuf message. */
export const grpcView: ContentView = {
  title: "gRPC",
  render(body, ctx, sink) {
    let at = 0;
    for (let n = 1; at < body.length; n++) {
      if (at + 5 > body.length) throw new WireError(`gRPC frame ${n} is cut off in its 5-byte header`);
      const compressed = body[at] === 1;
      const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
      const message = body.subarray(at + 5, at + 5 + length);
      if (message.length < length) throw new WireError(`gRPC frame ${n} says ${length} bytes; ${message.length} are there`);
      at += 5 + length;
      // A compressed message (its grpc-encoding header says how) is shown as the bytes it is.
      const heading: Line = [{ text: `gRPC message ${n} (${length} bytes${compressed ? ", compressed" : ""})`, style: "heading" }];
      if (!sink.push(heading)) return;
      if (compressed) sink.push([{ text: bytesText(message), style: "string" }]);
      else pushMessage(message, ctx.schema, 1, sink);
    }
  },
};
