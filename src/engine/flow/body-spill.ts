/**
 * Large bodies of kept flows on disk instead of in memory (`spill_bodies`): the answer to
 * mitmproxy users' most asked-for bound (#4129, #2175) for sessions that carry downloads and
 * video, where a few large bodies are most of the memory. The bodies go into segment files
 * opened in the OS temp directory and removed from it at once, so they go with the process,
 * however it ends, and no other program finds them by name. A segment is closed, and its disk
 * space freed, once no kept flow's body is in it (flows deleted, or dropped by `max_flows`).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const SEGMENT_BYTES = 256 * 1024 * 1024;

/** Where a spilled body is: its segment, and its place in it. */
export class SpilledBody {
  constructor(
    readonly segment: number,
    readonly offset: number,
    readonly length: number,
  ) {}
}

interface Segment {
  fd: number | undefined;
  size: number;
  /** Bytes of bodies still kept. */
  live: number;
}

export class BodySpill {
  private readonly segments: Segment[] = [];

  constructor(private readonly segmentBytes = SEGMENT_BYTES) {}

  /** Bytes written to the segments still open. */
  get bytes(): number {
    return this.segments.reduce((n, s) => n + (s.fd === undefined ? 0 : s.size), 0);
  }

  /** Segments still open, for tests. */
  get openSegments(): number {
    return this.segments.filter((s) => s.fd !== undefined).length;
  }

  append(body: Uint8Array): SpilledBody {
    let index = this.segments.length - 1;
    let seg = this.segments[index];
    if (!seg || seg.fd === undefined || (seg.size > 0 && seg.size + body.length > this.segmentBytes)) {
      seg = { fd: openRemoved(), size: 0, live: 0 };
      index = this.segments.push(seg) - 1;
    }
    const fd = seg.fd as number;
    let done = 0;
    while (done < body.length) done += fs.writeSync(fd, body, done, body.length - done, seg.size + done);
    const at = new SpilledBody(index, seg.size, body.length);
    seg.size += body.length;
    seg.live += body.length;
    return at;
  }

  read(s: SpilledBody): Buffer {
    const fd = this.segments[s.segment]?.fd;
    if (fd === undefined) throw new Error(`spilled body in closed segment ${s.segment}`);
    const out = Buffer.allocUnsafe(s.length);
    let done = 0;
    while (done < s.length) {
      const n = fs.readSync(fd, out, done, s.length - done, s.offset + done);
      if (n === 0) throw new Error(`spilled body at ${s.offset} (${s.length} bytes) runs past segment ${s.segment}'s end`);
      done += n;
    }
    return out;
  }

  /** The body is no longer kept; a segment left with none, other than the one written to, is closed. */
  release(s: SpilledBody): void {
    const seg = this.segments[s.segment];
    if (!seg || seg.fd === undefined) return;
    seg.live -= s.length;
    if (seg.live <= 0 && s.segment !== this.segments.length - 1) {
      fs.closeSync(seg.fd);
      seg.fd = undefined;
    }
  }

  /** Keeps a released body again (its flow packed once more), if its segment is still open. */
  retain(s: SpilledBody): boolean {
    const seg = this.segments[s.segment];
    if (!seg || seg.fd === undefined) return false;
    seg.live += s.length;
    return true;
  }

  close(): void {
    for (const seg of this.segments) if (seg.fd !== undefined) fs.closeSync(seg.fd);
    this.segments.length = 0;
  }
}

/** A new file in the temp directory, removed at once: only this descriptor reaches it. */
function openRemoved(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-bodies-"));
  try {
    return fs.openSync(path.join(dir, "bodies"), "w+", 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
