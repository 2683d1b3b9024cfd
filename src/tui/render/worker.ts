/**
 * The console's body renderer: a content view over a large body (a 20 MiB JSON shown whole is
 * most of a second of formatting) runs here, so the console keeps drawing and taking keys, and
 * its lines come back packed, as data the console's thread keeps as it is.
 */
import { parentPort } from "node:worker_threads";
import { PackedLines, renderContent } from "../contentviews/index.ts";
import type { RenderReply, RenderRequest } from "./protocol.ts";

const port = parentPort;
if (!port) throw new Error("the body renderer runs as a worker thread");

port.on("message", (req: RenderRequest) => {
  let reply: RenderReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const r = renderContent(req.body, req.contentType, req.mode, { maxLines: req.maxLines, query: req.query });
    const chunks = PackedLines.of(r.lines).chunks();
    for (const c of chunks) transfer.push(c.segmentEnd.buffer as ArrayBuffer, c.style.buffer as ArrayBuffer, c.lineEnd.buffer as ArrayBuffer);
    reply = { id: req.id, name: r.name, error: r.error, truncated: r.truncated === true, chunks };
  } catch (err) {
    reply = { id: req.id, failure: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
});
