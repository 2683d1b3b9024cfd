import zlib from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";
import { zstdRawFrame } from "./zstd-frame.ts";

/** Content-Encoding values pryx can decode and re-encode, so addons see plain bodies. */
const CODECS: Record<string, { decode(b: Uint8Array): Buffer; encode(b: Uint8Array): Buffer }> = {
  gzip: { decode: (b) => zlib.gunzipSync(b), encode: (b) => zlib.gzipSync(b) },
  "x-gzip": { decode: (b) => zlib.gunzipSync(b), encode: (b) => zlib.gzipSync(b) },
  deflate: { decode: (b) => inflateEither(b), encode: (b) => zlib.deflateSync(b) },
  br: { decode: (b) => zlib.brotliDecompressSync(b), encode: (b) => zlib.brotliCompressSync(b) },
  zstd: { decode: (b) => Buffer.from(zstdDecompress(b)), encode: (b) => zstdRawFrame(b) },
  identity: { decode: (b) => Buffer.from(b), encode: (b) => Buffer.from(b) },
};

/**
 * What `flow.encode` offers, as mitmproxy's `flow.encode.options`. Node 20's zlib has no zstd
 * (it came in Node 22.15): fzstd decodes it, and pryx's encoding is uncompressed (see zstd-frame.ts).
 */
export const BODY_ENCODINGS = ["gzip", "deflate", "br", "zstd"] as const;

// Servers send both zlib-wrapped and raw deflate under "deflate".
function inflateEither(b: Uint8Array): Buffer {
  try {
    return zlib.inflateSync(b);
  } catch {
    return zlib.inflateRawSync(b);
  }
}

/** Decodes a body; an unknown or broken encoding returns undefined (the caller keeps the raw bytes). */
export function decodeContent(raw: Uint8Array, encoding: string | undefined): Uint8Array | undefined {
  const decoded = tryDecodeContent(raw, encoding);
  return "body" in decoded ? decoded.body : undefined;
}

/** Decodes a body, or says why it does not decode. */
export function tryDecodeContent(raw: Uint8Array, encoding: string | undefined): { body: Uint8Array } | { why: string } {
  if (!encoding) return { body: raw };
  const codec = CODECS[encoding.trim().toLowerCase()];
  if (!codec) return { why: `pryx decodes ${Object.keys(CODECS).join(", ")}, one at a time` };
  try {
    return { body: codec.decode(raw) };
  } catch (err) {
    return { why: (err as Error).message };
  }
}

/** Encodes a body; undefined for an encoding pryx does not know (the caller drops the header, as mitmproxy does). */
export function encodeContent(plain: Uint8Array, encoding: string | undefined): Uint8Array | undefined {
  if (!encoding) return plain;
  const codec = CODECS[encoding.trim().toLowerCase()];
  return codec ? codec.encode(plain) : undefined;
}
