import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { once } from "node:events";
import { parseClientHello } from "../../../src/engine/proxy/client-hello.ts";
import { closeAfter } from "../../helpers/close-after.ts";

/** The first bytes a real node:tls client sends, captured by a plain TCP server on loopback. */
async function helloFrom(t: TestContext, opts: tls.ConnectionOptions): Promise<Buffer> {
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

test("reads SNI and ALPN from a real node:tls ClientHello", { timeout: 10_000 }, async (t) => {
  const hello = await helloFrom(t, { servername: "app.example.test", ALPNProtocols: ["h2", "http/1.1"] });
  assert.deepEqual(parseClientHello(hello), { sni: "app.example.test", alpn: ["h2", "http/1.1"] });
});

test("a ClientHello without SNI (a client dialling an IP address) gives no name", { timeout: 10_000 }, async (t) => {
  const hello = await helloFrom(t, { servername: "" });
  assert.deepEqual(parseClientHello(hello), { sni: undefined, alpn: [] });
});

test("truncated, corrupt or non-TLS bytes give undefined, never a throw", { timeout: 10_000 }, async (t) => {
  const hello = await helloFrom(t, { servername: "cut.example.test" });
  for (let n = 0; n < hello.length; n += 7) assert.equal(parseClientHello(hello.subarray(0, n)), undefined, `cut at ${n}`);
  assert.equal(parseClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n")), undefined);
  // Lengths that point past the record: every byte of the body flipped in turn must not throw.
  for (let i = 5; i < hello.length; i++) {
    const bad = Buffer.from(hello);
    bad[i] = bad[i]! ^ 0xff;
    assert.doesNotThrow(() => parseClientHello(bad));
  }
});
