/**
 * Rewrites bytes in response bodies while they stream through, never holding a whole body
 * (mitmproxy's examples/addons/http-stream-modify.py): for downloads and long-lived responses
 * too large to buffer. Unlike that example's one-line replace, a match split across two chunks
 * is caught too: the last FROM-length-1 bytes of each chunk wait for the next. A body whose
 * length changes goes out chunked (pryx drops its Content-Length).
 *
 *   pryx dump -s addons/stream-modify.ts --set stream_modify=foo/bar
 */
import type { Addon, Loader, http } from "pryx";

/** A stream function replacing `from` by `to`, chunk by chunk; the empty last chunk flushes what it holds. */
function replacer(from: Buffer, to: Buffer): (chunk: Buffer) => Buffer {
  let held = Buffer.alloc(0);
  return (chunk) => {
    const data = Buffer.concat([held, chunk]);
    const parts: Buffer[] = [];
    let at = 0;
    for (let i = data.indexOf(from); i !== -1; i = data.indexOf(from, at)) {
      parts.push(data.subarray(at, i), to);
      at = i + from.length;
    }
    // Unless the body ended, keep back what could be the start of a match the next chunk completes.
    const keep = chunk.length === 0 ? data.length : Math.max(at, data.length - (from.length - 1));
    parts.push(data.subarray(at, keep));
    held = Buffer.from(data.subarray(keep));
    return Buffer.concat(parts);
  };
}

class StreamModify implements Addon {
  readonly name = "stream-modify";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("stream_modify", "str", "foo/bar", "FROM/TO: bytes the stream-modify addon replaces in response bodies as they stream.");
  }

  responseheaders(flow: http.HTTPFlow): void {
    const spec = String(this.loader?.options["stream_modify"] ?? "");
    const cut = spec.indexOf("/");
    if (!flow.response || cut <= 0) return;
    flow.response.stream = replacer(Buffer.from(spec.slice(0, cut)), Buffer.from(spec.slice(cut + 1)));
  }
}

export default new StreamModify();
