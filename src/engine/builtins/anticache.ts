import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";

/**
 * mitmproxy's AntiCache: with `anticache` on, requests lose If-Modified-Since and
 * If-None-Match, so the server answers with the whole body instead of 304 Not Modified.
 */
export class AntiCacheAddon {
  readonly name = "anticache";
  private options: Readonly<Record<string, OptionValue>> = {};

  load(loader: Loader): void {
    loader.add_option("anticache", "bool", false, "Strip out request headers that might cause the server to return 304-not-modified.");
    this.options = loader.options;
  }

  request(flow: HTTPFlow): void {
    if (!this.options.anticache) return;
    const headers = flow.request.plainHeaders;
    headers.delete("if-modified-since");
    headers.delete("if-none-match");
  }
}
