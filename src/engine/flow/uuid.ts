import { randomFillSync } from "node:crypto";

/**
 * Random (v4) UUIDs as flat strings. node:crypto's randomUUID() returns a string built by
 * concatenation: a tree of about twenty small heap objects per id, which a console holding
 * 100,000 flows keeps (and the garbage collector walks) for every flow and connection.
 */
const BATCH = 256;
const pool = Buffer.alloc(16 * BATCH);
let next = BATCH;
const out = Buffer.alloc(36);
const HEX = Buffer.from("0123456789abcdef", "latin1");
/** Where each of the 16 bytes goes in the 36-character form. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
out.write("-", 8, "latin1");
out.write("-", 13, "latin1");
out.write("-", 18, "latin1");
out.write("-", 23, "latin1");

export function uuid(): string {
  if (next === BATCH) {
    randomFillSync(pool);
    next = 0;
  }
  const base = 16 * next++;
  pool[base + 6] = (pool[base + 6]! & 0x0f) | 0x40;
  pool[base + 8] = (pool[base + 8]! & 0x3f) | 0x80;
  for (let i = 0; i < 16; i++) {
    const b = pool[base + i]!;
    const at = AT[i]!;
    out[at] = HEX[b >> 4]!;
    out[at + 1] = HEX[b & 15]!;
  }
  return out.toString("latin1", 0, 36);
}
