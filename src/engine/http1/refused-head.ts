/**
 * A request head that llhttp refused, read leniently for its flow: mitmproxy shows such a
 * request (both Content-Length and Transfer-Encoding, a control byte in a header value, a
 * header name that is no token) as a flow with an error, where a request without one was
 * invisible but for a log line. Only a head whose request line is `method SP target SP
 * HTTP/x.y` is read; nothing read here is ever sent on, so lines that cannot be headers are
 * left out, not guessed at.
 */
import { splitRequestLine } from "./request-line.ts";
import { TOKEN } from "../flow/headers.ts";

const LF = 0x0a;
const CR = 0x0d;
const VERSION = /^HTTP\/\d\.\d$/;
/** What llhttp refuses in a value when strict: controls but HTAB (obs-text, >= 0x80, it takes). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export interface RefusedHead {
  method: string;
  /** The request-target as a latin1 string, as llhttp gives it. */
  url: string;
  httpVersion: string;
  /** Flat [name, value…] as on the wire (names as sent, values without the whitespace around them). */
  rawHeaders: string[];
  /**
   * What llhttp would refuse in the headers, the first of each kind in wire order: a line that
   * is no header or a name that is no token (llhttp's "Invalid header token"), and a value with
   * a control byte ("Invalid header value char").
   */
  faults: { token?: string; value?: string };
}

/**
 * Reads `bytes` (from the request line on) up to the blank line that ends the head, or up to
 * the last whole line when the rest of the head has not arrived. Undefined when the request
 * line is not one.
 */
export function readRefusedHead(bytes: Buffer): RefusedHead | undefined {
  const lines = headLines(bytes);
  const first = lines.shift();
  const line = first === undefined ? undefined : splitRequestLine(Buffer.from(first, "latin1"));
  if (line === undefined || !VERSION.test(line.version)) return undefined;
  const head: RefusedHead = { method: line.method, url: line.target, httpVersion: line.version, rawHeaders: [], faults: {} };
  const raw = head.rawHeaders;
  for (const text of lines) {
    // obs-fold: one space in place of the fold, as llhttp (and RFC 9112 5.2) unfolds it.
    if (text[0] === " " || text[0] === "\t") {
      if (raw.length) raw[raw.length - 1] = `${raw[raw.length - 1] as string} ${text.trim()}`;
      continue;
    }
    const colon = text.indexOf(":");
    if (colon <= 0) {
      head.faults.token ??= `invalid header line ${JSON.stringify(text)}: no name and colon`;
      continue;
    }
    const name = text.slice(0, colon);
    const value = text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!TOKEN.test(name)) head.faults.token ??= `invalid header name ${JSON.stringify(name)}: not an HTTP token`;
    const control = CONTROL.exec(value);
    if (control) head.faults.value ??= `invalid header value for ${name}: control character 0x${control[0].charCodeAt(0).toString(16).padStart(2, "0")}`;
    raw.push(name, value);
  }
  return head;
}

/** The head's lines as latin1 text without their CR LF, up to the blank line (or the last whole line). */
function headLines(bytes: Buffer): string[] {
  const lines: string[] = [];
  let at = 0;
  for (;;) {
    const lf = bytes.indexOf(LF, at);
    if (lf === -1) return lines;
    const end = lf > at && bytes[lf - 1] === CR ? lf - 1 : lf;
    if (end === at) return lines;
    lines.push(bytes.toString("latin1", at, end));
    at = lf + 1;
  }
}

/**
 * llhttp's reason said with what the head shows: which header, which byte. Undefined when the
 * head shows nothing that matches llhttp's reason (then its words stand).
 */
export function refusalDetail(code: string, reason: string, head: RefusedHead): string | undefined {
  // llhttp's "Content-Length can't be present with Transfer-Encoding", and the other way round.
  if (/can't be present/.test(reason)) return "both Content-Length and Transfer-Encoding (refused: a request smuggling risk, RFC 9112 6.3)";
  if (code !== "HPE_INVALID_HEADER_TOKEN") return undefined;
  if (/value char/.test(reason)) return head.faults.value;
  return /header token/.test(reason) ? head.faults.token : undefined;
}
