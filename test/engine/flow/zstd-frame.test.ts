import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { decompress } from "fzstd";
import { zstdRawFrame } from "../../../src/engine/flow/zstd-frame.ts";
import { Response } from "../../../src/engine/flow/http.ts";

const hasZstdTool = spawnSync("zstd", ["--version"]).status === 0;
const bodies = { empty: Buffer.alloc(0), small: Buffer.from("hello, zstd"), "three blocks": Buffer.alloc(300 * 1024, "0123456789abcdef") };

test("a raw-block zstd frame decodes to the body with fzstd, whatever its size", () => {
  for (const [name, body] of Object.entries(bodies)) {
    const frame = zstdRawFrame(body);
    assert.deepEqual(Buffer.from(decompress(frame)), body, name);
  }
  // 300 KiB goes in three blocks (at most 128 KiB each): 9 bytes of frame header, 3 per block.
  assert.equal(zstdRawFrame(bodies["three blocks"]).length, 300 * 1024 + 9 + 3 * 3);
});

test("the zstd tool itself reads a raw-block frame", { skip: hasZstdTool ? false : "the zstd tool is not installed" }, () => {
  for (const [name, body] of Object.entries(bodies)) {
    const out = spawnSync("zstd", ["-d", "-c", "-q"], { input: zstdRawFrame(body) });
    assert.equal(out.status, 0, `${name}: ${out.stderr}`);
    assert.deepEqual(out.stdout, body, name);
  }
});

test("setting the body of a message whose encoding pryx cannot produce drops that Content-Encoding, as mitmproxy does", () => {
  const r = new Response({ status_code: 200, headers: [["Content-Encoding", "compress"]], content: Buffer.from("LZW bytes") });
  // Not decodable: an error to read as text, the raw bytes when asked for leniently.
  assert.throws(() => r.text, /does not decode as Content-Encoding "compress"/);
  assert.equal(r.get_text(false), "LZW bytes");
  r.text = "plain now";
  assert.equal(r.headers.get("content-encoding"), undefined);
  assert.equal(Buffer.from(r.raw_content!).toString(), "plain now");
  assert.equal(r.headers.get("content-length"), "9");
});
