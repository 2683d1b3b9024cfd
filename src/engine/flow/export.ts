import { http1HostField, type HTTPFlow, type Request, type Response } from "./http.ts";

export const EXPORT_FORMATS = ["curl", "httpie", "raw", "raw_request", "raw_response"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The headers curl and httpie would send themselves, left out of their commands: the length,
 * a Host that is the URL's own authority, and a Connection that only says keep-alive or close.
 * A Host naming another site (a virtual host under test) and `Connection: Upgrade` (a WebSocket
 * handshake) are kept, as mitmproxy keeps them.
 */
function redundantInCommand(name: string, value: string, urlAuthority: string): boolean {
  switch (name.toLowerCase()) {
    case "content-length":
    case "proxy-connection":
      return true;
    case "host":
      return value.trim().toLowerCase() === urlAuthority;
    case "connection":
      return /^\s*(keep-alive|close)\s*$/i.test(value);
    default:
      return false;
  }
}

/** The request's headers as a command gives them, less those the client adds itself. */
function commandHeaders(r: HTTPFlow["request"]): [string, string][] {
  let authority = "";
  try {
    authority = new URL(r.pretty_url).host.toLowerCase();
  } catch {
    // No URL to take an authority from: every Host header is kept.
  }
  // Bytes, which commandText shows as UTF-8 where they are.
  return r.headers.byteFields().filter(([n, v]) => !redundantInCommand(n, v, authority));
}

function bodyText(b: Uint8Array | undefined): string | undefined {
  if (!b || b.length === 0) return undefined;
  return Buffer.from(b).toString("utf8");
}

/** The body as a shell argument when it survives one exactly: valid UTF-8 without NUL (a shell string cannot hold NUL). */
function quotableBody(b: Uint8Array): string | undefined {
  const text = bodyText(b);
  if (text === undefined || text.includes("\0") || !Buffer.from(text, "utf8").equals(Buffer.from(b))) return undefined;
  return text;
}

/** `printf '…'` writing exactly these bytes (POSIX octal escapes), for piping a binary body into the command. */
function printfBytes(b: Uint8Array): string {
  let out = "";
  for (const [i, byte] of b.entries()) {
    const c = String.fromCharCode(byte);
    if (c === "%") out += "%%";
    // A format beginning with "-" is an option to printf (bash and dash refuse it): a multipart
    // body's "--boundary" piped nothing.
    else if (byte >= 0x20 && byte < 0x7f && c !== "\\" && c !== "'" && !(i === 0 && c === "-")) out += c;
    else out += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `printf '${out}'`;
}

/**
 * A URL or header as the text a command line holds: pryx keeps them as their bytes, one char
 * each (latin1), so UTF-8 in them is decoded here, or the shell would send each byte as two.
 */
function commandText(s: string): string {
  if (!/[\x80-\xff]/.test(s) || /[^\x00-\xff]/.test(s)) return s;
  const bytes = Buffer.from(s, "latin1");
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? text : s;
}

/**
 * A message's body as the bytes after its head: a chunked one framed as one chunk, its trailers
 * after the last (as mitmproxy assembles it), so the export is a message an HTTP parser reads.
 */
function rawBody(m: Request | Response): string {
  const body = m.raw_content ? Buffer.from(m.raw_content).toString("latin1") : "";
  if (!/\bchunked\b/i.test(m.headers.get("transfer-encoding") ?? "")) return body;
  const chunk = body ? `${body.length.toString(16)}\r\n${body}\r\n` : "";
  return `${chunk}0\r\n${m.trailers ? m.trailers.toWire() : ""}\r\n`;
}

function rawRequest(f: HTTPFlow): string {
  const r = f.request;
  // Written as HTTP/1.1, an HTTP/2 request names its authority in a Host line, as it goes to an HTTP/1 server.
  const host = http1HostField(r);
  const hostLine = host === undefined ? "" : `Host: ${host}\r\n`;
  return `${r.method} ${r.path} ${r.http_version.startsWith("HTTP/2") ? "HTTP/1.1" : r.http_version}\r\n${hostLine}${r.headers.toWire()}\r\n${rawBody(r)}`;
}

function rawResponse(f: HTTPFlow): string {
  const s = f.response;
  if (!s) throw new Error("the flow has no response to export");
  return `${s.http_version.startsWith("HTTP/2") ? "HTTP/1.1" : s.http_version} ${s.status_code} ${s.reason}\r\n${s.headers.toWire()}\r\n${rawBody(s)}`;
}

/**
 * `--resolve host:port:[ip]` for a curl export, so it reaches the server the flow reached
 * (mitmproxy's export_preserve_original_ip): nothing when the host is that address already.
 */
function resolveToOriginal(f: HTTPFlow): string[] {
  const ip = f.server_conn.peername?.[0];
  const r = f.request;
  if (!ip || r.pretty_host === ip) return [];
  return ["--resolve", shellQuote(`${r.pretty_host}:${r.port}:[${ip}]`)];
}

/**
 * A flow as a command or raw text that reproduces it (mitmproxy's export formats).
 * `preserveIp`: a curl export connects to the address the flow's server connection had.
 */
export function exportFlow(f: HTTPFlow, format: ExportFormat, preserveIp = false): string {
  const r = f.request;
  switch (format) {
    case "curl": {
      // GET is curl's own method: mitmproxy leaves -X out for it too. HEAD is -I: with -X HEAD
      // curl waits for a body that never comes.
      const method = r.method === "GET" ? [] : r.method === "HEAD" ? ["-I"] : ["-X", r.method];
      const url = commandText(r.pretty_url);
      // curl would read [] and {} as its URL globbing, and squash /../ and /./ in the path.
      const asIs = [...(/[[\]{}]/.test(url) ? ["-g"] : []), ...(/\/\.\.?(\/|$|\?)/.test(r.path) ? ["--path-as-is"] : [])];
      const parts = ["curl", ...(preserveIp ? resolveToOriginal(f) : []), ...method, ...asIs, shellQuote(url)];
      // As mitmproxy's: Accept-Encoding becomes --compressed, so that running the command prints
      // the body decoded rather than gzip bytes on the terminal.
      let compressed = false;
      for (const [n, v] of commandHeaders(r)) {
        if (n.toLowerCase() === "accept-encoding") compressed = true;
        // "Name;" is curl's way to send a header with no value ("Name:" takes it away).
        else parts.push("-H", shellQuote(commandText(v === "" ? `${n};` : `${n}: ${v}`)));
      }
      if (compressed) parts.push("--compressed");
      if (r.http_version.startsWith("HTTP/2")) parts.push("--http2");
      // The body as it was sent (raw_content), so a Content-Encoding header still describes it.
      const raw = r.raw_content;
      if (!raw || raw.length === 0) return parts.join(" ");
      const body = quotableBody(raw);
      // --data-binary reads a file for a body beginning with "@": --data-raw takes it as it is.
      if (body !== undefined) return [...parts, body.startsWith("@") ? "--data-raw" : "--data-binary", shellQuote(body)].join(" ");
      return `${printfBytes(raw)} | ${[...parts, "--data-binary", "@-"].join(" ")}`;
    }
    case "httpie": {
      const parts = ["http", r.method, shellQuote(commandText(r.pretty_url))];
      // "Name: value", as mitmproxy writes it: without the space httpie reads "X:=1" as a JSON
      // field, "X:=@f" as a file, and "X:" as taking the header away.
      for (const [n, v] of commandHeaders(r)) parts.push(shellQuote(commandText(`${n}: ${v}`)));
      // Piped from printf, not `<<<`: a here-string adds a newline and cannot carry binary bytes.
      const raw = r.raw_content;
      return raw && raw.length ? `${printfBytes(raw)} | ${parts.join(" ")}` : parts.join(" ");
    }
    case "raw_request":
      return rawRequest(f);
    case "raw_response":
      return rawResponse(f);
    case "raw": {
      if (!f.response) return rawRequest(f);
      const parts = [rawRequest(f), rawResponse(f)];
      // As mitmproxy's raw export: a WebSocket's messages follow, one a line, marked by direction.
      if (f.websocket) parts.push(f.websocket.messages.map((m) => `${m.from_client ? "[OUTGOING]" : "[INCOMING]"} ${Buffer.from(m.content).toString("latin1")}`).join("\n"));
      return parts.join("\r\n\r\n");
    }
  }
}
