import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32, deflateSync } from "node:zlib";
import { renderContent } from "../../../src/tui/contentviews/index.ts";
import { concat, texts } from "./helpers.ts";

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const typed = concat(type, data);
  return concat(u32(data.length), typed, u32(crc32(typed)));
}

/** A real, decodable PNG: IHDR, one IDAT with a zlib stream of the filtered scanlines, IEND. */
function png(width: number, height: number, text?: [string, string]): Uint8Array {
  const ihdr = Uint8Array.from([...u32(width), ...u32(height), 8, 6, 0, 0, 0]);
  const raw = new Uint8Array(height * (1 + width * 4));
  for (let y = 0; y < height; y++) raw.set([0, 255, 0, 0, 255], y * (1 + width * 4));
  return concat(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    chunk("IHDR", ihdr),
    text ? chunk("tEXt", concat(text[0], [0], text[1])) : new Uint8Array(0),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  );
}

test("image: a 1x1 PNG", () => {
  const body = png(1, 1);
  const r = renderContent(body, "image/png", "auto");
  assert.equal(r.name, "PNG Image");
  assert.deepEqual(texts(r), ["Format: PNG", "Dimensions: 1 x 1", "Bit depth: 8", "Color type: RGBA", `Size: ${body.length} bytes`]);
  assert.equal(r.lines.at(0)![0]!.style, "key");
});

test("image: PNG text chunks are listed", () => {
  const r = renderContent(png(300, 20, ["Software", "pryx-test"]), "image/png", "image");
  assert.ok(texts(r).includes("Dimensions: 300 x 20"));
  assert.ok(texts(r).includes("Software: pryx-test"));
});

test("image: JPEG dimensions from the SOF marker after APP0 and DQT", () => {
  const body = concat(
    [0xff, 0xd8],
    [0xff, 0xe0, 0, 16], "JFIF", [0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xdb, 0, 67, 0], new Uint8Array(64),
    [0xff, 0xc2, 0, 17, 8, 0x01, 0xe0, 0x02, 0x80, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    [0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0],
    [0x12, 0x34, 0xff, 0xd9],
  );
  const r = renderContent(body, "image/jpeg", "auto");
  assert.equal(r.name, "JPEG Image");
  assert.deepEqual(texts(r), [
    "Format: JPEG",
    "Dimensions: 640 x 480",
    "Container: JFIF",
    "Precision: 8 bits",
    "Components: 3 (YCbCr)",
    "Process: progressive",
    `Size: ${body.length} bytes`,
  ]);
});

test("image: GIF, WebP (lossy, lossless, extended), BMP, ICO, SVG", () => {
  const gif = concat("GIF89a", [0x20, 0x03, 0x58, 0x02, 0xf7, 0, 0], ";");
  assert.ok(texts(renderContent(gif, "image/gif", "auto")).includes("Dimensions: 800 x 600"));

  const riff = (fourcc: string, data: number[]): Uint8Array => concat("RIFF", [0, 0, 0, 0], "WEBP", fourcc, [data.length, 0, 0, 0], data);
  const lossy = riff("VP8 ", [0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]);
  assert.ok(texts(renderContent(lossy, "image/webp", "auto")).includes("Dimensions: 320 x 240"));
  // 14-bit width-1 = 99, height-1 = 49: bits = 99 | 49 << 14.
  const bits = 99 | (49 << 14);
  const lossless = riff("VP8L", [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >> 24) & 0xff]);
  assert.equal(renderContent(lossless, "image/webp", "auto").name, "WebP Image");
  assert.ok(texts(renderContent(lossless, "image/webp", "auto")).includes("Dimensions: 100 x 50"));
  const extended = riff("VP8X", [0x10, 0, 0, 0, 0xff, 0x03, 0, 0xff, 0x01, 0]);
  assert.ok(texts(renderContent(extended, "image/webp", "auto")).includes("Dimensions: 1024 x 512"));

  const bmp = concat("BM", new Uint8Array(12), [40, 0, 0, 0, 16, 0, 0, 0, 0xf8, 0xff, 0xff, 0xff]);
  assert.ok(texts(renderContent(bmp, "image/bmp", "auto")).includes("Dimensions: 16 x 8"));

  const ico = concat([0, 0, 1, 0, 2, 0], [16, 16], new Uint8Array(14), [0, 0], new Uint8Array(14));
  const icoLines = texts(renderContent(ico, "image/x-icon", "auto"));
  assert.ok(icoLines.includes("Dimensions: 16 x 16"));
  assert.ok(icoLines.includes("Sizes: 16x16, 256x256"));

  const svg = new TextEncoder().encode('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24"><path d="M0 0"/></svg>');
  // Auto shows its markup (as mitmproxy's); the image view, chosen, its size.
  assert.equal(renderContent(svg, "image/svg+xml", "auto").name, "XML/HTML");
  const svgResult = renderContent(svg, "image/svg+xml", "image");
  assert.equal(svgResult.name, "SVG Image");
  assert.ok(texts(svgResult).includes("Dimensions: 24 x 24"));
});

test("image: unknown or truncated data still gets a summary", () => {
  const r = renderContent(Uint8Array.from([1, 2, 3]), "image/avif", "auto");
  assert.equal(r.name, "Image");
  assert.deepEqual(texts(r), ["Format: unknown (image/avif)", "Size: 3 bytes"]);
  const cut = renderContent(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), "image/png", "auto");
  assert.deepEqual(texts(cut), ["Format: PNG", "Size: 10 bytes"]);
});
