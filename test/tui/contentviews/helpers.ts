import type { Line, ViewResult } from "../../../src/tui/contentviews/index.ts";
import { lineArray, lineText } from "../../../src/tui/contentviews/index.ts";

const encoder = new TextEncoder();

export function enc(s: string): Uint8Array {
  return encoder.encode(s);
}

export function texts(r: ViewResult | Line[]): string[] {
  return lineArray(Array.isArray(r) ? r : r.lines).map(lineText);
}

/** The style of the first segment whose text is exactly `text`. */
export function styleOf(r: ViewResult, text: string): string | undefined {
  for (const line of r.lines) for (const seg of line) if (seg.text === text) return seg.style ?? "none";
  return undefined;
}

export function concat(...parts: (Uint8Array | string | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? enc(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}
