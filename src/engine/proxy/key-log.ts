import fs from "node:fs";
import type tls from "node:tls";

/**
 * TLS secrets in the NSS key log format, as mitmproxy writes them for MITMPROXY_SSLKEYLOGFILE
 * (or SSLKEYLOGFILE): Wireshark then decrypts both of pryx's TLS legs, the client's and the
 * server's. Without either variable nothing is listened for, so nothing costs.
 */
const KEY_LOG_FILE = process.env["MITMPROXY_SSLKEYLOGFILE"] || process.env["SSLKEYLOGFILE"] || undefined;

let out: fs.WriteStream | undefined;

export function logTlsKeys(socket: tls.TLSSocket): void {
  if (!KEY_LOG_FILE) return;
  socket.on("keylog", (line: Buffer) => {
    if (!out) {
      out = fs.createWriteStream(KEY_LOG_FILE, { flags: "a" });
      // A file that cannot be written is no reason to fail a connection.
      out.on("error", () => undefined);
    }
    out.write(line);
  });
}
