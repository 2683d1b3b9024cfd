import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";

/** The one-shot work still to do: requests to replay, recorded responses to give. */
export interface PendingWork {
  clientReplays: () => number;
  serverReplays: () => number;
}

/**
 * mitmproxy's KeepServing: a run given one-shot work (a file to read, requests to replay,
 * responses to replay) ends once that work is done, unless `keepserving` is set. The engine
 * only announces it (`served`): `pryx dump` stops there, as mitmdump does, and the console,
 * like mitmproxy's, keeps serving. With no server (`-n`) the run ends anyway.
 */
export class KeepServingAddon {
  readonly name = "keepserving";
  private options: Readonly<Record<string, OptionValue>> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pending: PendingWork,
    private readonly served: (what: string) => void,
    private readonly noServer: boolean,
  ) {}

  load(loader: Loader): void {
    loader.add_option("keepserving", "bool", false, "Continue serving after client playback, server playback or file read. The console always keeps serving.");
    this.options = loader.options;
  }

  running(): void {
    if (this.noServer) return;
    const o = this.options;
    const work = [o.rfile ? "file read" : "", (o.client_replay as string[]).length ? "client replay" : "", (o.server_replay as string[]).length ? "server replay" : ""].filter(Boolean);
    if (!work.length) return;
    // Polled, as mitmproxy's is: the replays' counts change from several places.
    this.timer = setInterval(() => {
      if (this.options.keepserving) return this.stop();
      if (this.pending.clientReplays() > 0 || this.pending.serverReplays() > 0) return;
      this.stop();
      this.served(work.join(", "));
    }, 100);
    this.timer.unref();
  }

  done(): void {
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
