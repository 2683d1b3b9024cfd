/** What flow.set sets (mitmproxy's flow.set.options), for the engine's command and the prompt's completion. */
export const FLOW_SET_ATTRS = ["host", "status_code", "method", "path", "url", "reason"] as const;
