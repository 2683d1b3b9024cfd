import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin } from "../helpers/origin.ts";
import { h1Request, pryxCaPem, startTlsOrigin } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import { CONNTRACK_FILE } from "../../src/engine/proxy/original-destination.ts";

const transparent = { mode: "transparent", ssl_insecure: "true" };

function connect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.once("error", reject);
  });
}

function tlsOver(socket: net.Socket, servername: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket, servername, ca: [pryxCaPem()] }, () => resolve(t));
    t.once("error", reject);
  });
}

/** What the proxy does with bytes it cannot route: it closes the connection. */
function closedAfterWriting(port: number, bytes: string): Promise<void> {
  return connect(port).then(
    (s) =>
      new Promise<void>((resolve) => {
        s.on("error", () => undefined);
        s.once("close", () => resolve());
        s.write(bytes);
      }),
  );
}

test("transparent mode without a redirect: the HTTP Host header or the TLS SNI names the server; bytes that name none, or name pryx, are closed with a log line", { timeout: 15_000 }, async (t) => {
  const plainOrigin = await startHttpOrigin((req, res) => res.end(`plain ${req.url} for ${req.headers.host}`));
  const tlsOrigin = await startTlsOrigin((req, res) => res.end(`tls ${req.path}`));
  const seen: string[] = [];
  const addon: Addon = {
    server_connect(data) {
      // The SNI names app.test on 443: point it at the test's origin, as DNS would.
      if (data.server.address?.[0] === "app.test") data.server.address = ["127.0.0.1", tlsOrigin.port];
    },
    request(flow) {
      seen.push(`${flow.client_conn.proxy_mode} ${flow.request.url}`);
    },
  };
  const proxy = await startProxy({ addons: [addon], options: transparent });
  closeAfter(t, proxy, plainOrigin, tlsOrigin);

  const plain = await h1Request(await connect(proxy.port), { host: `127.0.0.1:${plainOrigin.port}`, path: "/p", headers: { connection: "close" } });
  assert.equal(plain.body.toString(), `plain /p for 127.0.0.1:${plainOrigin.port}`);

  const secure = await tlsOver(await connect(proxy.port), "app.test");
  assert.match(String(secure.getPeerCertificate().subjectaltname), /DNS:app\.test/, "pryx's certificate for the SNI");
  const res = await h1Request(secure, { host: "app.test", path: "/s", headers: { connection: "close" } });
  assert.equal(res.body.toString(), "tls /s");
  assert.deepEqual(seen, [`transparent http://127.0.0.1:${plainOrigin.port}/p`, "transparent https://app.test/s"]);

  await closedAfterWriting(proxy.port, "hello, who is there?\n");
  await proxy.waitLog(/transparent mode: no redirect is recorded for 127\.0\.0\.1:\d+, and its first bytes name no server \(no TLS SNI, no HTTP Host header\); closed/);
  await closedAfterWriting(proxy.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`);
  await proxy.waitLog(new RegExp(`names this proxy itself \\(127\\.0\\.0\\.1:${proxy.port}\\)`));
  // And it still serves.
  const again = await h1Request(await connect(proxy.port), { host: `127.0.0.1:${plainOrigin.port}`, path: "/again", headers: { connection: "close" } });
  assert.equal(again.status, 200);
});

/** Adds an iptables REDIRECT for the test and removes it after; undefined when this machine cannot (no iptables, no privilege, no conntrack). */
function redirect(t: TestContext, rule: string[]): string | undefined {
  try {
    fs.accessSync(CONNTRACK_FILE, fs.constants.R_OK);
    execFileSync("iptables", ["-t", "nat", "-A", "OUTPUT", ...rule], { stdio: "pipe" });
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
  }
  t.after(() => execFileSync("iptables", ["-t", "nat", "-D", "OUTPUT", ...rule], { stdio: "pipe" }));
  return undefined;
}

test("transparent mode behind an iptables REDIRECT: the connection tracking table gives the original destination, and TLS to it is intercepted", { timeout: 15_000 }, async (t) => {
  const tlsOrigin = await startTlsOrigin((req, res) => res.end(`tls ${req.path}`));
  const plainOrigin = await startHttpOrigin((req, res) => res.end(`plain ${req.url}`));
  const proxy = await startProxy({ options: transparent });
  closeAfter(t, proxy, tlsOrigin, plainOrigin);
  // Only the test client's source address is redirected, so pryx's own connections to the origins are not.
  const source = `127.0.0.${10 + Math.floor(Math.random() * 240)}`;
  for (const port of [tlsOrigin.port, plainOrigin.port]) {
    const why = redirect(t, ["-p", "tcp", "-s", source, "-d", "127.0.0.1", "--dport", String(port), "-j", "REDIRECT", "--to-ports", String(proxy.port)]);
    if (why) return void t.skip(`cannot add an iptables REDIRECT here: ${why}`);
  }
  const secure = await tlsOver(await connect(tlsOrigin.port, source), "app.test");
  assert.match(String(secure.getPeerCertificate().issuer?.CN), /pryx/, "the client dialled the origin and got pryx's certificate: the redirect went through pryx");
  const res = await h1Request(secure, { host: "app.test", path: "/r", headers: { connection: "close" } });
  assert.equal(res.body.toString(), "tls /r");
  // No Host port and no SNI port: the plain request's port can only have come from the table.
  const plain = await h1Request(await connect(plainOrigin.port, source), { host: "app.test", path: "/q", headers: { connection: "close" } });
  assert.equal(plain.body.toString(), "plain /q");
  const flows = await proxy.waitFinished(2);
  assert.deepEqual(flows.map((f) => `${f.scheme}://${f.server ?? ""}${f.path}`).sort(), [`http://127.0.0.1:${plainOrigin.port}/q`, `https://127.0.0.1:${tlsOrigin.port}/r`]);
});
