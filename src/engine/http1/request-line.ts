/**
 * The request line of a request that llhttp refused, looked at on its own. llhttp knows a
 * fixed list of methods and refuses bytes >= 0x80 in the target, where mitmproxy takes any
 * RFC 9110 token as a method and forwards the target's bytes as they came. The rest of the
 * message stays llhttp's: only this one line is split here, and only after llhttp refused it.
 */
import { isChunkedValue } from "./serialize.ts";
import { TOKEN } from "../flow/headers.ts";

const CR = 0x0d;
const LF = 0x0a;


export interface RequestLine {
  method: string;
  /** The request-target as a latin1 string, so each character is one byte as sent. */
  target: string;
  /** The version as sent; llhttp still judges it. */
  version: string;
}

/**
 * Splits `method SP target SP version` (one line, without its CR LF). Undefined when the
 * method is not a token, the target is empty or holds a control character, or a part is
 * missing: that line is malformed for mitmproxy too.
 */
export function splitRequestLine(line: Buffer): RequestLine | undefined {
  const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  const sp1 = line.indexOf(0x20);
  if (sp1 <= 0 || sp1 >= end) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 === -1 || sp2 === sp1 + 1 || sp2 >= end - 1 || line.indexOf(0x20, sp2 + 1) !== -1) return undefined;
  const method = line.toString("latin1", 0, sp1);
  if (!TOKEN.test(method)) return undefined;
  for (let i = sp1 + 1; i < sp2; i++) {
    const b = line[i] as number;
    if (b < 0x21 || b === 0x7f) return undefined;
  }
  return { method, target: line.toString("latin1", sp1 + 1, sp2), version: line.toString("latin1", sp2 + 1, end) };
}

/**
 * Where a message's first line (a request line, or a response's status line) starts in `buf`,
 * looking only before `end`. `afterMessage` says a message completed earlier in `buf`; then this
 * one starts after the last blank line, when that message ended with one (no body, or a chunked
 * body): a Content-Length body ends on any byte, and without llhttp's offsets the boundary
 * cannot be found, so the answer is undefined. Otherwise `buf` began between messages. Either
 * way, only the blank lines llhttp skips precede the line.
 */
export function requestLineStart(buf: Buffer, end: number, afterMessage: boolean, messageEndedWithLF: boolean): number | undefined {
  let from = 0;
  if (afterMessage) {
    if (!messageEndedWithLF) return undefined;
    from = lastBlankLineEnd(buf, end);
    if (from === -1) return undefined;
  }
  let i = from;
  while (i < end && (buf[i] === CR || buf[i] === LF)) i++;
  return i;
}

/**
 * Just past the last blank line that ends before `end`, or -1. `buf`'s start counts as a line's
 * (the message that completed in it ended on a byte in it).
 */
function lastBlankLineEnd(buf: Buffer, end: number): number {
  for (let lf = end > 0 ? buf.lastIndexOf(LF, end - 1) : -1; lf !== -1; ) {
    const prev = lf > 0 ? buf.lastIndexOf(LF, lf - 1) : -1;
    const length = lf - prev - 1;
    if (length === 0 || (length === 1 && buf[lf - 1] === CR)) return lf + 1;
    lf = prev;
  }
  return -1;
}

/** Whether a request with these fields ends with an LF on the wire: no body, or a chunked one. */
export function endsWithLF(rawHeaders: readonly string[]): boolean {
  let chunked = false;
  let length = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === "transfer-encoding") chunked = isChunkedValue(value);
    else if (name === "content-length") length = Number(value.trim());
  }
  return chunked || !(length > 0);
}
