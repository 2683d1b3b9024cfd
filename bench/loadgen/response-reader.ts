/**
 * Just enough HTTP/1.1 response framing to know where a response ends: status, Content-Length,
 * chunked, Connection: close. Bodies are counted, never copied, so the generator stays cheap
 * at 100 KiB per response.
 */

const CRLFCRLF = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
}

export class ResponseReader {
  /** Status of the last completed response. */
  status = 0;
  /** The last completed response asked for the connection to close. */
  close = false;

  #state = State.Head;
  #head: Buffer | null = null;
  #left = 0;
  #line = "";
  #pendingStatus = 0;
  #pendingClose = false;

  /** Feeds bytes in; returns how many responses completed inside them. Throws on bad framing. */
  feed(chunk: Buffer): number {
    let buf = chunk;
    let off = 0;
    let done = 0;
    while (off < buf.length) {
      switch (this.#state) {
        case State.Head: {
          if (this.#head) {
            buf = Buffer.concat([this.#head, buf.subarray(off)]);
            off = 0;
            this.#head = null;
          }
          const end = buf.indexOf(CRLFCRLF, off);
          if (end < 0) {
            if (buf.length - off > MAX_HEAD) throw new Error("response head larger than 64 KiB");
            this.#head = Buffer.from(buf.subarray(off));
            return done;
          }
          const complete = this.#onHead(buf.toString("latin1", off, end));
          off = end + 4;
          if (complete) done += this.#finish();
          break;
        }
        case State.Body: {
          const n = Math.min(this.#left, buf.length - off);
          off += n;
          this.#left -= n;
          if (this.#left === 0) done += this.#finish();
          break;
        }
        case State.ChunkSize: {
          off = this.#readLine(buf, off);
          if (off < 0) return done;
          const size = Number.parseInt(this.#line, 16);
          if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size line ${JSON.stringify(this.#line)}`);
          this.#line = "";
          this.#left = size;
          this.#state = size === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.#left, buf.length - off);
          off += n;
          this.#left -= n;
          if (this.#left === 0) {
            this.#left = 2;
            this.#state = State.ChunkDataEnd;
          }
          break;
        }
        case State.ChunkDataEnd: {
          const n = Math.min(this.#left, buf.length - off);
          off += n;
          this.#left -= n;
          if (this.#left === 0) this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          off = this.#readLine(buf, off);
          if (off < 0) return done;
          const blank = this.#line === "";
          this.#line = "";
          if (blank) done += this.#finish();
          break;
        }
      }
    }
    return done;
  }

  /** Mid-response means the peer cut the response short. */
  get idle(): boolean {
    return this.#state === State.Head && this.#head === null;
  }

  /** Returns true when the response has no body left to read. */
  #onHead(head: string): boolean {
    const status = Number(head.slice(9, 12));
    if (!head.startsWith("HTTP/1.") || !Number.isInteger(status)) throw new Error(`not an HTTP/1 response: ${JSON.stringify(head.slice(0, 40))}`);
    // Interim 1xx heads precede the real one; nothing to count.
    if (status < 200) return false;
    this.#pendingStatus = status;
    this.#pendingClose = /\r\nconnection:[^\r]*close/i.test(head) || (head.startsWith("HTTP/1.0") && !/\r\nconnection:[^\r]*keep-alive/i.test(head));
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
      this.#state = State.ChunkSize;
      return false;
    }
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (m) {
      this.#left = Number(m[1]);
      if (this.#left === 0) return true;
      this.#state = State.Body;
      return false;
    }
    if (status === 204 || status === 304) return true;
    throw new Error(`response ${status} has neither Content-Length nor chunked framing`);
  }

  #finish(): number {
    this.status = this.#pendingStatus;
    this.close = this.#pendingClose;
    this.#state = State.Head;
    return 1;
  }

  /** Appends to the current line; returns the offset after its LF, or -1 when it is unfinished. */
  #readLine(buf: Buffer, off: number): number {
    const nl = buf.indexOf(10, off);
    if (nl < 0) {
      this.#line += buf.toString("latin1", off);
      if (this.#line.length > MAX_HEAD) throw new Error("chunk framing line too long");
      return -1;
    }
    this.#line += buf.toString("latin1", off, nl);
    if (this.#line.endsWith("\r")) this.#line = this.#line.slice(0, -1);
    return nl + 1;
  }
}
