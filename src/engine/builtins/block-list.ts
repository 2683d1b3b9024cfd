import { Response, type HTTPFlow } from "../flow/http.ts";
import { RuleAddon } from "./spec.ts";

/** nginx's "no response": the connection is closed without an answer. */
const NO_RESPONSE = 444;

function statusOf(value: string): number {
  const n = Number(value);
  if (!/^\d{3}$/.test(value) || n < 100) throw new Error(`${JSON.stringify(value)} is not an HTTP status code`);
  return n;
}

/**
 * mitmproxy's BlockList: `/filter/status` answers a matching request with that status and an
 * empty body, the server not asked; 444 closes the connection without an answer.
 */
export class BlockListAddon extends RuleAddon {
  constructor() {
    super("block_list", 'Block matching requests and return an empty response with the specified HTTP status. Option syntax is "/flow-filter/status-code"; 444 closes the connection without a response.', {
      filterRequired: true,
      check: (s) => statusOf(s.subject),
    });
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    for (const s of this.matching(flow)) {
      const status = statusOf(s.subject);
      flow.metadata.blocklisted = true;
      if (status === NO_RESPONSE) flow.kill();
      else flow.response = Response.make(status, "");
      return;
    }
  }
}
