import type { ContentView, LineSink } from "./types.ts";
import { decodeLenient, visible } from "./text.ts";

/** What the header says; the pixels are never decoded. */
interface ImageInfo {
  format: string;
  width?: number;
  height?: number;
  /** Extra `label: value` rows specific to the format. */
  details: [string, string][];
}

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(b: Uint8Array, at: number, len: number): string {
  return at + len <= b.length ? String.fromCharCode(...b.subarray(at, at + len)) : "";
}

const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const le16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
const be32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const le24 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const le32s = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

const PNG_COLOR_TYPES: Record<number, string> = {
  0: "grayscale",
  2: "RGB",
  3: "indexed",
  4: "grayscale + alpha",
  6: "RGBA",
};

function png(b: Uint8Array): ImageInfo {
  const info: ImageInfo = { format: "PNG", details: [] };
  if (b.length >= 29 && ascii(b, 12, 4) === "IHDR") {
    info.width = be32(b, 16);
    info.height = be32(b, 20);
    info.details.push(["Bit depth", String(b[24])]);
    info.details.push(["Color type", PNG_COLOR_TYPES[b[25]!] ?? `unknown (${b[25]})`]);
    if (b[28] === 1) info.details.push(["Interlace", "Adam7"]);
  }
  // Text chunks often carry the producing software or a copyright; only a bounded number are read.
  let off = 8;
  for (let chunks = 0; off + 8 <= b.length && chunks < 64; chunks++) {
    const len = be32(b, off);
    const type = ascii(b, off + 4, 4);
    const data = off + 8;
    if (type === "IEND" || data + len > b.length) break;
    if (type === "tEXt") {
      const chunk = b.subarray(data, data + len);
      const nul = chunk.indexOf(0);
      if (nul > 0 && nul < 80) {
        const key = String.fromCharCode(...chunk.subarray(0, nul));
        // tEXt is Latin-1 by spec.
        const value = Array.from(chunk.subarray(nul + 1, nul + 1 + 200), (c) => String.fromCharCode(c)).join("");
        info.details.push([key, value]);
      }
    }
    off = data + len + 4;
  }
  return info;
}

function gif(b: Uint8Array): ImageInfo {
  const info: ImageInfo = { format: "GIF", details: [["Version", ascii(b, 3, 3)]] };
  if (b.length >= 10) {
    info.width = le16(b, 6);
    info.height = le16(b, 8);
  }
  return info;
}

// Start-of-frame markers: C0-CF except C4 (DHT), C8 (reserved) and CC (DAC).
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

const JPEG_PROCESSES: Record<number, string> = { 0xc0: "baseline", 0xc1: "extended sequential", 0xc2: "progressive", 0xc3: "lossless" };

function jpeg(b: Uint8Array): ImageInfo {
  const info: ImageInfo = { format: "JPEG", details: [] };
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) break;
    const marker = b[i + 1]!;
    // Fill bytes and standalone markers (TEM, RSTn, SOI) carry no length.
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break;
    const len = be16(b, i + 2);
    if (len < 2) break;
    const seg = i + 4;
    if (marker === 0xe0 && ascii(b, seg, 5) === "JFIF\0") info.details.push(["Container", "JFIF"]);
    if (marker === 0xe1 && ascii(b, seg, 6) === "Exif\0\0") info.details.push(["Metadata", "Exif"]);
    if (isSof(marker) && seg + 6 <= b.length) {
      info.height = be16(b, seg + 1);
      info.width = be16(b, seg + 3);
      const comps = b[seg + 5]!;
      info.details.push(["Precision", `${b[seg]} bits`]);
      info.details.push(["Components", `${comps}${comps === 1 ? " (grayscale)" : comps === 3 ? " (YCbCr)" : comps === 4 ? " (CMYK)" : ""}`]);
      info.details.push(["Process", JPEG_PROCESSES[marker] ?? `SOF${(marker - 0xc0).toString()}`]);
      break;
    }
    i += 2 + len;
  }
  return info;
}

function webp(b: Uint8Array): ImageInfo {
  const info: ImageInfo = { format: "WebP", details: [] };
  const chunk = ascii(b, 12, 4);
  const d = 20;
  if (chunk === "VP8 " && b.length >= d + 10 && startsWith(b, [0x9d, 0x01, 0x2a], d + 3)) {
    info.width = le16(b, d + 6) & 0x3fff;
    info.height = le16(b, d + 8) & 0x3fff;
    info.details.push(["Encoding", "lossy"]);
  } else if (chunk === "VP8L" && b.length >= d + 5 && b[d] === 0x2f) {
    const bits = (b[d + 1]! | (b[d + 2]! << 8) | (b[d + 3]! << 16) | (b[d + 4]! << 24)) >>> 0;
    info.width = (bits & 0x3fff) + 1;
    info.height = ((bits >>> 14) & 0x3fff) + 1;
    info.details.push(["Encoding", "lossless"]);
  } else if (chunk === "VP8X" && b.length >= d + 10) {
    info.width = le24(b, d + 4) + 1;
    info.height = le24(b, d + 7) + 1;
    const flags = b[d]!;
    info.details.push(["Encoding", "extended"]);
    if (flags & 0x02) info.details.push(["Animated", "yes"]);
    if (flags & 0x10) info.details.push(["Alpha", "yes"]);
  }
  return info;
}

function bmp(b: Uint8Array): ImageInfo {
  const info: ImageInfo = { format: "BMP", details: [] };
  if (b.length >= 26) {
    if (le32s(b, 14) === 12) {
      info.width = le16(b, 18);
      info.height = le16(b, 20);
    } else {
      // A negative height means rows are stored top-down; the size is its magnitude.
      info.width = Math.abs(le32s(b, 18));
      info.height = Math.abs(le32s(b, 22));
    }
  }
  return info;
}

function ico(b: Uint8Array): ImageInfo {
  const count = le16(b, 4);
  const info: ImageInfo = { format: "ICO", details: [["Images", String(count)]] };
  const sizes: string[] = [];
  for (let k = 0; k < count && k < 16 && 6 + 16 * (k + 1) <= b.length; k++) {
    // Zero encodes 256 in the one-byte size fields.
    const w = b[6 + 16 * k] || 256;
    const h = b[7 + 16 * k] || 256;
    if (k === 0) {
      info.width = w;
      info.height = h;
    }
    sizes.push(`${w}x${h}`);
  }
  if (sizes.length > 1) info.details.push(["Sizes", sizes.join(", ")]);
  return info;
}

function svg(head: string): ImageInfo {
  const info: ImageInfo = { format: "SVG", details: [] };
  const tag = /<svg\b[^>]*>/i.exec(head)?.[0] ?? "";
  const attr = (name: string): string | undefined =>
    new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "i").exec(tag)?.slice(1).find((v) => v !== undefined);
  const w = attr("width");
  const h = attr("height");
  if (w !== undefined && h !== undefined && /^\d+(\.\d+)?(px)?$/.test(w) && /^\d+(\.\d+)?(px)?$/.test(h)) {
    info.width = parseFloat(w);
    info.height = parseFloat(h);
  } else {
    if (w !== undefined) info.details.push(["Width", w]);
    if (h !== undefined) info.details.push(["Height", h]);
  }
  const vb = attr("viewBox");
  if (vb !== undefined) info.details.push(["viewBox", vb]);
  return info;
}

export function identifyImage(b: Uint8Array): ImageInfo | undefined {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return png(b);
  if (startsWith(b, [0xff, 0xd8, 0xff])) return jpeg(b);
  if (ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a") return gif(b);
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") return webp(b);
  if (ascii(b, 0, 2) === "BM" && b.length >= 18) return bmp(b);
  if (startsWith(b, [0, 0, 1, 0]) && b.length >= 6 && le16(b, 4) > 0) return ico(b);
  if (startsWith(b, [0x49, 0x49, 0x2a, 0]) || startsWith(b, [0x4d, 0x4d, 0, 0x2a])) return { format: "TIFF", details: [] };
  if (ascii(b, 4, 4) === "ftyp") {
    const brand = ascii(b, 8, 4);
    if (brand === "avif" || brand === "avis") return { format: "AVIF", details: [] };
    if (/^(heic|heix|hevc|mif1)$/.test(brand)) return { format: "HEIF", details: [] };
  }
  const head = decodeLenient(b.subarray(0, 4096));
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg\b/i.test(head)) return svg(head);
  return undefined;
}

function pushField(sink: LineSink, label: string, value: string): void {
  sink.push([{ text: label, style: "key" }, { text: ": ", style: "punct" }, { text: visible(value) }]);
}

export const imageView: ContentView = {
  title: "Image",
  render(body, ctx, sink) {
    const info = identifyImage(body);
    pushField(sink, "Format", info?.format ?? `unknown${ctx.mime ? ` (${ctx.mime})` : ""}`);
    if (info?.width !== undefined && info.height !== undefined) pushField(sink, "Dimensions", `${info.width} x ${info.height}`);
    for (const [k, v] of info?.details ?? []) pushField(sink, k, v);
    pushField(sink, "Size", `${body.length} bytes`);
    return info ? `${info.format} Image` : undefined;
  },
};
