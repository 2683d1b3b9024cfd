/**
 * Which format a saved flow file is written in. pryx's own (JSON lines, every flow type) unless
 * the name is one mitmproxy's users give theirs (`.mitm`, `.flow`): then mitmproxy's, which
 * mitmproxy 8 and later read, and pryx reads back.
 */
import { encodeFlow } from "./flow/codec.ts";
import type { Flow } from "./flow/flow.ts";
import { mitmproxyState } from "./flow/mitmproxy-state.ts";
import { dumpTnetstring } from "./flow/tnetstring.ts";

export type FlowFileFormat = "pryx" | "mitmproxy";

export function formatForPath(file: string): FlowFileFormat {
  return /\.(mitm|flow)$/i.test(file) ? "mitmproxy" : "pryx";
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
