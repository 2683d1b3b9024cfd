/**
 * Large bodies of kept flows on disk instead of in memory (`spill_bodies`): the answer to
 * mitmproxy users' most asked-for bound (#4129, #2175) for sessions that carry downloads and
 * video, where a few large bodies are most of the memory. One file per store, opened in the
 * OS temp directory and removed from it at once, so it goes with the process, however that
 * ends, and no other program finds it by name. Append-only: a body released (its flow
 * deleted, or unpacked for good) leaves its bytes until the process ends.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Where a spilled body is in the file. */
export class SpilledBody {
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {}
}

export class BodySpill {
  private fd: number | undefined;
  private size = 0;

  /** Bytes written so far (the file's size). */
  get bytes(): number {
    return this.size;
  }

  append(body: Uint8Array): SpilledBody {
    const fd = this.open();
    let done = 0;
    while (done < body.length) done += fs.writeSync(fd, body, done, body.length - done, this.size + done);
    const at = new SpilledBody(this.size, body.length);
    this.size += body.length;
    return at;
  }

  read(s: SpilledBody): Buffer {
    const out = Buffer.allocUnsafe(s.length);
    let done = 0;
    while (done < s.length) {
      const n = fs.readSync(this.open(), out, done, s.length - done, s.offset + done);
      if (n === 0) throw new Error(`spilled body at ${s.offset} (${s.length} bytes) runs past the spill file's end`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.size = 0;
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-bodies-"));
    const file = path.join(dir, "bodies");
    this.fd = fs.openSync(file, "w+", 0o600);
    fs.rmSync(dir, { recursive: true, force: true });
    return this.fd;
  }
}
