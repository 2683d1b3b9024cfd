import type { ContentView } from "./types.ts";
import { visible } from "./text.ts";

/**
 * A ZIP archive's table of contents (mitmproxy's ZIP view): each entry's name, its size, and how
 * it is stored, read from the central directory at the archive's end. Nothing is decompressed.
 */

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const ZIP64_EXTRA = 0x0001;
/** The end record is 22 bytes plus a comment of at most 65,535. */
const EOCD_SEARCH = 22 + 0xffff;
const METHODS: Record<number, string> = { 0: "stored", 8: "deflated", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstd", 95: "xz" };

class ZipError extends Error {}

/** Whether a body starts as a ZIP archive does (a local file header, or an empty archive's end record). */
export function sniffZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

function findEnd(d: DataView): number {
  for (let at = d.byteLength - 22; at >= Math.max(0, d.byteLength - EOCD_SEARCH); at--) {
    if (d.getUint32(at, true) === EOCD) return at;
  }
  throw new ZipError("no end of central directory record: not a whole ZIP archive");
}

/** ZIP64 sizes, for an entry whose 32-bit fields say 0xffffffff. */
function zip64Sizes(d: DataView, at: number, end: number, size: number, compressed: number): [number, number] {
  while (at + 4 <= end) {
    const id = d.getUint16(at, true);
    const len = d.getUint16(at + 2, true);
    if (id === ZIP64_EXTRA) {
      let p = at + 4;
      const read = (): number => {
        const v = Number(d.getBigUint64(p, true));
        p += 8;
        return v;
      };
      const s = size === 0xffffffff ? read() : size;
      const c = compressed === 0xffffffff ? read() : compressed;
      return [s, c];
    }
    at += 4 + len;
  }
  return [size, compressed];
}

export const zipView: ContentView = {
  title: "ZIP Archive",
  render(body, _ctx, sink) {
    const d = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const end = findEnd(d);
    const count = d.getUint16(end + 10, true);
    let at = d.getUint32(end + 16, true);
    if (at >= end) throw new ZipError(`the central directory starts at byte ${at}, past its end record`);
    if (!sink.push([{ text: `${count} entr${count === 1 ? "y" : "ies"}`, style: "heading" }])) return;
    const names = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (at + 46 > end || d.getUint32(at, true) !== CENTRAL) throw new ZipError(`central directory entry ${i + 1} at byte ${at} is not one`);
      const method = d.getUint16(at + 10, true);
      const nameLen = d.getUint16(at + 28, true);
      const extraLen = d.getUint16(at + 30, true);
      const commentLen = d.getUint16(at + 32, true);
      const name = names.decode(body.subarray(at + 46, at + 46 + nameLen));
      const extraAt = at + 46 + nameLen;
      const [size, compressed] = zip64Sizes(d, extraAt, extraAt + extraLen, d.getUint32(at + 24, true), d.getUint32(at + 20, true));
      const how = name.endsWith("/") ? "directory" : `${METHODS[method] ?? `method ${method}`}${method === 0 ? "" : `, ${compressed} compressed`}`;
      if (!sink.push([{ text: visible(name), style: "key" }, { text: `  ${size} bytes`, style: "number" }, { text: ` (${how})`, style: "dim" }])) return;
      at = extraAt + extraLen + commentLen;
    }
  },
};
