/**
 * A Zstandard frame (RFC 8878) whose blocks hold the bytes as they are. Node 20's zlib has no
 * zstd compressor, but a body re-encoded after an edit must still be zstd for the client that
 * asked for it: a frame of raw blocks is, and every decoder reads it. It is not smaller than
 * the body; pryx decodes zstd with fzstd.
 */
const MAGIC = 0xfd2fb528;
/** RFC 8878 3.1.1.2: no block may hold more than 128 KiB. */
const MAX_BLOCK = 128 * 1024;
/** Single segment (no window descriptor, the content size is the window) with a 4-byte content size. */
const DESCRIPTOR = (2 << 6) | (1 << 5);
const HEADER_BYTES = 4 + 1 + 4;
const BLOCK_HEADER_BYTES = 3;
const LAST_BLOCK = 1;

export function zstdRawFrame(body: Uint8Array): Buffer {
  if (body.length > 0xffffffff) throw new Error(`a body of ${body.length} bytes is too large for a zstd frame with a 4-byte content size`);
  const blocks = Math.max(1, Math.ceil(body.length / MAX_BLOCK));
  const out = Buffer.allocUnsafe(HEADER_BYTES + blocks * BLOCK_HEADER_BYTES + body.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt8(DESCRIPTOR, 4);
  out.writeUInt32LE(body.length, 5);
  let at = HEADER_BYTES;
  for (let i = 0; i < blocks; i++) {
    const start = i * MAX_BLOCK;
    const size = Math.min(MAX_BLOCK, body.length - start);
    // Block header, little-endian: bit 0 last block, bits 1-2 type (0: raw), bits 3-23 size.
    out.writeUIntLE((size << 3) | (i === blocks - 1 ? LAST_BLOCK : 0), at, BLOCK_HEADER_BYTES);
    at += BLOCK_HEADER_BYTES;
    out.set(body.subarray(start, start + size), at);
    at += size;
  }
  return out;
}
