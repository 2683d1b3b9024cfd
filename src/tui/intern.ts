import type { FlowSummary } from "../protocol.ts";
import { StringPool } from "../string-pool.ts";

/**
 * Summaries cross from the engine as fresh copies of the same few strings (method, scheme,
 * version, reason, content type, addresses). Swapping each for one shared copy lets the
 * duplicates die young instead of being promoted, and walked by every major GC, with the
 * hundreds of thousands of summaries a console holds.
 */
const pool = new StringPool(20_000);
const shared = <T extends string | undefined>(s: T): T => pool.share(s);

/** Replaces the summary's repetitive strings with shared copies, in place. */
export function shareStrings(f: FlowSummary): void {
  f.type = shared(f.type);
  f.method = shared(f.method);
  f.scheme = shared(f.scheme);
  f.host = shared(f.host);
  f.httpVersion = shared(f.httpVersion);
  f.reason = shared(f.reason);
  f.contentType = shared(f.contentType);
  f.client = shared(f.client);
  f.server = shared(f.server);
  f.comment = shared(f.comment);
  f.error = shared(f.error);
}
