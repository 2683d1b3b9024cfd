/**
 * Where a packed flow keeps what: its text fields in order, its number slots, its flags, and
 * the slabs shared by every packed flow of a store. `packed.ts` writes and reads flows in this
 * layout; `packed-view.ts` reads them in place for filters.
 */
import type { Client, Server } from "./connection.ts";
import { BodySlab } from "./body-slab.ts";
import { BodySpill, SpilledBody } from "./body-spill.ts";
import { NumberSlab } from "../../number-slab.ts";
import { CLIENT_NUMS, SERVER_NUMS } from "./packed-connection.ts";

export const SEP = "\u0000";

/** Number slots per flow in the slab, by name. */
export const N_CREATED = 0;
export const N_PORT = 1;
export const N_REQ_START = 2;
export const N_REQ_END = 3;
export const N_STATUS = 4;
export const N_RES_START = 5;
export const N_RES_END = 6;
export const N_ERROR_TS = 7;
export const N_FLAGS = 8;
export const N_REQ_HEADERS = 9;
export const N_RES_HEADERS = 10;
/** Where each body is in the body slab: chunk, offset, length (-1: not there; see `putBody`). */
export const N_REQ_BODY = 11;
export const N_RES_BODY = 14;
export const N_CLIENT = 17;
export const N_SERVER = N_CLIENT + CLIENT_NUMS;
export const NUMS = N_SERVER + SERVER_NUMS;

/** Text fields: pretty_url, id, marked, comment, is_replay, error, then the request's method, scheme, host, path, authority, version, then its headers. */
export const REQ_HEADERS = 12;

export const F_REQ_STREAM = 1;
export const F_RES_STREAM = 2;
export const F_RESPONSE = 4;
export const F_ERROR = 8;
export const F_CLIENT_PACKED = 16;
export const F_SERVER_PACKED = 32;
/** The flow has metadata: its JSON is the text's last field. */
export const F_METADATA = 64;

/** Where packed flows keep their numbers and small bodies, and (`spill_bodies`) their large ones; one per store. */
export class PackArena {
  readonly numbers = new NumberSlab(NUMS);
  readonly bodies = new BodySlab();
  readonly spill = new BodySpill();
  /** Large bodies go to `spill` as flows are packed. */
  spillBodies = false;
  /**
   * Bodies read back from `spill`, by the buffer handed out: a flow unpacked to be shown and packed
   * again at the next flush points at the bytes already on disk instead of writing them again.
   * (Pryx's edits give a message a new buffer; one changed in place would keep the old bytes.)
   */
  readonly unspilled = new WeakMap<Uint8Array, SpilledBody>();
}

/** A large body: kept as it was, or spilled to disk. */
export type LargeBody = Uint8Array | SpilledBody;

export class PackedHTTPFlow {
  constructor(
    readonly seq: number,
    readonly slot: number,
    readonly text: string,
    /** Bodies too large for the slab, kept as they were or spilled. */
    readonly requestBody: LargeBody | undefined,
    readonly responseBody: LargeBody | undefined,
    /** The connections while open; undefined once packed into the text. */
    readonly client: Client | undefined,
    readonly server: Server | undefined,
    /** Kept out of the text: `max_flows` eviction spares marked flows without unpacking any. */
    readonly marked: boolean,
  ) {}
}

export function getBody(kept: LargeBody | undefined, arena: PackArena, n: Float64Array, at: number): Uint8Array | undefined {
  const length = n[at + 2] as number;
  if (length === -1) {
    if (!(kept instanceof SpilledBody)) return kept;
    const bytes = arena.spill.read(kept);
    arena.unspilled.set(bytes, kept);
    return bytes;
  }
  if (length === 0) return Buffer.alloc(0);
  return arena.bodies.get(n[at] as number, n[at + 1] as number, length);
}
