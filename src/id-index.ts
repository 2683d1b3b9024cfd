import { IntMap } from "./int-map.ts";

/** FNV-1a of an id, to 30 bits: the IdIndex key. */
export function hashId(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/** The same hash over bytes: an ASCII id hashes alike as a string and as its UTF-8 bytes. */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h & 0x3fffffff;
}

/** An id's hash as `hashBytes` gives it for the id's UTF-8 bytes. */
export function hashIdBytes(id: string): number {
  return hashBytes(Buffer.from(id, "utf8"));
}

/**
 * Flow id → arrival number (`seq`), for the stores that keep flows by seq (see seq-map.ts).
 *
 * Keyed by a 30-bit hash of the id, so an entry is two integers in an `IntMap` and no id
 * string is kept alive for it: a store holding a million flows holds no million id
 * strings for the collector, and entering a flow costs a hash, not a copy. The id behind a
 * hash is checked on every lookup through `idOf`; the few ids whose hash another live id
 * already holds are kept by their string instead.
 */
export class IdIndex {
  private readonly byHash = new IntMap();
  private readonly collided = new Map<string, number>();

  /**
   * `idOf(seq)`: the id of the flow stored under `seq`, or undefined when there is none.
   * `hashOf`: how an id string hashes (`hashIdBytes` for a store that hashes ids as bytes).
   */
  constructor(
    private readonly idOf: (seq: number) => string | undefined,
    private readonly hashOf: (id: string) => number = hashId,
  ) {}

  /** Enters the flow stored under `seq`, whose id is `id`. */
  set(id: string, seq: number): void {
    this.setHashed(this.hashOf(id), seq);
  }

  /**
   * Enters the flow stored under `seq` by its id's hash, for a caller that hashes the id where it
   * lies: the id itself is asked of `idOf` only when another live id holds the hash.
   */
  setHashed(hash: number, seq: number): void {
    const there = this.byHash.get(hash);
    if (there === undefined || there === seq) {
      this.byHash.set(hash, seq);
      return;
    }
    const id = this.idOf(seq);
    const thereId = this.idOf(there);
    if (id === undefined) return;
    if (thereId === undefined || thereId === id) this.byHash.set(hash, seq);
    else this.collided.set(id, seq);
  }

  get(id: string): number | undefined {
    const c = this.collided.get(id);
    if (c !== undefined) return c;
    const seq = this.byHash.get(this.hashOf(id));
    return seq !== undefined && this.idOf(seq) === id ? seq : undefined;
  }

  /** Forgets a flow; call it while `idOf` still finds the flow. */
  delete(id: string): void {
    if (this.collided.delete(id)) return;
    const h = this.hashOf(id);
    const seq = this.byHash.get(h);
    if (seq !== undefined && this.idOf(seq) === id) this.byHash.delete(h);
  }

  clear(): void {
    this.byHash.clear();
    this.collided.clear();
  }
}
