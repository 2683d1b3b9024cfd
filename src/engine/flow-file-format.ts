/**
 * Which format a saved flow file is written in. pryx's own (JSON lines, every flow type) unless
 * the name is one mitmproxy's users give theirs (`.mitm`, `.flow`): then mitmproxy's, which
 * mitmproxy 8 and later read, and pryx reads back.
 */
import { encodeFlow } from "./flow/codec.ts";
import type { Flow } from "./flow/flow.ts";
import { mitmproxyState } from "./flow/mitmproxy-state.ts";
import { dumpTnetstring, looksLikeTnetstring } from "./flow/tnetstring.ts";
import { isHar } from "./flow/har.ts";

export type FlowFileFormat = "pryx" | "mitmproxy";

export function formatForPath(file: string): FlowFileFormat {
  return /\.(mitm|flow)$/i.test(file) ? "mitmproxy" : "pryx";
}

/**
 * Said where flows are saved under a name that does not tell the format (`-w flows`, as mitmproxy's
 * examples name theirs): mitmproxy cannot read the pryx file such a name gets.
 */
export function formatNote(file: string, format: FlowFileFormat): string {
  return format === "pryx" && !/\.pryx$/i.test(file) ? " in pryx's format (mitmproxy reads a file named .mitm or .flow, which pryx writes in mitmproxy's)" : "";
}

/** What a file holds, told by its first bytes: a flow format, a HAR, nothing, or something else. */
export type FileContent = FlowFileFormat | "har" | "empty" | "other";

/** `head`: a file's first 64 bytes or more. A BOM and leading white space are skipped, as JSON allows. */
export function sniffFlowFile(head: Buffer): FileContent {
  if (looksLikeTnetstring(head)) return "mitmproxy";
  const text = head.toString("utf8", 0, Math.min(head.length, 64)).replace(/^\uFEFF/, "").trimStart();
  if (text === "") return "empty";
  if (isHar(text)) return "har";
  return text.startsWith('{"v"') ? "pryx" : "other";
}

/** A flow as a record of a file in `format`; undefined for one the format cannot hold (see leftOutReason). */
export function flowRecord(format: FlowFileFormat, flow: Flow): Buffer | undefined {
  if (format === "pryx") return Buffer.from(`${encodeFlow(flow)}\n`, "utf8");
  const state = mitmproxyState(flow);
  return state === undefined ? undefined : dumpTnetstring(state);
}

/** Why flows were left out of a file: the only flows a format cannot hold are UDP and DNS flows, in mitmproxy's. */
export function leftOutReason(flows: readonly Flow[]): string {
  const types = [...new Set(flows.map((f) => f.type.toUpperCase()))];
  return `mitmproxy's flow format has no ${types.join(" or ")} flows (a .pryx file keeps them)`;
}
