import { createHash } from "node:crypto";
import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import { HTTPFlow, Response } from "../flow/http.ts";
import type { Log } from "../log.ts";
import { readFlows } from "../save-stream.ts";
import { filesExist } from "../core-options.ts";
import { decodeUrlencoded } from "../../urlencoded.ts";

const EXTRA = ["forward", "kill", "204", "400", "404", "500"] as const;

/**
 * mitmproxy's ServerPlayback: requests that match a recorded flow of the `server_replay` files
 * are answered with its response, the server not asked (a capture becomes a mock of its backend).
 * A match is the method, scheme, host, port, path and query (less server_replay_ignore_params),
 * the body (unless server_replay_ignore_content) and the headers named in server_replay_use_headers.
 * Each recorded response serves once, in order, unless server_replay_reuse.
 */
export class ServerPlaybackAddon {
  readonly name = "server_playback";
  private options: Readonly<Record<string, OptionValue>> = {};
  private recorded = new Map<string, HTTPFlow[]>();

  constructor(private readonly log: Log) {}

  load(loader: Loader): void {
    loader.add_option("server_replay", "str[]", [], "Replay server responses from saved files (pryx, mitmproxy or HAR).", undefined, { paths: true, validate: filesExist("file") });
    loader.add_option("server_replay_extra", "choice", "forward", "Requests with no recorded response: forward them, kill them, or answer with this empty status.", EXTRA);
    loader.add_option("server_replay_reuse", "bool", false, "Keep a recorded response after use, so it can answer again.");
    loader.add_option("server_replay_ignore_content", "bool", false, "Ignore request bodies when matching.");
    loader.add_option("server_replay_ignore_params", "str[]", [], "Query parameters ignored when matching.");
    loader.add_option("server_replay_ignore_host", "bool", false, "Ignore the request's host when matching.");
    loader.add_option("server_replay_ignore_port", "bool", false, "Ignore the request's port when matching.");
    loader.add_option("server_replay_use_headers", "str[]", [], "Request headers that must match too.");
    this.options = loader.options;
  }

  configure(updated: Set<string>): void {
    if (![...updated].some((n) => n.startsWith("server_replay"))) return;
    const files = this.options.server_replay as string[];
    const recorded = new Map<string, HTTPFlow[]>();
    let count = 0;
    for (const file of files) {
      // The option's check found the file; one that has gone since, or is not a capture, is logged.
      const { errors } = readFlows(file, (f) => {
        if (!(f instanceof HTTPFlow) || !f.response) return;
        const key = this.key(f);
        recorded.set(key, [...(recorded.get(key) ?? []), f]);
        count++;
      });
      for (const e of errors) this.log.warn(`server_replay: ${e}`);
    }
    this.recorded = recorded;
    if (files.length) this.log.info(`server replay: ${count} recorded response${count === 1 ? "" : "s"} from ${files.join(", ")}`);
  }

  private key(flow: HTTPFlow): string {
    const o = this.options;
    const r = flow.request;
    const q = r.path.indexOf("?");
    const ignored = new Set(o.server_replay_ignore_params as string[]);
    const params = q < 0 ? [] : decodeUrlencoded(r.path.slice(q + 1)).filter(([k]) => !ignored.has(k));
    const body = o.server_replay_ignore_content ? "" : createHash("sha256").update(r.raw_content ?? new Uint8Array(0)).digest("hex");
    const headers = (o.server_replay_use_headers as string[]).map((h) => [h.toLowerCase(), r.plainHeaders.getAll(h)]);
    return JSON.stringify([r.method, r.scheme, o.server_replay_ignore_host ? "" : r.host, o.server_replay_ignore_port ? 0 : r.port, q < 0 ? r.path : r.path.slice(0, q), params, body, headers]);
  }

  request(flow: HTTPFlow): void {
    if (this.recorded.size === 0 || flow.response || !flow.live || flow.is_replay) return;
    const key = this.key(flow);
    const list = this.recorded.get(key);
    const hit = list?.[0];
    if (hit?.response) {
      if (!this.options.server_replay_reuse) list?.shift();
      const res = hit.response.clone();
      res.timestamp_start = res.timestamp_end = Date.now() / 1000;
      flow.response = res;
      flow.is_replay = "response";
      return;
    }
    const extra = this.options.server_replay_extra as (typeof EXTRA)[number];
    if (extra === "kill") flow.kill();
    else if (extra !== "forward") flow.response = Response.make(Number(extra));
  }
}
