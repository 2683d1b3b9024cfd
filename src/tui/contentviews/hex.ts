import type { ContentView } from "./types.ts";

const GROUP_WIDTH = 8 * 3 - 1;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function group(body: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += (i > from ? " " : "") + HEX[body[i]!];
  return s.padEnd(GROUP_WIDTH);
}

/** `00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              Hello world.` */
export const hexView: ContentView = {
  title: "Hex",
  render(body, _ctx, sink) {
    for (let off = 0; off < body.length; off += 16) {
      if (!sink.more()) return;
      const end = Math.min(off + 16, body.length);
      let ascii = "";
      for (let i = off; i < end; i++) {
        const c = body[i]!;
        ascii += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".";
      }
      sink.push([
        { text: off.toString(16).padStart(8, "0"), style: "offset" },
        { text: "  " + group(body, off, Math.min(off + 8, end)) + "  " + group(body, Math.min(off + 8, end), end) + "  " },
        { text: ascii },
      ]);
    }
  },
};
