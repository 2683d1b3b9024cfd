/**
 * mitmproxy's `protobuf_definitions`: a .proto file whose services name the messages of gRPC
 * calls, so their bodies show field names instead of numbers. The message type comes from the
 * request path, `/package.Service/Method`: its input type for the request, its output type for
 * the response. protobufjs reads the file (imports, nested types, enums, maps, oneofs).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import type protobuf from "protobufjs";

let protobufjs: typeof protobuf | undefined;
/** protobufjs, loaded the first time a .proto is: most sessions set no protobuf_definitions. */
function pb(): typeof protobuf {
  protobufjs ??= createRequire(import.meta.url)("protobufjs") as typeof protobuf;
  return protobufjs;
}

/** A message type bodies are decoded with, as the views need it. */
export interface MessageSchema {
  /** The type's full name, e.g. "shop.v1.Order". */
  readonly name: string;
  /** The body as a plain object (64-bit numbers and enums as text, bytes as base64); throws on bytes that are not this type. */
  decode(bytes: Uint8Array): unknown;
}

/** The message type of a call's request (`request`) or response body, from its path; undefined when unknown. */
export type SchemaFor = (path: string | undefined, request: boolean) => MessageSchema | undefined;

export class ProtoDefinitions {
  private constructor(
    readonly file: string,
    private readonly root: protobuf.Root,
  ) {}

  /** Reads and resolves `file`; an error names the file and what is wrong with it. */
  static load(file: string): ProtoDefinitions {
    if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
    try {
      const root = new (pb().Root)().loadSync(file, { keepCase: true });
      root.resolveAll();
      return new ProtoDefinitions(file, root);
    } catch (err) {
      throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The message of a call to `path` (`/package.Service/Method`): the method's input type for a request, its output type for a response. */
  schemaFor(path: string | undefined, request: boolean): MessageSchema | undefined {
    const m = /^\/([^/?]+)\/([^/?]+)/.exec(path ?? "");
    if (!m) return undefined;
    let service: protobuf.Service;
    try {
      service = this.root.lookupService(m[1]!);
    } catch {
      return undefined;
    }
    const method = service.methods[m[2]!];
    const type = request ? method?.resolvedRequestType : method?.resolvedResponseType;
    if (!type) return undefined;
    return {
      name: type.fullName.replace(/^\./, ""),
      decode: (bytes) => {
        checkWireTypes(type, bytes);
        return type.toObject(type.decode(bytes), { longs: String, enums: String, bytes: String });
      },
    };
  }
}

const WIRE_NAMES = ["a varint", "a fixed64", "length-delimited", "a group start", "a group end", "a fixed32"];

/** The wire type a field of this protobuf type is sent as (a packed repeated scalar: length-delimited too). */
function wireTypeOf(field: protobuf.Field): number {
  const t = field.type;
  if (field.resolvedType instanceof pb().Enum) return 0;
  if (["double", "fixed64", "sfixed64"].includes(t)) return 1;
  if (["float", "fixed32", "sfixed32"].includes(t)) return 5;
  if (["string", "bytes"].includes(t) || field.resolvedType instanceof pb().Type || field.map) return 2;
  return 0;
}

/**
 * protobufjs skips a field whose number or wire type the type does not have, and a body of
 * another type decodes to a few defaults: the message's own fields are checked first, so a
 * wrong type is said, not shown as an empty message.
 */
function checkWireTypes(type: protobuf.Type, bytes: Uint8Array): void {
  const r = pb().Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wire = tag & 7;
    const field = type.fieldsById[no];
    if (!field) throw new Error(`it has no field ${no}`);
    const expected = wireTypeOf(field);
    if (wire !== expected && !(wire === 2 && field.repeated)) throw new Error(`field ${no} (${field.name}) is ${WIRE_NAMES[expected]}, here ${WIRE_NAMES[wire] ?? `wire type ${wire}`}`);
    r.skipType(wire);
  }
}

/** Definitions by file, read again when the file changes. */
const loaded = new Map<string, { mtimeMs: number; defs: ProtoDefinitions }>();

export function protoDefinitions(file: string): ProtoDefinitions {
  const mtimeMs = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const cached = loaded.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.defs;
  const defs = ProtoDefinitions.load(file);
  loaded.set(file, { mtimeMs, defs });
  return defs;
}

/**
 * The schemas of the protobuf_definitions file `file()` names (asked at each use: the option can
 * change), or none without one. A file that stops parsing after pryx started (it was checked
 * then) gives no schemas and says why once.
 */
export function schemasFrom(file: () => string | undefined, warn: (msg: string) => void): SchemaFor {
  let said: string | undefined;
  return (path, request) => {
    const f = file();
    if (!f) return undefined;
    try {
      return protoDefinitions(f).schemaFor(path, request);
    } catch (err) {
      if (said !== f) warn(`protobuf_definitions: ${err instanceof Error ? err.message : String(err)}`);
      said = f;
      return undefined;
    }
  };
}
