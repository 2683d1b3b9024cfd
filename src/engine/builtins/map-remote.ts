import type { HTTPFlow } from "../flow/http.ts";
import { RuleAddon, jsReplacement, subjectRegex } from "./spec.ts";

/**
 * mitmproxy's MapRemote: `[/filter]/url-regex/replacement` sends a matching request to the URL
 * the replacement makes of its own (scheme, host, port and path follow; so does a Host header).
 */
export class MapRemoteAddon extends RuleAddon {
  constructor() {
    super("map_remote", 'Map remote resources to another remote URL using a pattern of the form "[/flow-filter]/url-regex/replacement", where the separator can be any character.', {
      check: (s) => subjectRegex(s),
    });
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    for (const s of this.matching(flow)) {
      const url = flow.request.pretty_url;
      const mapped = url.replace(subjectRegex(s, "g"), jsReplacement(s.replacement));
      if (mapped !== url) flow.request.url = mapped;
    }
  }
}
