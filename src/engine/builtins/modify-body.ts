import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow, Request, Response } from "../flow/http.ts";
import type { Log } from "../log.ts";
import { Rules, jsReplacement, replacementOf, specMatches, subjectRegex, validRules } from "./spec.ts";

/**
 * mitmproxy's ModifyBody: `[/filter]/regex/[@]replacement` replaces in the (decoded) body of
 * matching requests and responses, byte for byte: the body is matched as a byte string, and
 * the replacement takes mitmproxy's \1 or JS's $1 for a group.
 */
export class ModifyBodyAddon {
  readonly name = "modify_body";
  private options: Readonly<Record<string, OptionValue>> = {};
  private readonly rules = new Rules();

  constructor(private readonly log: Log) {}

  load(loader: Loader): void {
    loader.add_option("modify_body", "str[]", [], 'Replacement pattern of the form "[/flow-filter]/regex/[@]replacement", where the separator can be any character. The @ reads the replacement from a file.', undefined, { validate: validRules(false, (s) => subjectRegex(s)) });
    this.options = loader.options;
  }

  private run(flow: HTTPFlow, message: Request | Response): void {
    for (const s of this.rules.of(this.options.modify_body as string[])) {
      if (!specMatches(s, flow)) continue;
      let replacement: Buffer;
      try {
        replacement = replacementOf(s);
      } catch (err) {
        this.log.warn(`modify_body: could not read the replacement file of ${s.text}: ${(err as Error).message}`);
        continue;
      }
      const body = message.content;
      if (!body) continue;
      const before = Buffer.from(body).toString("latin1");
      // A regex typed as text matches the body's UTF-8 bytes.
      const re = subjectRegex(s, "gs", true);
      const after = before.replace(re, jsReplacement(replacement.toString("latin1")));
      if (after !== before) message.content = Buffer.from(after, "latin1");
    }
  }

  request(flow: HTTPFlow): void {
    if (flow.response || flow.error || !flow.live) return;
    this.run(flow, flow.request);
  }

  response(flow: HTTPFlow): void {
    if (flow.error || !flow.live || !flow.response) return;
    this.run(flow, flow.response);
  }
}
