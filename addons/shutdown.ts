/**
 * Stops pryx when a request for one URL comes in (mitmproxy's examples/addons/shutdown.py):
 * `ctx.master.shutdown()` ends pryx as Ctrl-C does, every addon's `done` hook running first.
 * For scripted runs that end themselves: a test suite's last request, say.
 *
 *   pryx dump -s addons/shutdown.ts --set shutdown_url=http://example.com/path
 *   curl -x localhost:8080 http://example.com/path
 */
import { ctx, type Addon, type Loader, type http } from "pryx";

class Shutdown implements Addon {
  readonly name = "shutdown";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("shutdown_url", "str", "http://example.com/path", "A request for this URL stops pryx.");
  }

  request(flow: http.HTTPFlow): void {
    if (flow.request.pretty_url !== this.loader?.options["shutdown_url"]) return;
    ctx.log.info("Shutting down everything...");
    ctx.master.shutdown();
  }
}

export default new Shutdown();
