import { createHash } from "node:crypto";
import fs from "node:fs";
import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import { HTTPFlow, Response } from "../flow/http.ts";
import type { Log } from "../log.ts";
import type { Flow } from "../flow/flow.ts";
import { expandHome } from "../../home-path.ts";
import { flowsOfFile } from "../save-stream.ts";
import { filesExist } from "../core-options.ts";
import { decodeUrlencoded } from "../../urlencoded.ts";
import { formFields } from "../flow/form.ts";
import { now } from "../flow/now.ts";
import { CommandError } from "../commands.ts";

const DATED_HEADERS = ["date", "expires", "last-modified"];

/** A recorded flow that can answer: HTTP, with its response. */
const hasResponse = (f: Flow): f is HTTPFlow => f instanceof HTTPFlow && f.response !== undefined;

/** An HTTP date moved by `seconds`; undefined when the text is not a date. */
function shiftDate(text: string, seconds: number): string | undefined {
  const t = Date.parse(text);
  if (Number.isNaN(t)) return undefined;
  const moved = new Date(t + seconds * 1000);
  return Number.isNaN(moved.getTime()) ? undefined : moved.toUTCString();
}

/**
 * mitmproxy's Response.refresh: a recorded response replayed `seconds` later has its dates and
 * its cookies' Expires moved by as much, so a client does not take it for stale or expired.
 */
export function refreshResponse(res: Response, seconds: number): void {
  const headers = res.plainHeaders;
  for (const name of DATED_HEADERS) {
    const v = headers.get(name);
    const moved = v === undefined ? undefined : shiftDate(v, seconds);
    if (moved) headers.set(name, moved);
  }
  if (!headers.has("set-cookie")) return;
  // In place, so the Set-Cookie lines keep their order among the other fields.
  headers.fields = headers.fields.map(([name, value]): [string, string] =>
    name.toLowerCase() === "set-cookie"
      ? [
          name,
          value.replace(/(;\s*expires=)([^;]*)/i, (whole, key: string, date: string) => {
            const moved = shiftDate(date, seconds);
            return moved ? `${key}${moved}` : whole;
          }),
        ]
      : [name, value],
  );
}

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
    loader.add_option("server_replay_nopop", "bool", false, "Deprecated alias for server_replay_reuse.");
    loader.add_option("server_replay_kill_extra", "bool", false, "Deprecated: server_replay_extra=kill.");
    loader.add_option("server_replay_ignore_content", "bool", false, "Ignore request bodies when matching.");
    loader.add_option("server_replay_ignore_params", "str[]", [], "Query parameters ignored when matching.");
    loader.add_option("server_replay_ignore_payload_params", "str[]", [], "Form fields (urlencoded or multipart request bodies) ignored when matching.");
    loader.add_option("server_replay_ignore_host", "bool", false, "Ignore the request's host when matching.");
    loader.add_option("server_replay_ignore_port", "bool", false, "Ignore the request's port when matching.");
    loader.add_option("server_replay_use_headers", "str[]", [], "Request headers that must match too.");
    loader.add_option("server_replay_refresh", "bool", true, "Move a replayed response's Date, Expires and Last-Modified headers and its cookies' expiry forward by the time since it was recorded.");
    this.options = loader.options;
    // mitmproxy's commands: the flows of this session (`S` on marked flows, or a flow whose response
    // was just edited) answer matching requests from now on, as a capture file does.
    loader.add_command("replay.server", (flows: Flow[]) => this.loaded(flows, "replay"), "Answer matching requests with these flows' responses (replacing those already loaded).", "replay.server flows");
    loader.add_command("replay.server.add", (flows: Flow[]) => this.loaded(flows, "add"), "Add these flows' responses to those that answer matching requests.", "replay.server.add flows");
    loader.add_command(
      "replay.server.file",
      (file) => this.loaded(this.read(expandHome(file)), "replay", file),
      "Answer matching requests with the responses of a flow file (replacing those already loaded).",
      "replay.server.file path",
    );
    loader.add_command(
      "replay.server.stop",
      () => {
        this.recorded = new Map();
        return "server replay stopped";
      },
      "Stop server replay: requests go to their servers again.",
      "replay.server.stop",
    );
    loader.add_command("replay.server.count", () => this.pending(), "How many recorded responses are waiting to answer.", "replay.server.count");
  }

  /** Loads the flows that have a response as recorded answers; `replay` replaces what was loaded, `add` adds to it. */
  private use(flows: Flow[], how: "replay" | "add"): number {
    if (how === "replay") this.recorded = new Map();
    const answers = flows.filter(hasResponse);
    for (const f of answers) {
      const key = this.key(f);
      const list = this.recorded.get(key);
      if (list) list.push(f);
      else this.recorded.set(key, [f]);
    }
    return answers.length;
  }

  /**
   * A command's `use`, said back to the user. Nothing to load is an error that says which nothing
   * (no flow matched, the file holds none, none has a response), and leaves loaded what was.
   */
  private loaded(flows: Flow[], how: "replay" | "add", file?: string): string {
    // A path where flows go (S, then a capture's name) is a filter that matches nothing.
    if (flows.length === 0) throw new CommandError(file === undefined ? "no flow matches (to replay a flow file: replay.server.file PATH)" : `no flows in ${file}`);
    // The file last: a long path cut at the status line's end leaves what happened readable.
    const from = file === undefined ? "" : ` (${file})`;
    if (!flows.some(hasResponse)) throw new CommandError(`${flows.length === 1 ? "the flow has no response" : `none of the ${flows.length} flows has a response`} to replay${from}`);
    const n = this.use(flows, how);
    return `server replay: ${n} response${n === 1 ? "" : "s"} ${how === "add" ? "added" : "loaded"}, ${this.pending()} in all`;
  }

  /** A flow file's flows; one that is missing or holds nothing readable is an error for the prompt, said as such. */
  private read(file: string): Flow[] {
    if (!fs.existsSync(file)) throw new CommandError(`no such file: ${file}`);
    try {
      return flowsOfFile(file, this.log, "replay.server.file");
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
  }

  /** Recorded responses still waiting to answer. */
  pending(): number {
    let n = 0;
    for (const list of this.recorded.values()) n += list.length;
    return n;
  }

  configure(updated: Set<string>): void {
    if (updated.has("server_replay_nopop") && this.options.server_replay_nopop) this.log.warn("server_replay_nopop is deprecated: use server_replay_reuse");
    if (updated.has("server_replay_kill_extra") && this.options.server_replay_kill_extra) this.log.warn("server_replay_kill_extra is deprecated: use server_replay_extra=kill");
    if (updated.has("server_replay")) {
      // The option's check found the files; one that has gone since, or is not a capture, is logged.
      const files = this.options.server_replay as string[];
      const count = this.use(files.flatMap((file) => flowsOfFile(file, this.log, "server_replay")), "replay");
      if (files.length) this.log.info(`server replay: ${count} recorded response${count === 1 ? "" : "s"} from ${files.join(", ")}`);
    } else if ([...updated].some((n) => n.startsWith("server_replay_"))) {
      // A matching option changed: the same recorded responses (those added by command too), keyed anew.
      this.use([...this.recorded.values()].flat(), "replay");
    }
  }

  /**
   * The body as matching sees it: with server_replay_ignore_payload_params, the fields of a
   * urlencoded or multipart form but those named; otherwise its hash.
   */
  private bodyKey(r: HTTPFlow["request"]): string {
    const raw = r.raw_content ?? new Uint8Array(0);
    const ignored = new Set(this.options.server_replay_ignore_payload_params as string[]);
    const fields = ignored.size ? formFields(r.plainHeaders.get("content-type"), raw) : undefined;
    if (fields) return JSON.stringify(fields.filter(([k]) => !ignored.has(k)));
    return createHash("sha256").update(raw).digest("hex");
  }

  private key(flow: HTTPFlow): string {
    const o = this.options;
    const r = flow.request;
    const q = r.path.indexOf("?");
    const ignored = new Set(o.server_replay_ignore_params as string[]);
    const params = q < 0 ? [] : decodeUrlencoded(r.path.slice(q + 1)).filter(([k]) => !ignored.has(k));
    const body = o.server_replay_ignore_content ? "" : this.bodyKey(r);
    const headers = (o.server_replay_use_headers as string[]).map((h) => [h.toLowerCase(), r.plainHeaders.getAll(h)]);
    return JSON.stringify([r.method, r.scheme, o.server_replay_ignore_host ? "" : r.host, o.server_replay_ignore_port ? 0 : r.port, q < 0 ? r.path : r.path.slice(0, q), params, body, headers]);
  }

  request(flow: HTTPFlow): void {
    if (this.recorded.size === 0 || flow.response || !flow.live || flow.is_replay) return;
    const key = this.key(flow);
    const list = this.recorded.get(key);
    const hit = list?.[0];
    if (hit?.response) {
      if (!this.options.server_replay_reuse && !this.options.server_replay_nopop) list?.shift();
      const res = hit.response.clone();
      const at = now();
      if (this.options.server_replay_refresh) refreshResponse(res, at - res.timestamp_start);
      res.timestamp_start = res.timestamp_end = at;
      flow.response = res;
      flow.is_replay = "response";
      return;
    }
    const extra = this.options.server_replay_kill_extra ? "kill" : (this.options.server_replay_extra as (typeof EXTRA)[number]);
    if (extra === "kill") {
      // The flow's error says only "Connection killed."; mitmproxy's warning says which addon did it and why.
      this.log.warn(`server_playback: killed non-replay request ${flow.request.url}`);
      flow.kill();
    } else if (extra !== "forward") flow.response = Response.make(Number(extra));
  }
}
