import type { Loader } from "../hooks/loader.ts";
import type { Options, OptionValue } from "../options.ts";
import type { Headers } from "../flow/headers.ts";
import { constants as bufferConstants } from "node:buffer";
import { isChunked } from "../http1/serialize.ts";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** mitmproxy's human.parse_size: bytes, or a number with a b/k/m/g/t suffix (powers of 1024). */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([bkmgt]?)$/i.exec(text.trim());
  if (!m) throw new Error("expected a size in bytes, or with a k, m or g suffix (512k, 3m)");
  return Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number);
}

function validSize(v: OptionValue): void {
  if (typeof v === "string") parseSize(v);
}

/** The two thresholds in bytes: `limit` undefined when body_size_limit is not set; `stream` at most MAX_HELD_BODY. */
export interface BodySizes {
  stream: number | undefined;
  limit: number | undefined;
}

/**
 * The largest body pryx can hold: one Buffer's limit (4 GiB on Node 20). mitmproxy holds any body
 * it has the memory for; pryx streams a larger one as if stream_large_bodies said so, rather than
 * fail to join its parts (the client waited for a response that never came, and an upload got a
 * 502 naming a RangeError).
 */
export const MAX_HELD_BODY = bufferConstants.MAX_LENGTH;

const HELD_ONLY: BodySizes = { stream: MAX_HELD_BODY, limit: undefined };

/** The thresholds as set now (read once per exchange, as mitmproxy reads them per message). */
export function bodySizes(options: Options): BodySizes {
  if (!options.has("body_size_limit")) return HELD_ONLY;
  const stream = options.get<string | undefined>("stream_large_bodies");
  const limit = options.get<string | undefined>("body_size_limit");
  if (stream === undefined && limit === undefined) return HELD_ONLY;
  return { stream: Math.min(stream === undefined ? MAX_HELD_BODY : parseSize(stream), MAX_HELD_BODY), limit: limit === undefined ? undefined : parseSize(limit) };
}

/**
 * mitmproxy's check_body_size: a body expected (by its Content-Length, or by what has arrived)
 * to be larger than body_size_limit ends the flow; one larger than stream_large_bodies streams.
 */
export function sizeVerdict(sizes: BodySizes, expected: number | undefined): "limit" | "stream" | undefined {
  if (expected === undefined || expected <= 0) return undefined;
  if (sizes.limit !== undefined && expected > sizes.limit) return "limit";
  if (sizes.stream !== undefined && expected > sizes.stream) return "stream";
  return undefined;
}

/** The body size the headers announce: the Content-Length, unless chunked (then unknown until it arrives). */
export function announcedSize(headers: Headers): number | undefined {
  if (isChunked(headers)) return undefined;
  const cl = headers.get("content-length")?.trim();
  return cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
}

/** The smaller threshold: a buffered body is checked again once it has grown past it. */
export function firstThreshold(sizes: BodySizes): number | undefined {
  const set = [sizes.stream, sizes.limit].filter((n): n is number => n !== undefined);
  return set.length ? Math.min(...set) : undefined;
}

/**
 * Registers mitmproxy's `stream_large_bodies` and `body_size_limit`. As in mitmproxy (where
 * the proxyserver addon owns them), the HTTP exchange applies them, after the headers hooks.
 */
export class BodySizeAddon {
  readonly name = "body_size";

  load(loader: Loader): void {
    loader.add_option(
      "stream_large_bodies",
      "optional str",
      undefined,
      "Stream data to the client if request or response body exceeds the given threshold (512k, 1m). If streamed, the body is not stored and cannot be modified.",
      undefined,
      { validate: validSize },
    );
    loader.add_option(
      "body_size_limit",
      "optional str",
      undefined,
      "Byte size limit of HTTP request and response bodies. Understands k/m/g suffixes, i.e. 3m for 3 megabytes.",
      undefined,
      { validate: validSize },
    );
  }
}
