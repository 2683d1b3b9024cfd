import { decodeUrlencoded, isUrlencodedType } from "../../urlencoded.ts";
import { multipartBoundary, parseMultipart } from "../../multipart.ts";

/**
 * A request body's form fields, in order, for matching (not for display): urlencoded pairs, or
 * the name and bytes of each multipart/form-data part. Undefined for any other body.
 */
export function formFields(contentType: string | undefined, body: Uint8Array): [string, string][] | undefined {
  if (isUrlencodedType(contentType)) return decodeUrlencoded(Buffer.from(body).toString("latin1"));
  const boundary = multipartBoundary(contentType);
  if (!boundary) return undefined;
  return parseMultipart(body, boundary).flatMap((p): [string, string][] => (p.name === undefined ? [] : [[p.name, p.content.toString("latin1")]]));
}
