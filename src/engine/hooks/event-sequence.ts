import type { AddonManager } from "./addon-manager.ts";
import type { Flow } from "../flow/flow.ts";
import { HTTPFlow } from "../flow/http.ts";
import { TCPFlow, UDPFlow } from "../flow/tcp.ts";
import { DNSFlow } from "../flow/dns.ts";

/**
 * The hooks a finished flow would have passed, in order (mitmproxy's eventsequence.iterate), for
 * flows read with `-r`: `pryx dump -n -r in.pryx -s script.ts -w out.pryx` runs a script over a
 * capture as mitmdump does. The flow is not live, so the built-ins that change traffic and the
 * intercept filter leave it alone.
 */
export async function replayHooks(addons: AddonManager, flow: Flow): Promise<void> {
  if (flow instanceof HTTPFlow) {
    await addons.trigger("requestheaders", flow);
    await addons.trigger("request", flow);
    if (flow.response) {
      await addons.trigger("responseheaders", flow);
      await addons.trigger("response", flow);
    }
    if (flow.websocket) {
      await startThenMessages(flow.websocket.messages, () => addons.trigger("websocket_start", flow), () => addons.trigger("websocket_message", flow));
      await addons.trigger("websocket_end", flow);
    }
  } else if (flow instanceof TCPFlow) {
    await startThenMessages(flow.messages, () => addons.trigger("tcp_start", flow), () => addons.trigger("tcp_message", flow));
    await addons.trigger(flow.error ? "tcp_error" : "tcp_end", flow);
  } else if (flow instanceof UDPFlow) {
    await startThenMessages(flow.messages, () => addons.trigger("udp_start", flow), () => addons.trigger("udp_message", flow));
    await addons.trigger(flow.error ? "udp_error" : "udp_end", flow);
  } else if (flow instanceof DNSFlow) {
    await addons.trigger("dns_request", flow);
    if (flow.response) await addons.trigger("dns_response", flow);
  }
  if (flow.error && flow instanceof HTTPFlow) await addons.trigger("error", flow);
  else if (flow.error && flow instanceof DNSFlow) await addons.trigger("dns_error", flow);
}

/**
 * `start` with the flow's message list emptied, then its messages back one at a time, each with
 * its `message` hook, as they arrived live (mitmproxy's eventsequence does the same): a script
 * that rewrites or drops messages works on a saved capture too.
 */
async function startThenMessages<T>(list: T[], start: () => Promise<void>, message: () => Promise<void>): Promise<void> {
  const held = list.splice(0);
  await start();
  for (const m of held) {
    list.push(m);
    await message();
  }
}
