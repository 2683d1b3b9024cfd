/**
 * Reason phrases. A module of its own, free of the flow model, so that the console and dump
 * show them without loading the engine's classes.
 */

/** HTTP/2 and HTTP/3: pseudo-headers, and no reason phrase. */
export function isH2OrH3(httpVersion: string): boolean {
  return httpVersion.startsWith("HTTP/2") || httpVersion.startsWith("HTTP/3");
}

// RFC 9110's phrases (and the registry's for the WebDAV and later codes): every code mitmproxy
// names, and those it does not that servers send (421, 422, 429, 451…).
const REASONS: Record<number, string> = {
  100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
  200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
  205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used",
  300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
  414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
  418: "I'm a teapot", 421: "Misdirected Request", 422: "Unprocessable Content", 423: "Locked",
  424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required",
  429: "Too Many Requests", 431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
  504: "Gateway Timeout", 505: "HTTP Version Not Supported", 506: "Variant Also Negotiates",
  507: "Insufficient Storage", 508: "Loop Detected", 510: "Not Extended", 511: "Network Authentication Required",
};

export function defaultReason(status: number): string {
  return REASONS[status] ?? "";
}

/**
 * The reason phrase to show or write on an HTTP/1 status line. HTTP/2 and HTTP/3 have none (the
 * flow's reason is "", as mitmproxy's is), so the status code's standard phrase stands in, as
 * mitmdump prints it and mitmproxy writes it to an HTTP/1 client. An HTTP/1 response's own
 * phrase is shown as it came, even empty.
 */
export function shownReason(status: number, reason: string, httpVersion: string): string {
  return isH2OrH3(httpVersion) ? defaultReason(status) : reason;
}
