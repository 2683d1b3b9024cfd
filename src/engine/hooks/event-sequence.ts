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
      await addons.trigger("websocket_start", flow);
      await addons.trigger("websocket_end", flow);
    }
  } else if (flow instanceof TCPFlow) {
    await addons.trigger("tcp_start", flow);
    await addons.trigger(flow.error ? "tcp_error" : "tcp_end", flow);
  } else if (flow instanceof UDPFlow) {
    await addons.trigger("udp_start", flow);
    await addons.trigger(flow.error ? "udp_error" : "udp_end", flow);
  } else if (flow instanceof DNSFlow) {
    await addons.trigger("dns_request", flow);
    if (flow.response) await addons.trigger("dns_response", flow);
  }
  if (flow.error && flow instanceof HTTPFlow) await addons.trigger("error", flow);
  else if (flow.error && flow instanceof DNSFlow) await addons.trigger("dns_error", flow);
}
