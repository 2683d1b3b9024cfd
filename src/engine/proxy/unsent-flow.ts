import { HTTPFlow, type Request, type Response } from "../flow/http.ts";
import { FlowError, FlowKilled } from "../flow/flow.ts";
import { Server, type Client } from "../flow/connection.ts";
import type { ProxyContext } from "./context.ts";
import { errorHook } from "./exchange.ts";
import { waitIfIntercepted } from "./paused.ts";
import { now } from "../flow/now.ts";

/** How pryx ended a request it sent to no server: answered it itself (a refusal), or failed it. */
export type UnsentEnd = { response: Response } | { error: string };

/**
 * A flow for a request that never reached a server (refused for its credentials, its head refused
 * as malformed or cut off by http_head_timeout), run through its hooks before pryx answers the
 * client, as any flow's are. Every such flow goes the same way, so dump prints it, -w saves it
 * and the console lists it alike: stored while live; `requestheaders` when its head was read
 * whole (a CONNECT has no such hook); then `response` (a CONNECT's `http_connect_error`) for a
 * refusal, `error` for a failure. A flow an addon pauses waits for its resume as any other.
 * Returns false when it was killed on the way (it ends at `error`): the client gets no answer.
 * `started` is given the flow before its first hook.
 */
export async function recordUnsent(ctx: ProxyContext, client: Client, request: Request, headRead: boolean, end: UnsentEnd, started?: (flow: HTTPFlow) => void): Promise<boolean> {
  const flow = new HTTPFlow(client, new Server([request.host, request.port]), request);
  started?.(flow);
  const connect = request.method === "CONNECT";
  // mitmproxy's proxyauth answers during requestheaders: addons after it see the response there.
  if ("response" in end) answer(flow, end.response);
  ctx.credentials.stamp(flow);
  ctx.store.add(flow);
  try {
    if (headRead && !connect) await hook(ctx, flow, "requestheaders");
    if ("response" in end) await hook(ctx, flow, connect ? "http_connect_error" : "response");
    else {
      flow.error = new FlowError(end.error);
      await errorHook(ctx, flow);
    }
  } catch (err) {
    if (!(err instanceof FlowKilled)) throw err;
    await errorHook(ctx, flow);
  } finally {
    flow.live = false;
    ctx.notify(flow);
  }
  return !flow.killed;
}

function answer(flow: HTTPFlow, response: Response): void {
  flow.response = response;
  flow.request.timestamp_end = now();
  response.timestamp_end = flow.request.timestamp_end;
}

async function hook(ctx: ProxyContext, flow: HTTPFlow, name: "requestheaders" | "response" | "http_connect_error"): Promise<void> {
  await ctx.addons.trigger(name, flow);
  await waitIfIntercepted(ctx, flow);
}
