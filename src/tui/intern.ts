import type { FlowSummary } from "../protocol.ts";

/**
 * Summaries cross from the engine as fresh copies of the same few strings (method, scheme,
 * version, reason, content type, addresses). Swapping each for one shared copy lets the
 * duplicates die young instead of being promoted, and walked by every major GC, with the
 * hundreds of thousands of summaries a console holds. Bounded: a table that fills up (new
 * client ports, say) starts over.
 */
const MAX_STRINGS = 20_000;
const pool = new Map<string, string>();

function shared<T extends string | undefined>(s: T): T {
  if (s === undefined) return s;
  const known = pool.get(s);
  if (known !== undefined) return known as T;
  if (pool.size >= MAX_STRINGS) pool.clear();
  pool.set(s, s);
  return s;
}

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
