import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";
import { Rules, jsReplacement, specMatches, subjectRegex, validRules } from "./spec.ts";

/**
 * mitmproxy's MapRemote: `[/filter]/url-regex/replacement` sends a matching request to the URL
 * the replacement makes of its own (scheme, host, port and path follow; so does a Host header).
 */
export class MapRemoteAddon {
  readonly name = "map_remote";
  private options: Readonly<Record<string, OptionValue>> = {};
  private readonly rules = new Rules();

  load(loader: Loader): void {
    loader.add_option("map_remote", "str[]", [], 'Map remote resources to another remote URL using a pattern of the form "[/flow-filter]/url-regex/replacement", where the separator can be any character.', undefined, { validate: validRules(false, (s) => subjectRegex(s)) });
    this.options = loader.options;
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    for (const s of this.rules.of(this.options.map_remote as string[])) {
      if (!specMatches(s, flow)) continue;
      const url = flow.request.pretty_url;
      const mapped = url.replace(subjectRegex(s, "g"), jsReplacement(s.replacement));
      if (mapped !== url) flow.request.url = mapped;
    }
  }
}
