import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import { HTTPFlow } from "../flow/http.ts";
import type { Flow } from "../flow/flow.ts";
import type { Log } from "../log.ts";
import { flowsOfFile } from "../save-stream.ts";
import { filesExist } from "../core-options.ts";
import { expandHome } from "../../home-path.ts";
import { Answer, CommandError } from "../commands.ts";
import { uuid } from "../flow/uuid.ts";

/**
 * mitmproxy's ClientPlayback: requests are sent again, one at a time from a queue, as new flows
 * marked as replays. The queue takes the `client_replay` files at start and the flows of
 * `replay.client` (`r`) and `replay.client.file`; `replay.client.count` and `.stop` see and
 * empty it. With no server to run (`dump -n -C file`) the start waits for the files' requests,
 * so the run ends once they are done, as mitmdump's does.
 *
 * Unlike mitmproxy's (which replays a flow in place and returns None), `replay.client` and
 * `replay.client.file` give back the ids of the new flows they queue, in order: the console follows
 * exactly the one `r` started, and an addon's `commands.call("replay.client", flows)` learns which
 * flows are its replays. Each id is given when the request is queued; the flow comes under it once
 * the request is sent.
 */
export class ClientPlaybackAddon {
  readonly name = "client_playback";
  private options: Readonly<Record<string, OptionValue>> = {};
  private queue: QueuedReplay[] = [];
  /** Settles once the queue is empty; replaced each time replays start from an empty queue. */
  private drained: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Log,
    private readonly replay: (flow: HTTPFlow, id: string) => Promise<HTTPFlow>,
    private readonly waitForReplays: boolean,
  ) {}

  load(loader: Loader): void {
    loader.add_option("client_replay", "str[]", [], "Replay client requests from saved files (pryx, mitmproxy or HAR), one at a time.", undefined, { paths: true, validate: filesExist("file") });
    loader.add_option("client_replay_concurrency", "int", 1, "How many replayed requests may be in flight at once; -1 for no limit.", undefined, {
      validate: (v) => {
        if (typeof v !== "number" || (v < 1 && v !== -1)) throw new Error("must be a positive number of requests, or -1 for no limit");
      },
    });
    this.options = loader.options;
    loader.add_command("replay.client", (flows: Flow[]) => this.queued(flows), "Send the requests of flows again, one at a time, as new flows marked as replays; gives the new flows' ids.", "replay.client flows");
    loader.add_command("replay.client.file", (file) => this.queued(this.read(expandHome(file), "replay.client.file")), "Send the requests of a flow file again, as new flows marked as replays; gives the new flows' ids.", "replay.client.file path");
    loader.add_command("replay.client.count", () => this.pending(), "How many requests are waiting to be replayed, the one being sent included.", "replay.client.count");
    loader.add_command(
      "replay.client.stop",
      () => {
        const dropped = this.queue.length;
        this.queue = [];
        return `client replay stopped: ${dropped} request${dropped === 1 ? "" : "s"} dropped`;
      },
      "Empty the replay queue (a request already sent finishes).",
      "replay.client.stop",
    );
  }

  /**
   * The files are read when the option is set, as mitmproxy's are: one with no flow in it at all
   * is an error there (a start-up error for dump), not a run that replayed nothing. They are sent
   * once the proxy runs; set later (the console's :set), at once.
   */
  configure(updated: Set<string>): void {
    if (!updated.has("client_replay")) return;
    const files = this.options.client_replay as string[];
    if (!files.length) return;
    const flows = files.flatMap((file) => this.read(file, "client_replay"));
    const requests = this.replayable(flows);
    // mitmdump says "Can't replay WebSocket flows."; they were left out without a word.
    const left = leftOut(flows);
    if (left) this.log.warn(`client replay: ${left}`);
    this.log.info(`client replay: ${requests.length} request${requests.length === 1 ? "" : "s"} from ${files.join(", ")}`);
    if (this.started) this.enqueue(requests);
    else this.fromOption = requests;
  }

  private started = false;
  /** What client_replay's files held, waiting for `running`. */
  private fromOption: HTTPFlow[] | undefined;

  async running(): Promise<void> {
    this.started = true;
    const requests = this.fromOption;
    this.fromOption = undefined;
    if (!requests) return;
    this.enqueue(requests);
    if (this.waitForReplays) await this.drained;
  }

  /** Requests waiting to be replayed, the one being sent included. */
  pending(): number {
    // Each lane has its one request in flight from the moment it starts until it ends.
    return this.queue.length + this.lanes;
  }

  /** Shutting down: the requests still queued are not sent. */
  done(): void {
    this.queue = [];
  }

  /** The flows of a file; unreadable entries are logged under `label`. */
  private read(file: string, label: string): Flow[] {
    return flowsOfFile(file, this.log, label);
  }

  private replayable(flows: Flow[]): HTTPFlow[] {
    return flows.filter(isReplayable);
  }

  /** A command's enqueue, said back to the user; its value is the ids the replays will have. */
  private queued(flows: Flow[]): Answer<string[]> {
    const requests = this.replayable(flows);
    // Nothing to replay: say why rather than "replaying 0 flows" (mitmproxy refuses the same flows).
    if (requests.length === 0 && flows.length > 0) {
      throw new CommandError(`cannot replay ${kindsOf(flows)} flows: only HTTP requests are replayed`);
    }
    const ids = this.enqueue(requests);
    const left = leftOut(flows);
    return new Answer(`replaying ${requests.length} flow${requests.length === 1 ? "" : "s"}${left ? `; ${left}` : ""}`, ids);
  }

  /** Lanes sending requests, at most client_replay_concurrency; `drained` settles when none is left. */
  private lanes = 0;
  private settle: (() => void) | undefined;

  /** Queues the requests; returns the ids their replays will have. */
  private enqueue(requests: HTTPFlow[]): string[] {
    if (!requests.length) return [];
    if (this.lanes === 0) this.drained = new Promise((resolve) => (this.settle = resolve));
    const queued = requests.map((original) => ({ original, id: uuid() }));
    this.queue.push(...queued);
    const limit = this.options.client_replay_concurrency as number;
    // Each lane takes its first request before this loop looks at the queue again.
    while ((limit === -1 || this.lanes < limit) && this.queue.length > 0) void this.lane();
    return queued.map((q) => q.id);
  }

  /** Sends queued requests one after another until the queue is empty. */
  private async lane(): Promise<void> {
    this.lanes++;
    try {
      for (let q = this.queue.shift(); q; q = this.queue.shift()) {
        try {
          await this.replay(q.original, q.id);
        } catch (err) {
          // A replay's own failures (no server, TLS) end as the new flow's error; this is anything else.
          this.log.warn(`client replay of ${q.original.request.pretty_url} failed: ${(err as Error).message}`);
        }
      }
    } finally {
      this.lanes--;
      if (this.lanes === 0) this.settle?.();
    }
  }
}

/** A request waiting to be sent again, and the id its replay will have. */
interface QueuedReplay {
  original: HTTPFlow;
  id: string;
}

/** An HTTP request to send again: a WebSocket's handshake replayed would open a connection nothing drives (mitmproxy refuses it too). */
function isReplayable(f: Flow): f is HTTPFlow {
  return f instanceof HTTPFlow && f.request.method !== "CONNECT" && f.websocket === undefined;
}

/** What a replay leaves out of `flows` and why, by kind: undefined when it leaves nothing out. */
function leftOut(flows: readonly Flow[]): string | undefined {
  const left = flows.filter((f) => !isReplayable(f));
  if (left.length === 0) return undefined;
  return `${left.length} ${kindsOf(left)} flow${left.length === 1 ? "" : "s"} not replayed: only HTTP requests are`;
}

/** The kinds of flows a replay does not send: "WebSocket", "CONNECT", "TCP"... */
function kindsOf(flows: readonly Flow[]): string {
  return [...new Set(flows.map((f) => (f instanceof HTTPFlow ? (f.websocket ? "WebSocket" : "CONNECT") : f.type.toUpperCase())))].join(" and ");
}
