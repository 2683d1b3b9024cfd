import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import { HTTPFlow } from "../flow/http.ts";
import type { Log } from "../log.ts";
import { readFlows } from "../save-stream.ts";
import { filesExist } from "../core-options.ts";

/**
 * mitmproxy's ClientPlayback: `client_replay` files' requests are sent again, one at a time, as
 * new flows marked as replays. With no server to run (`dump -n -C file`) the start waits for
 * them, so the run ends once they are done, as mitmdump's does; otherwise they go on in the
 * background while the proxy serves.
 */
export class ClientPlaybackAddon {
  readonly name = "client_playback";
  private options: Readonly<Record<string, OptionValue>> = {};

  constructor(
    private readonly log: Log,
    private readonly replay: (flow: HTTPFlow) => Promise<HTTPFlow>,
    private readonly waitForReplays: boolean,
  ) {}

  load(loader: Loader): void {
    loader.add_option("client_replay", "str[]", [], "Replay client requests from saved files (pryx, mitmproxy or HAR), one at a time.", undefined, { paths: true, validate: filesExist("file") });
    this.options = loader.options;
  }

  async running(): Promise<void> {
    const files = this.options.client_replay as string[];
    if (!files.length) return;
    const requests: HTTPFlow[] = [];
    for (const file of files) {
      const { errors } = readFlows(file, (f) => {
        if (f instanceof HTTPFlow && f.request.method !== "CONNECT") requests.push(f);
      });
      for (const e of errors) this.log.warn(`client_replay: ${e}`);
    }
    this.log.info(`client replay: ${requests.length} request${requests.length === 1 ? "" : "s"} from ${files.join(", ")}`);
    const all = (async () => {
      for (const f of requests) await this.replay(f);
    })();
    if (this.waitForReplays) await all;
  }
}
