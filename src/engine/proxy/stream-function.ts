import type { StreamModifier } from "../flow/message.ts";
import type { RequestBody } from "./channel.ts";

const EMPTY = Buffer.alloc(0);

/**
 * What a stream function gave back, as bytes: bytes, text (as UTF-8), or any iterable of
 * those (a list, a generator), as mitmproxy takes any iterable of bytes.
 */
function asBytes(out: unknown): Buffer {
  if (typeof out === "string") return Buffer.from(out, "utf8");
  if (out instanceof Uint8Array) return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  if (out !== null && typeof out === "object" && Symbol.iterator in out) {
    return Buffer.concat([...(out as Iterable<unknown>)].map((part) => {
      if (typeof part === "string" || part instanceof Uint8Array) return asBytes(part);
      throw new TypeError(`a stream function's chunks must be bytes or strings, not ${typeof part}`);
    }));
  }
  throw new TypeError(`a stream function must return bytes, a string or an iterable of them, not ${out === null ? "null" : typeof out}`);
}

/**
 * One chunk through a message's stream function; an empty chunk asks for what the function held
 * back, as mitmproxy calls it once more with b"" when the body ends. A function that throws is
 * reported to `failed` and the chunk goes as it came.
 */
export function throughStreamFunction(fn: StreamModifier, chunk: Buffer, failed: (err: Error) => void): Buffer {
  try {
    return asBytes(fn(chunk));
  } catch (err) {
    failed(err instanceof Error ? err : new Error(String(err)));
    return chunk;
  }
}

/** The end of a streamed body: what the function still holds, sent before the body ends. */
export function streamFunctionTail(fn: StreamModifier, failed: (err: Error) => void): Buffer {
  return throughStreamFunction(fn, EMPTY, failed);
}

/**
 * A request body streamed through its stream function (mitmproxy's callable
 * `request.stream`): each chunk as the function changes it, and at the end what it held back,
 * handed over before `whenComplete` settles, so the server's last chunk comes after it.
 */
export function modifiedRequestBody(body: RequestBody, fn: StreamModifier, failed: (err: Error) => void): RequestBody {
  let deliver: ((chunk: Buffer) => boolean | void) | undefined;
  let ended: Promise<void> | undefined;
  return {
    get complete() {
      return body.complete;
    },
    get aborted() {
      return body.aborted;
    },
    get failure() {
      return body.failure;
    },
    get length() {
      return body.length;
    },
    get trailers() {
      return body.trailers;
    },
    get keepStreamed() {
      return body.keepStreamed;
    },
    set keepStreamed(v: boolean) {
      body.keepStreamed = v;
    },
    whenCompleteOrOver: (bytes) => body.whenCompleteOrOver(bytes),
    whenComplete: () =>
      (ended ??= body.whenComplete().then(() => {
        if (!body.complete || !deliver) return;
        const tail = streamFunctionTail(fn, failed);
        if (tail.length) deliver(tail);
      })),
    stream(onChunk) {
      deliver = onChunk;
      body.stream((c) => {
        const out = throughStreamFunction(fn, c, failed);
        return out.length ? onChunk(out) : true;
      });
    },
    resume: () => body.resume(),
    body: () => body.body(),
  };
}
