import { test } from "node:test";
import assert from "node:assert/strict";
import { SentFrames, type SentFrame } from "../../../src/engine/proxy/h2-frame-watch.ts";

function frame(type: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

test("the RST_STREAM and GOAWAY frames of a session's output are read whatever the writes' boundaries: one byte at a time, a long DATA frame passed over, several in one write", () => {
  const rst = Buffer.alloc(4);
  rst.writeUInt32BE(1);
  const bytes = Buffer.concat([frame(0x4, 0, Buffer.alloc(6)), frame(0x0, 1, Buffer.alloc(20_000, 7)), frame(0x3, 3, rst), frame(0x8, 0, Buffer.alloc(4)), frame(0x7, 0, Buffer.alloc(8))]);
  for (const size of [1, 5, 13, bytes.length]) {
    const seen: SentFrame[] = [];
    const frames = new SentFrames((f) => seen.push(f));
    for (let i = 0; i < bytes.length; i += size) frames.push(bytes.subarray(i, i + size));
    assert.deepEqual(seen.map((f) => [f.type, f.streamId, f.head.length]), [[0x3, 3, 4], [0x7, 0, 8]], `writes of ${size} bytes`);
    assert.equal(seen[0]?.head.readUInt32BE(0), 1);
  }
});
