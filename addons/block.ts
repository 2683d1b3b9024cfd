/**
 * Answers every request for one host with 403 without contacting it.
 *
 *   pryx dump -s addons/block.ts --set block_host=ads.example
 */
import { http, type Addon, type Loader } from "pryx";

class Block implements Addon {
  readonly name = "block";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("block_host", "str", "blocked.test", "Requests to this host are answered with 403 by the block addon.");
  }

  request(flow: http.HTTPFlow): void {
    const host = String(this.loader?.options["block_host"] ?? "");
    if (host && flow.request.pretty_host === host)
      flow.response = http.Response.make(403, `Blocked by pryx: ${host}\n`, { "content-type": "text/plain" });
  }
}

export default new Block();
