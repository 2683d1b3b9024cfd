import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";

/** mitmproxy's AntiComp: with `anticomp` on, requests ask for Accept-Encoding: identity (an uncompressed body). */
export class AntiCompAddon {
  readonly name = "anticomp";
  private options: Readonly<Record<string, OptionValue>> = {};

  load(loader: Loader): void {
    loader.add_option("anticomp", "bool", false, "Try to convince servers to send us un-compressed data.");
    this.options = loader.options;
  }

  request(flow: HTTPFlow): void {
    if (this.options.anticomp) flow.request.plainHeaders.set("accept-encoding", "identity");
  }
}
