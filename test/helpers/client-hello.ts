import type { TestContext } from "node:test";
import net from "node:net";
import tls from "node:tls";
import { once } from "node:events";
import { closeAfter } from "./close-after.ts";

/** The first bytes a real node:tls client sends, captured by a plain TCP server on loopback. */
export async function helloFrom(t: TestContext, opts: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closeAfter(t, server);
  const got = once(server, "connection").then(async (args) => {
    const sock = args[0] as net.Socket;
    const [chunk] = (await once(sock, "data")) as [Buffer];
    sock.destroy();
    return chunk;
  });
  const { port } = server.address() as net.AddressInfo;
  const client = tls.connect({ host: "127.0.0.1", port, ...opts });
  client.on("error", () => undefined);
  const chunk = await Promise.race([got, new Promise<never>((_, rej) => setTimeout(() => rej(new Error("no ClientHello within 5 s")), 5000).unref())]);
  client.destroy();
  return chunk;
}
