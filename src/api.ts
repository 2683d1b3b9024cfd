/**
 * What addons import: `import { http, tcp, udp, dns, type Addon } from "pryx"`.
 * Names follow mitmproxy's so an addon ports line by line.
 */
import { HTTPFlow, Request, Response } from "./engine/flow/http.ts";
import { Headers } from "./engine/flow/headers.ts";
import { WebSocketData, WebSocketMessage } from "./engine/flow/websocket.ts";
import { TCPFlow, TCPMessage, UDPFlow, UDPMessage } from "./engine/flow/tcp.ts";
import { DNSFlow, DNSMessage, RCODES, ResourceRecord, types as dnsTypes, classes as dnsClasses } from "./engine/flow/dns.ts";
import { Client, ClientHello, ClientHelloData, Server, ServerConnectionHookData, Socks5AuthData, NextLayerData, TlsData } from "./engine/flow/connection.ts";
import { compileFilter } from "./engine/filter/index.ts";
import { filterable } from "./engine/flow-filter.ts";
import { Flow, FlowError } from "./engine/flow/flow.ts";

export const http = { HTTPFlow, Request, Response, Headers };
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace http {
  type HTTPFlow = import("./engine/flow/http.ts").HTTPFlow;
  type Request = import("./engine/flow/http.ts").Request;
  type Response = import("./engine/flow/http.ts").Response;
  type Headers = import("./engine/flow/headers.ts").Headers;
}
export const websocket = { WebSocketData, WebSocketMessage };
export const tcp = { TCPFlow, TCPMessage };
export declare namespace tcp {
  type TCPFlow = import("./engine/flow/tcp.ts").TCPFlow;
  type TCPMessage = import("./engine/flow/tcp.ts").TCPMessage;
}
export const udp = { UDPFlow, UDPMessage };
export declare namespace udp {
  type UDPFlow = import("./engine/flow/tcp.ts").UDPFlow;
  type UDPMessage = import("./engine/flow/tcp.ts").TCPMessage;
}
export const dns = { DNSFlow, DNSMessage, ResourceRecord, types: dnsTypes, classes: dnsClasses, response_codes: RCODES };
export declare namespace dns {
  type DNSFlow = import("./engine/flow/dns.ts").DNSFlow;
  type DNSMessage = import("./engine/flow/dns.ts").DNSMessage;
  type ResourceRecord = import("./engine/flow/dns.ts").ResourceRecord;
}
export const connection = { Client, Server, ServerConnectionHookData, Socks5AuthData, NextLayerData };
/** mitmproxy's `tls` module: what the tls_* hooks get. */
export const tls = { ClientHello, ClientHelloData, TlsData };
export declare namespace tls {
  type ClientHello = import("./engine/flow/connection.ts").ClientHello;
  type ClientHelloData = import("./engine/flow/connection.ts").ClientHelloData;
  type TlsData = import("./engine/flow/connection.ts").TlsData;
}
export { Flow, FlowError, Headers, Client, Server, ServerConnectionHookData, Socks5AuthData, NextLayerData };
export { AddonHalt } from "./engine/hooks/addon-manager.ts";

/** A compiled filter: whether a flow matches. */
export type FlowMatcher = (flow: Flow) => boolean;

/**
 * mitmproxy's `flowfilter`: `parse(expr)` compiles a filter (a syntax error throws, naming where),
 * `match(filter, flow)` tests a flow with a compiled filter or an expression.
 */
export const flowfilter = {
  parse(expr: string): FlowMatcher {
    const pred = compileFilter(expr);
    return (flow) => pred(filterable(flow));
  },
  /** No filter (undefined, null, "") matches every flow, as mitmproxy's `match(None, flow)` does. */
  match(filter: FlowMatcher | string | undefined | null, flow: Flow): boolean {
    if (!filter) return true;
    return (typeof filter === "string" ? flowfilter.parse(filter) : filter)(flow);
  },
};
export { ctx } from "./engine/hooks/ctx.ts";
export type { CommandValues, CommandValue } from "./engine/hooks/ctx.ts";
export type { Addon, HookName, HookArgs } from "./engine/hooks/hooks.ts";
export type { Loader } from "./engine/hooks/loader.ts";
