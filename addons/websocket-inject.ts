/**
 * Injects WebSocket messages into live connections (mitmproxy's
 * examples/addons/websocket-inject-message.py): a message with "secret" in it is dropped and
 * its sender gets "ssssssh" back instead; and with `websocket_inject_ms` above 0, every client
 * gets "hello from pryx" that often until its connection closes.
 *
 *   pryx dump -s addons/websocket-inject.ts --set websocket_inject_ms=1000
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ctx, type Addon, type Loader, type http } from "pryx";

class WebsocketInject implements Addon {
  readonly name = "websocket-inject";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("websocket_inject_ms", "int", 0, "Send every WebSocket client a message this often, in milliseconds (0: never).");
  }

  websocket_message(flow: http.HTTPFlow): void {
    const last = flow.websocket?.messages.at(-1);
    if (!last || !last.content.includes("secret")) return;
    last.drop();
    // As in mitmproxy, not awaited: a failure is a warning in the event log, not the hook's.
    void ctx.master.commands.call("inject.websocket", flow, last.from_client, "ssssssh");
  }

  websocket_start(flow: http.HTTPFlow): void {
    const every = Number(this.loader?.options["websocket_inject_ms"] ?? 0);
    // Not awaited: the hook returns and the connection goes on while the loop runs beside it.
    if (every > 0) void this.greet(flow, every);
  }

  private async greet(flow: http.HTTPFlow, every: number): Promise<void> {
    while (flow.websocket && flow.websocket.timestamp_end === undefined && !flow.error) {
      void ctx.master.commands.call("inject.websocket", flow, true, "hello from pryx");
      await sleep(every);
    }
  }
}

export default new WebsocketInject();
