import { decodeUrlencoded, isUrlencodedType } from "../../urlencoded.ts";

/**
 * A request body's form fields, in order, for matching (not for display): urlencoded pairs, or
 * the name and bytes of each multipart/form-data part. Undefined for any other body.
 */
export function formFields(contentType: string | undefined, body: Uint8Array): [string, string][] | undefined {
  if (isUrlencodedType(contentType)) return decodeUrlencoded(Buffer.from(body).toString("latin1"));
  if (contentType?.split(";")[0]?.trim().toLowerCase() !== "multipart/form-data") return undefined;
  const boundary = /;\s*boundary="?([^";]+)"?/i.exec(contentType ?? "")?.[1];
  if (!boundary) return undefined;
  const text = Buffer.from(body).toString("latin1");
  const fields: [string, string][] = [];
  for (const part of text.split(`--${boundary}`).slice(1)) {
    if (part.startsWith("--")) break;
    const split = part.indexOf("\r\n\r\n");
    if (split === -1) continue;
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    if (name !== undefined) fields.push([name, part.slice(split + 4).replace(/\r\n$/, "")]);
  }
  return fields;
}
