import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { startProxy, portOf } from "../helpers/proxy.ts";
import { originCertificate, tlsViaProxy } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { waitUntil } from "../helpers/wait.ts";
import { readBytes } from "../helpers/read-bytes.ts";

const GREETING = "* OK IMAP4rev1 ready\r\n";

/** What the IMAPS origin counts: TCP connections got and still open, and each one's ALPN offers. */
interface ImapsOrigin {
  port: number;
  total: number;
  open: number;
  offers: string[][];
  close(): Promise<void>;
}

/** A TLS server that greets first (IMAPS), unless asked for quiet.test, and answers every chunk. */
async function startImapsOrigin(): Promise<ImapsOrigin> {
  const cert = originCertificate();
  const sockets = new Set<net.Socket>();
  const offers: string[][] = [];
  const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, ALPNCallback: ({ protocols }) => (offers.push(protocols), protocols[0]) }, (s) => {
    s.on("error", () => undefined);
    if (s.servername !== "quiet.test") s.write(GREETING);
    s.on("data", (d: Buffer) => s.write(`a1 OK ${d.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const origin: ImapsOrigin = {
    port: portOf(server),
    total: 0,
    open: 0,
    offers,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  server.on("connection", (s: net.Socket) => {
    origin.total++;
    origin.open++;
    sockets.add(s);
    s.on("close", () => {
      origin.open--;
      sockets.delete(s);
    });
  });
  return origin;
}

test("connection_strategy=eager: a TLS client that agrees no ALPN and stays silent (IMAPS) gets the server's greeting on the connection opened at the CONNECT; the server sees that one connection, and none is left open", { timeout: 15_000 }, async (t) => {
  const origin = await startImapsOrigin();
  const proxy = await startProxy({ keepFlows: true, options: { connection_strategy: "eager", ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);

  const imap = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "imap.test", alpn: [] });
  assert.equal((await readBytes(imap, GREETING.length)).toString(), GREETING, "the greeting came without the client sending a byte");
  imap.write("LOGIN\r\n");
  assert.equal((await readBytes(imap, 13)).toString(), "a1 OK LOGIN\r\n");
  assert.deepEqual([origin.total, origin.open], [1, 1], "one server connection, the one opened at the CONNECT");
  imap.end();
  await waitUntil(() => origin.open === 0 || undefined, `every server connection closed with the client (open: ${origin.open})`);

  // A server that waits for its client, which says nothing for a while and then speaks (not HTTP).
  const quiet = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "quiet.test", alpn: [] });
  await new Promise((r) => setTimeout(r, 300));
  quiet.write("NOOP\r\n");
  assert.equal((await readBytes(quiet, 12)).toString(), "a1 OK NOOP\r\n");
  assert.deepEqual([origin.total, origin.open], [2, 1], "the late bytes went on the connection opened at the CONNECT");
  quiet.end();
  await waitUntil(() => origin.open === 0 || undefined, `every server connection closed with the client (open: ${origin.open})`);
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => f.type), ["tcp", "tcp"]);
});

test("connection_strategy=eager: a silent TLS client that agreed its own protocol gets a server connection that offers it; the one opened at the CONNECT (offered HTTP/1.1) is closed first, not left open", { timeout: 15_000 }, async (t) => {
  const origin = await startImapsOrigin();
  const proxy = await startProxy({ options: { connection_strategy: "eager", ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);

  const imap = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${origin.port}`, servername: "imap.test", alpn: ["imap"] });
  assert.equal(imap.alpnProtocol, "imap");
  assert.equal((await readBytes(imap, GREETING.length)).toString(), GREETING);
  imap.write("LOGIN\r\n");
  assert.equal((await readBytes(imap, 13)).toString(), "a1 OK LOGIN\r\n");
  assert.deepEqual(origin.offers.at(-1), ["imap"], "the relay's connection offered the client's protocol");
  assert.deepEqual([origin.total, origin.open], [2, 1], "the connection opened at the CONNECT is closed");
  imap.end();
  await waitUntil(() => origin.open === 0 || undefined, `every server connection closed with the client (open: ${origin.open})`);
});

test("connection_strategy=eager: a server that resets the connection pryx secured at the ClientHello, before any request takes it, is no internal error; the request goes on a new connection", { timeout: 15_000 }, async (t) => {
  const cert = originCertificate();
  let connections = 0;
  const raw: net.Socket[] = [];
  const origin = tls.createServer({ key: cert.keyPem, cert: cert.certPem, ALPNProtocols: ["http/1.1"] }, (s) => {
    s.on("error", () => undefined);
    // The first connection, the eager one, is reset once its handshake is done.
    if (++connections === 1) return void setTimeout(() => raw[0]?.resetAndDestroy(), 20);
    s.once("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfresh"));
  });
  origin.on("connection", (s: net.Socket) => raw.push(s.on("error", () => undefined)));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const proxy = await startProxy({ keepFlows: true, options: { connection_strategy: "eager", ssl_insecure: "true" } });
  closeAfter(t, proxy, { close: () => new Promise<void>((r) => origin.close(() => r())) });

  const client = await tlsViaProxy(proxy.port, { target: `127.0.0.1:${portOf(origin)}`, servername: "reset.test" });
  await waitUntil(() => connections === 1 || undefined, "the eager connection");
  await new Promise((r) => setTimeout(r, 200));
  client.write("GET / HTTP/1.1\r\nHost: reset.test\r\n\r\n");
  const chunks: Buffer[] = [];
  for await (const c of client) chunks.push(c as Buffer);
  assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200 OK[\s\S]*fresh$/);
  proxy.engine.flush();
  assert.deepEqual(proxy.logs.filter((l) => /internal error/.test(l.msg)).map((l) => l.msg), [], "no internal error logged");
});
