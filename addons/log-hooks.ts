/**
 * Logs every hook as it fires, with a timestamp, to stderr (the terminal in `pryx dump`,
 * the event log in the console). Handy for learning the hook order.
 *
 *   pryx dump -s addons/log-hooks.ts
 */
import type { Addon, HookName } from "pryx";

function log(hook: HookName, what = ""): void {
  process.stderr.write(`${new Date().toISOString()} ${hook}${what ? ` ${what}` : ""}\n`);
}

export default {
  name: "log-hooks",
  load: () => log("load"),
  configure: (updated) => log("configure", `${updated.size} options`),
  running: () => log("running"),
  done: () => log("done"),
  update: (flows) => log("update", `${flows.length} flows`),
  client_connected: (client) => log("client_connected", client.peername.join(":")),
  client_disconnected: (client) => log("client_disconnected", client.peername.join(":")),
  server_connect: (data) => log("server_connect", data.server.address?.join(":")),
  server_connected: (data) => log("server_connected", data.server.address?.join(":")),
  server_disconnected: (data) => log("server_disconnected", data.server.address?.join(":")),
  server_connect_error: (data) => log("server_connect_error", data.server.error),
  requestheaders: (flow) => log("requestheaders", flow.request.url),
  request: (flow) => log("request", flow.request.url),
  responseheaders: (flow) => log("responseheaders", String(flow.response?.status_code)),
  response: (flow) => log("response", String(flow.response?.status_code)),
  error: (flow) => log("error", flow.error?.msg),
  http_connect: (flow) => log("http_connect", flow.request.url),
  http_connect_upstream: (flow) => log("http_connect_upstream", flow.request.url),
  websocket_start: (flow) => log("websocket_start", flow.request.url),
  websocket_message: (flow) => log("websocket_message", flow.request.url),
  websocket_end: (flow) => log("websocket_end", flow.request.url),
  tcp_start: () => log("tcp_start"),
  tcp_message: () => log("tcp_message"),
  tcp_end: () => log("tcp_end"),
  tcp_error: (flow) => log("tcp_error", flow.error?.msg),
  dns_request: () => log("dns_request"),
  dns_response: () => log("dns_response"),
  dns_error: (flow) => log("dns_error", flow.error?.msg),
} satisfies Addon;
