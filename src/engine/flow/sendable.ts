/**
 * What an addon or an edit may have put in a message that cannot go on the wire: a status code
 * that is no number from 100 to 999, a method that is no token, CR or LF in a field. Written as
 * they are, such fields break the message's framing (a reason or value with CR LF adds a header
 * of its own: response splitting) or make a head no peer can read. Checked once, just before a
 * message is sent, so the flow says which value could not be sent rather than sending it.
 */
import type { Headers } from "./headers.ts";
import type { Request, Response } from "./http.ts";
import { TOKEN } from "./headers.ts";

export class UnsendableError extends Error {}

/** Line breaks end a line of the head early; any other byte a peer sent (under validate_inbound_headers=false) is passed on. */
const BREAKS_LINE = /[\r\n]/;
/** A request-target is one word of visible characters (bytes >= 0x80 a client sent are kept). */
const NOT_IN_TARGET = /[\x00-\x20\x7f]/;
const VERSION = /^HTTP\/\d(\.\d)?$/;

function refuse(field: string, value: unknown, rule: string): never {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new UnsendableError(`${field} is ${shown}, which cannot be sent: ${rule} (set by an addon or an edit?)`);
}

function checkFields(owner: string, headers: Headers | undefined): void {
  const flat = headers?.flat ?? [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    if (!TOKEN.test(name)) refuse(`a field name in ${owner}`, name, "a header name is a token, without spaces, colons or line breaks");
    if (BREAKS_LINE.test(value)) refuse(`${owner}[${JSON.stringify(name)}]`, value, "a header value may not hold CR or LF");
  }
}

/** Throws an UnsendableError naming the first field of `req` that cannot be sent. */
export function checkSendableRequest(req: Request): void {
  if (typeof req.method !== "string" || !TOKEN.test(req.method)) refuse("flow.request.method", req.method, "a method is a token such as GET or POST, without spaces or line breaks");
  // A CONNECT's target is its authority; an HTTP/2 server gets the path as :path, which holds no spaces either.
  if (typeof req.path !== "string" || NOT_IN_TARGET.test(req.path)) refuse("flow.request.path", req.path, "a request target holds no spaces, control characters or line breaks");
  checkFields("flow.request.headers", req.headers);
  checkFields("flow.request.trailers", req.trailers);
}

/** Throws an UnsendableError naming the first field of `res` that cannot be sent; `maxStatus`: the client's protocol's highest code. */
export function checkSendableResponse(res: Response, maxStatus = 999): void {
  const code: unknown = res.status_code;
  if (typeof code !== "number" || !Number.isInteger(code) || code < 100 || code > maxStatus) refuse("flow.response.status_code", code, `a status code is an integer from 100 to ${maxStatus}${maxStatus < 999 ? " for an HTTP/2 client" : ""}`);
  if (typeof res.reason !== "string" || BREAKS_LINE.test(res.reason)) refuse("flow.response.reason", res.reason, "a reason phrase may not hold CR or LF");
  if (typeof res.http_version !== "string" || !VERSION.test(res.http_version)) refuse("flow.response.http_version", res.http_version, "a version is HTTP/ and its number, such as HTTP/1.1");
  checkFields("flow.response.headers", res.headers);
  checkFields("flow.response.trailers", res.trailers);
}
