import net from "node:net";

/**
 * A client connection that sends exact bytes and reads exact bytes, for framing tests
 * where node:http would hide what happened (interim responses, bodies that must not come,
 * whether the proxy closed the connection).
 */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters = new Set<() => void>();
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.off("error", reject);
        resolve(new RawClient(s));
      });
      s.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Everything received and not yet taken. */
  get pending(): Buffer {
    return this.buf;
  }

  /**
   * Waits until `test` finds a complete unit in what arrived (returning its length), takes
   * it off the buffer and returns it. Fails if the peer closes first or time runs out.
   */
  take(test: (got: Buffer) => number | undefined, what: string, timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.buf.toString("latin1").slice(0, 300))}`)), timeoutMs);
      const check = (): void => {
        const n = test(this.buf);
        if (n !== undefined) {
          const out = this.buf.subarray(0, n);
          this.buf = this.buf.subarray(n);
          done(undefined, out);
        } else if (this.closed) done(new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.buf.toString("latin1").slice(0, 300))}`));
      };
      const done = (err?: Error, out?: Buffer): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve(out as Buffer);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Reads one response head (status line and headers, through the blank line) as text. */
  async head(timeoutMs?: number): Promise<string> {
    const b = await this.take((got) => {
      const i = got.indexOf("\r\n\r\n");
      return i === -1 ? undefined : i + 4;
    }, "a response head", timeoutMs);
    return b.toString("latin1");
  }

  /** Reads one whole response framed by Content-Length (or none, for HEAD/204/304 callers pass 0). */
  async response(bodyLength?: number, timeoutMs?: number): Promise<{ head: string; status: number; body: Buffer }> {
    const head = await this.head(timeoutMs);
    const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1]);
    const len = bodyLength ?? Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const body = await this.take((got) => (got.length >= len ? len : undefined), `a ${len}-byte body`, timeoutMs);
    return { head, status, body: Buffer.from(body) };
  }

  /** Resolves once the peer has closed the connection. */
  whenClosed(timeoutMs = 5000): Promise<void> {
    return this.take(() => (this.closed ? 0 : undefined), "the connection to close", timeoutMs).then(() => undefined);
  }

  close(): void {
    this.socket.destroy();
  }
}
