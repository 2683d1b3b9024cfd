import type { HTTPFlow } from "../flow/http.ts";
import type { Headers } from "../flow/headers.ts";
import type { Log } from "../log.ts";
import { RuleAddon, checkReplacementFile } from "./spec.ts";
import { decodeSurrogateEscape } from "../../urlencoded.ts";

/**
 * mitmproxy's ModifyHeaders: `[/filter]/name/[@]value` sets a header on matching requests (in
 * `request`) and responses (in `response`); an empty value only removes it. Every rule's filter
 * is judged on the flow as it came, then all named headers go, then the values are added.
 */
export class ModifyHeadersAddon extends RuleAddon {
  constructor(log: Log) {
    super("modify_headers", 'Header modify pattern of the form "[/flow-filter]/header-name/[@]header-value", where the separator can be any character. The @ reads the value from a file; an empty value removes the header.', { log, check: checkReplacementFile });
  }

  private run(flow: HTTPFlow, headers: Headers): void {
    // Every filter is judged on the flow as it came, before any header changes.
    const hits = [...this.matching(flow)];
    for (const s of hits) headers.delete(s.subject);
    for (const s of hits) {
      const value = this.replacement(s);
      if (!value) continue;
      // The line end a file written by echo or an editor ends with is not part of the value (a
      // header cannot hold one). Decoded as `add` takes text, so the bytes go out as they are.
      const text = decodeSurrogateEscape(value).replace(/\r?\n$/, "");
      if (!text) continue;
      try {
        headers.add(s.subject, text);
      } catch (err) {
        this.warn(s, (err as Error).message);
      }
    }
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    this.run(flow, flow.request.plainHeaders);
  }

  response(flow: HTTPFlow): void {
    if (flow.error || !flow.live || !flow.response) return;
    this.run(flow, flow.response.plainHeaders);
  }
}
