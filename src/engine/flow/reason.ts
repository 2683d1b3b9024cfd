/**
 * Reason phrases. A module of its own, free of the flow model, so that the console and dump
 * show them without loading the engine's classes.
 */

/** HTTP/2 and HTTP/3: pseudo-headers, and no reason phrase. */
export function isH2OrH3(httpVersion: string): boolean {
  return httpVersion.startsWith("HTTP/2") || httpVersion.startsWith("HTTP/3");
}

const REASONS: Record<number, string> = {
  100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
  206: "Partial Content", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
  404: "Not Found", 405: "Method Not Allowed", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 413: "Content Too Large", 418: "I'm a teapot", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout",
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
