/**
 * Rewrites bytes in raw TCP and UDP traffic, both ways (mitmproxy's tcp-simple example, for UDP
 * too). With a reverse:tcp or reverse:udp listener in front of a service:
 *
 *   pryx dump -m reverse:tcp://127.0.0.1:6379@16379 -s addons/replace-bytes.ts --set replace_bytes=foo/bar
 */
import type { Addon, Loader, tcp, udp } from "pryx";

class ReplaceBytes implements Addon {
  readonly name = "replace-bytes";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("replace_bytes", "str", "foo/bar", "FROM/TO: the bytes the replace-bytes addon rewrites in TCP and UDP messages.");
  }

  tcp_message(flow: tcp.TCPFlow): void {
    this.rewrite(flow.messages.at(-1));
  }

  udp_message(flow: udp.UDPFlow): void {
    this.rewrite(flow.messages.at(-1));
  }

  private rewrite(message: tcp.TCPMessage | undefined): void {
    const spec = String(this.loader?.options["replace_bytes"] ?? "");
    const cut = spec.indexOf("/");
    if (!message || cut <= 0) return;
    const from = Buffer.from(spec.slice(0, cut));
    const to = Buffer.from(spec.slice(cut + 1));
    const content = Buffer.from(message.content);
    const parts: Buffer[] = [];
    let at = 0;
    for (let i = content.indexOf(from); i !== -1; i = content.indexOf(from, at)) {
      parts.push(content.subarray(at, i), to);
      at = i + from.length;
    }
    if (parts.length) message.content = Buffer.concat([...parts, content.subarray(at)]);
  }
}

export default new ReplaceBytes();
