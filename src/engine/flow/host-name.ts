/**
 * Internationalized host names. DNS, a Host header, an SNI and a certificate's SAN carry ASCII:
 * an IDN travels as its IDNA A-label form (punycode, `xn--bcher-kva.test` for `bücher.test`),
 * which is how browsers and curl send one. A name that reaches pryx in another form (an addon's
 * `flow.request.host = "bücher.test"`, a ClientHello name an addon chose) is turned into that
 * form where it leaves pryx.
 */
import { isIP } from "node:net";
import { domainToASCII } from "node:url";

const NON_ASCII = /[^\x00-\x7f]/;
const A_LABEL = /(^|\.)xn--/i;

/**
 * `host`'s ASCII form: an IP address or a plain ASCII name as it is (case kept), a name with
 * non-ASCII characters in punycode; undefined when it is no valid IDNA name (a non-ASCII
 * character IDNA forbids, or an `xn--` label that does not decode).
 */
export function asciiHost(host: string): string | undefined {
  if (isIP(host) !== 0 || (!NON_ASCII.test(host) && !A_LABEL.test(host))) return host;
  return domainToASCII(host) || undefined;
}

/** The name to put on the wire: its ASCII form, or `host` as it is when it has none (the lookup then fails naming it). */
export function wireHost(host: string): string {
  return asciiHost(host) ?? host;
}

/**
 * Why the host of a request target (absolute-form or a CONNECT's authority) is refused, or
 * undefined when it is fine. `latin1Host` holds the bytes as sent, one character each. As
 * mitmproxy 8's request-line parser does, a host must be ASCII and valid IDNA: raw UTF-8
 * there is a 400, which names the punycode form the client should have sent.
 */
export function targetHostProblem(latin1Host: string): string | undefined {
  if (NON_ASCII.test(latin1Host)) {
    const text = Buffer.from(latin1Host, "latin1").toString("utf8");
    const ascii = asciiHost(text);
    const hint = ascii ? `: send it in its IDNA (punycode) form, ${ascii}, as browsers and curl do` : ", nor a valid internationalized (IDNA) name";
    return `the host ${JSON.stringify(text)} in the request target is not ASCII${hint}`;
  }
  if (asciiHost(latin1Host) === undefined) return `the host ${JSON.stringify(latin1Host)} in the request target is not a valid internationalized (IDNA) name: an xn-- label must be valid punycode`;
  return undefined;
}
