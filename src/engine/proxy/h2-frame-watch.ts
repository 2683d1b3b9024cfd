/** One frame the proxy's own HTTP/2 session sent: its header, and the start of its payload. */
export interface SentFrame {
  type: number;
  streamId: number;
  /** Up to the payload's first 8 bytes: RST_STREAM's error code, GOAWAY's last stream and code. */
  head: Buffer;
}

export const FRAME_RST_STREAM = 0x3;
export const FRAME_GOAWAY = 0x7;

const HEADER = 9;
const HEAD = 8;

/**
 * Reads the frames in the bytes a server-side http2 session writes. nghttp2 refuses some
 * requests (a malformed pseudo-header, a stream past the concurrency limit) with a RST_STREAM
 * or GOAWAY of its own, and Node tells JavaScript nothing of it: these bytes are where it shows.
 */
export class SentFrames {
  private pending = Buffer.alloc(0);
  /** Payload bytes of the current frame still to pass by, once its header and head are read. */
  private skip = 0;

  constructor(private readonly onFrame: (frame: SentFrame) => void) {}

  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        continue;
      }
      this.pending = Buffer.concat([this.pending, data]);
      data = Buffer.alloc(0);
      while (this.pending.length >= HEADER) {
        const length = this.pending.readUIntBE(0, 3);
        const want = HEADER + Math.min(length, HEAD);
        if (this.pending.length < want) return;
        this.onFrame({ type: this.pending[3] as number, streamId: this.pending.readUInt32BE(5) & 0x7fffffff, head: Buffer.from(this.pending.subarray(HEADER, want)) });
        const rest = this.pending.subarray(want);
        const left = length - (want - HEADER);
        this.pending = Buffer.alloc(0);
        if (left > 0) {
          this.skip = left;
          data = rest;
          break;
        }
        this.pending = Buffer.from(rest);
      }
    }
  }
}
