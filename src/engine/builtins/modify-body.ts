import type { HTTPFlow, Request, Response } from "../flow/http.ts";
import type { Log } from "../log.ts";
import { RuleAddon, checkReplacementFile, jsReplacement, subjectRegex } from "./spec.ts";

/**
 * mitmproxy's ModifyBody: `[/filter]/regex/[@]replacement` replaces in the (decoded) body of
 * matching requests and responses, byte for byte: the body is matched as a byte string, and
 * the replacement takes mitmproxy's \1 or JS's $1 for a group.
 */
export class ModifyBodyAddon extends RuleAddon {
  constructor(log: Log) {
    super("modify_body", 'Replacement pattern of the form "[/flow-filter]/regex/[@]replacement", where the separator can be any character. The @ reads the replacement from a file.', {
      check: (s) => {
        subjectRegex(s);
        checkReplacementFile(s);
      },
      log,
    });
  }

  private run(flow: HTTPFlow, message: Request | Response): void {
    for (const s of this.matching(flow)) {
      const replacement = this.replacement(s);
      if (!replacement) continue;
      let body: Uint8Array | undefined;
      try {
        body = message.content;
      } catch (err) {
        // As mitmproxy's, which fails on such a body: replacing in its encoded bytes would garble it.
        this.warn(s, `${(err as Error).message}; left as it is`);
        return;
      }
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
