/**
 * What an addon, an edit or a peer may have put in a message that cannot go on the wire: a
 * status code that is no number from 100 to 999 (or past 599 for an HTTP/2 client), a method
 * that is no token, CR or LF in a field. Written as they are, such fields break the message's
 * framing (a reason or value with CR LF adds a header of its own: response splitting) or make a
 * head no peer can read. Checked once, just before a message is sent, so the flow says which
 * value could not be sent, and who put it there, rather than sending it.
 */
import type { Headers } from "./headers.ts";
import type { Request, Response } from "./http.ts";
import { TOKEN } from "./headers.ts";

export class UnsendableError extends Error {}

/**
 * A message's head as its peer sent it, taken before any hook: a refused value that is still
 * the peer's is said to be the peer's (a server's 799 to an HTTP/2 client), not an addon's.
 * The header fields are not copied: while their version is unchanged they are the peer's.
 */
export interface ReceivedHead {
  readonly peer: "the client" | "the server";
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly status_code: number | undefined;
  readonly reason: string | undefined;
  readonly http_version: string | undefined;
  /** The fields without their Proxy, as `Message.plainHeaders` gives them. */
  readonly headers: Headers;
  readonly headersVersion: number;
}

/**
 * Notes `m`'s head as `peer` sent it; later edits do not reach the note. One object literal of
 * one shape for both kinds: this runs twice per exchange, and building it with a spread
 * (`{ ...common, status_code }`) cost V8 about 3 µs each time.
 */
export function receivedHead(peer: ReceivedHead["peer"], m: Request | Response): ReceivedHead {
  const headers = m.plainHeaders;
  const response = "status_code" in m;
  return {
    peer,
    method: response ? undefined : m.method,
    path: response ? undefined : m.path,
    status_code: response ? m.status_code : undefined,
    reason: response ? m.reason : undefined,
    http_version: response ? m.http_version : undefined,
    headers,
    headersVersion: headers.version,
  };
}

/** Line breaks end a line of the head early; any other byte a peer sent (under validate_inbound_headers=false) is passed on. */
const BREAKS_LINE = /[\r\n]/;
/** A request-target is one word of visible characters (bytes >= 0x80 a client sent are kept). */
const NOT_IN_TARGET = /[\x00-\x20\x7f]/;
const VERSION = /^HTTP\/\d(\.\d)?$/;

function refuse(field: string, value: unknown, rule: string, peerSentIt: ReceivedHead["peer"] | undefined): never {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  const source = peerSentIt ? `as ${peerSentIt} sent it` : "set by an addon or an edit?";
  throw new UnsendableError(`${field} is ${shown}, which cannot be sent: ${rule} (${source})`);
}

type Scalar = "method" | "path" | "status_code" | "reason" | "http_version";

/** The peer, when `value` is what it sent as `key`. */
function sender(received: ReceivedHead | undefined, key: Scalar, value: unknown): ReceivedHead["peer"] | undefined {
  return received && received[key] !== undefined && Object.is(received[key], value) ? received.peer : undefined;
}

/**
 * Refuses the first field of `headers` that cannot be sent. Fields still as the peer's parser
 * delivered them (the same object, its version unchanged) are not walked again: llhttp, under
 * every lenient flag pryx gives it, and nghttp2 deliver no name that is no token and no value
 * holding CR or LF (a line break ends the value), so any field refused here was put by an addon
 * or an edit. `received` only for the head's fields: trailers come later and are not in it.
 */
function checkFields(owner: string, headers: Headers | undefined, received: ReceivedHead | undefined): void {
  if (headers === undefined || (received !== undefined && headers === received.headers && headers.version === received.headersVersion)) return;
  const flat = headers.flat;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    if (!TOKEN.test(name)) refuse(`a field name in ${owner}`, name, "a header name is a token, without spaces, colons or line breaks", undefined);
    if (BREAKS_LINE.test(value)) refuse(`${owner}[${JSON.stringify(name)}]`, value, "a header value may not hold CR or LF", undefined);
  }
}

/** Throws an UnsendableError naming the first field of `req` that cannot be sent; `received`: the client's head, to name the source. */
export function checkSendableRequest(req: Request, received?: ReceivedHead): void {
  if (typeof req.method !== "string" || !TOKEN.test(req.method)) refuse("flow.request.method", req.method, "a method is a token such as GET or POST, without spaces or line breaks", sender(received, "method", req.method));
  // A CONNECT's target is its authority; an HTTP/2 server gets the path as :path, which holds no spaces either.
  if (typeof req.path !== "string" || NOT_IN_TARGET.test(req.path)) refuse("flow.request.path", req.path, "a request target holds no spaces, control characters or line breaks", sender(received, "path", req.path));
  checkFields("flow.request.headers", req.plainHeaders, received);
  checkFields("flow.request.trailers", req.trailers, undefined);
}

/**
 * Throws an UnsendableError naming the first field of `res` that cannot be sent; `maxStatus`: the
 * client's protocol's highest code; `received`: the server's head, to name the source.
 */
export function checkSendableResponse(res: Response, maxStatus = 999, received?: ReceivedHead): void {
  const code: unknown = res.status_code;
  if (typeof code !== "number" || !Number.isInteger(code) || code < 100 || code > maxStatus) refuse("flow.response.status_code", code, `a status code is an integer from 100 to ${maxStatus}${maxStatus < 999 ? " for an HTTP/2 client" : ""}`, sender(received, "status_code", code));
  if (typeof res.reason !== "string" || BREAKS_LINE.test(res.reason)) refuse("flow.response.reason", res.reason, "a reason phrase may not hold CR or LF", sender(received, "reason", res.reason));
  if (typeof res.http_version !== "string" || !VERSION.test(res.http_version)) refuse("flow.response.http_version", res.http_version, "a version is HTTP/ and its number, such as HTTP/1.1", sender(received, "http_version", res.http_version));
  checkFields("flow.response.headers", res.plainHeaders, received);
  checkFields("flow.response.trailers", res.trailers, undefined);
}
