/**
 * A slow hook that does not hold up other flows (mitmproxy's examples/addons/nonblocking.py):
 * an async hook that awaits (a lookup, a delay) holds back only its own flow; requests from
 * other connections go on meanwhile. Here every request waits `nonblocking_delay_ms`.
 *
 *   pryx dump -s addons/nonblocking.ts --set nonblocking_delay_ms=5000
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ctx, type Addon, type Loader, type http } from "pryx";

class Nonblocking implements Addon {
  readonly name = "nonblocking";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("nonblocking_delay_ms", "int", 5000, "How long the nonblocking addon holds each request, in milliseconds.");
  }

  async request(flow: http.HTTPFlow): Promise<void> {
    const where = `${flow.request.host}${flow.request.path}`;
    ctx.log.info(`handle request: ${where}`);
    await sleep(Number(this.loader?.options["nonblocking_delay_ms"] ?? 0));
    ctx.log.info(`start  request: ${where}`);
  }
}

export default new Nonblocking();
