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
 * Reads the RST_STREAM and GOAWAY frames in the bytes a server-side http2 session writes. nghttp2 refuses some
 * requests (a malformed pseudo-header, a stream past the concurrency limit) with a RST_STREAM
 * or GOAWAY of its own, and Node tells JavaScript nothing of it: these bytes are where it shows.
 */
export class SentFrames {
  /** A frame's header (and head) cut by a write's end: at most HEADER + HEAD bytes. */
  private pending: Buffer | undefined;
  /** Payload bytes of the current frame still to pass by, once its header and head are read. */
  private skip = 0;

  constructor(private readonly onFrame: (frame: SentFrame) => void) {}

  /** Every byte the session writes passes here: payloads are stepped over, never copied. */
  push(chunk: Buffer): void {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let at = 0;
    while (at < data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      if (data.length - at < HEADER) break;
      const length = data.readUIntBE(at, 3);
      const want = HEADER + Math.min(length, HEAD);
      if (data.length - at < want) break;
      const type = data[at + 3] as number;
      // Only the frames a refusal shows in are built: DATA and HEADERS pass by untouched.
      if (type === FRAME_RST_STREAM || type === FRAME_GOAWAY) this.onFrame({ type, streamId: data.readUInt32BE(at + 5) & 0x7fffffff, head: Buffer.from(data.subarray(at + HEADER, at + want)) });
      at += want;
      this.skip = length - (want - HEADER);
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
  }
}
