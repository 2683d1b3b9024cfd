/**
 * Small bodies of packed flows, copied end to end into shared chunks. Each body a flow keeps
 * is otherwise two or three heap objects (the view, often its own ArrayBuffer) for the garbage
 * collector to walk; in a chunk it is three numbers. Large bodies are not copied: their
 * objects are few against their bytes.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Chunks are cut from regions of this many, doubling from the first to the last. */
const FIRST_REGION_CHUNKS = 4;
const MAX_REGION_CHUNKS = 64;
/** Bodies above this are kept as they are. */
export const SLAB_MAX_BODY = 64 * 1024;

export class BodySlab {
  private readonly chunks: (Buffer | undefined)[] = [];
  /** Bytes still in use per chunk; a chunk at 0 other than the current one is let go. */
  private readonly used: number[] = [];
  private current = -1;
  private offset = CHUNK_BYTES;
  private region: Buffer | undefined;
  private regionUsed = 0;
  private regionChunks = FIRST_REGION_CHUNKS;
  /** Bytes in use in all chunks. */
  private total = 0;

  /** Copies `body` (at most SLAB_MAX_BODY bytes) in, and writes its chunk and offset to `place[at]`, `place[at + 1]`. */
  put(body: Uint8Array, place: Float64Array, at: number): void {
    if (this.offset + body.length > CHUNK_BYTES) {
      this.current = this.chunks.length;
      this.chunks.push(this.newChunk());
      this.used.push(0);
      this.offset = 0;
    }
    const chunk = this.current;
    (this.chunks[chunk] as Buffer).set(body, this.offset);
    place[at] = chunk;
    place[at + 1] = this.offset;
    this.offset += body.length;
    this.used[chunk] = (this.used[chunk] as number) + body.length;
    this.total += body.length;
  }

  /**
   * A chunk cut from the current region. V8 counts every Buffer allocated as external memory,
   * and each 64 MiB more of it starts a full collection of the heap, which holds every packed
   * flow: a chunk of its own per 4 MiB of bodies made that every second or two under load.
   * A region is counted once; its pages take memory only as bodies are written to them, and it
   * is freed when none of its chunks holds a body any more.
   */
  private newChunk(): Buffer {
    if (!this.region || this.regionUsed === this.region.length) {
      this.region = Buffer.allocUnsafeSlow(this.regionChunks * CHUNK_BYTES);
      this.regionUsed = 0;
      this.regionChunks = Math.min(this.regionChunks * 2, MAX_REGION_CHUNKS);
    }
    const chunk = this.region.subarray(this.regionUsed, this.regionUsed + CHUNK_BYTES);
    this.regionUsed += CHUNK_BYTES;
    return chunk;
  }

  /** The body's bytes, as a view of its chunk. */
  get(chunk: number, offset: number, length: number): Buffer {
    const c = this.chunks[chunk];
    if (!c) throw new Error(`packed body in released chunk ${chunk}`);
    return c.subarray(offset, offset + length);
  }

  release(chunk: number, length: number): void {
    const left = (this.used[chunk] as number) - length;
    this.used[chunk] = left;
    this.total -= length;
    // No body left at all (every flow cleared): the current chunk and its region go too.
    if (this.total === 0) this.empty();
    else if (left === 0 && chunk !== this.current) this.chunks[chunk] = undefined;
  }

  private empty(): void {
    this.chunks.length = 0;
    this.used.length = 0;
    this.current = -1;
    this.offset = CHUNK_BYTES;
    this.region = undefined;
    this.regionUsed = 0;
    this.regionChunks = FIRST_REGION_CHUNKS;
  }

  /** Chunks held, for tests. */
  get chunkCount(): number {
    return this.chunks.filter((c) => c !== undefined).length;
  }
}
