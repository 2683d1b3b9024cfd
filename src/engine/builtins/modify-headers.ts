import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";
import type { Headers } from "../flow/headers.ts";
import type { Log } from "../log.ts";
import { Rules, replacementOf, specMatches, validRules } from "./spec.ts";

/**
 * mitmproxy's ModifyHeaders: `[/filter]/name/[@]value` sets a header on matching requests (in
 * `request`) and responses (in `response`); an empty value only removes it. Every rule's filter
 * is judged on the flow as it came, then all named headers go, then the values are added.
 */
export class ModifyHeadersAddon {
  readonly name = "modify_headers";
  private options: Readonly<Record<string, OptionValue>> = {};
  private readonly rules = new Rules();

  constructor(private readonly log: Log) {}

  load(loader: Loader): void {
    loader.add_option("modify_headers", "str[]", [], 'Header modify pattern of the form "[/flow-filter]/header-name/[@]header-value", where the separator can be any character. The @ reads the value from a file; an empty value removes the header.', undefined, { validate: validRules(false) });
    this.options = loader.options;
  }

  private run(flow: HTTPFlow, headers: Headers): void {
    const specs = this.rules.of(this.options.modify_headers as string[]);
    const hits = specs.filter((s) => specMatches(s, flow));
    for (const s of hits) headers.delete(s.subject);
    for (const s of hits) {
      let value: Buffer;
      try {
        value = replacementOf(s);
      } catch (err) {
        this.log.warn(`modify_headers: could not read the replacement file of ${s.text}: ${(err as Error).message}`);
        continue;
      }
      // Header values are byte strings (one char per byte).
      if (value.length) headers.add(s.subject, value.toString("latin1"));
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
