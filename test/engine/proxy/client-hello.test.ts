import { test } from "node:test";
import assert from "node:assert/strict";
import { parseClientHello } from "../../../src/engine/proxy/client-hello.ts";
import { helloFrom } from "../../helpers/client-hello.ts";

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
