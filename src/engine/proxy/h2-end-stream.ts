import type http2 from "node:http2";

/**
 * Watches `stream` (from its creation on: a later watch misses what came before) and tells
 * whether its peer ended it with END_STREAM, not with RST_STREAM. Node ends a stream's readable
 * side alike for both, RST_STREAM(NO_ERROR) included, and leaves rstCode 0 either way
 * (nodejs/node#35209): a body cut off by a reset then passes for a whole one. What differs is
 * the order: Node marks a reset stream closed before it ends the readable side, while
 * END_STREAM (on DATA or HEADERS) ends it with the stream still open.
 */
export function watchEndStream(stream: http2.Http2Stream): () => boolean {
  let ended = false;
  const push = stream.push.bind(stream);
  stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk === null && !stream.closed) ended = true;
    return push(chunk, encoding);
  };
  return () => ended;
}
