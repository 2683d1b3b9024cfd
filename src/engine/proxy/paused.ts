import { FlowKilled, type Flow } from "../flow/flow.ts";
import type { ProxyContext } from "./context.ts";

/**
 * After a hook: if an addon (the intercept filter, or a script's `flow.intercept()`) paused the
 * flow, the UI learns of it and the connection waits until the user resumes it. A kill, by the
 * user now or by an addon's `flow.kill()` in the hook (mitmproxy's check_killed), rejects with
 * FlowKilled, which the caller turns into its own way of dropping the flow.
 */
export async function waitIfIntercepted(ctx: ProxyContext, flow: Flow): Promise<void> {
  if (flow.killed) throw new FlowKilled();
  if (!flow.intercepted) return;
  ctx.notify(flow);
  await flow.waitForResume();
  ctx.notify(flow);
}
