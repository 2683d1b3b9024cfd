import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { startRawOrigin } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { httpsViaProxy, startTlsOrigin } from "../helpers/tls-origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { flowFilter } from "../../src/engine/flow-filter.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

/**
 * Internationalized host names (IDNs). On the wire a name is ASCII: bücher.test travels as its
 * IDNA form xn--bcher-kva.test. No resolver knows the test names, so a server_connect hook sends
 * every server connection to the local origin, keeping the name pryx asked for.
 */

const PUNY = "xn--bcher-kva.test";
const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** Sends every server connection to 127.0.0.1:`port`, noting the address pryx would have used. */
function toLocal(port: () => number, asked: string[]): Addon {
  return {
    name: "to-local",
    server_connect(data) {
      asked.push(`${data.server.address?.[0]}:${data.server.address?.[1]}`);
      data.server.address = ["127.0.0.1", port()];
    },
  };
}

function hostFields(received: Buffer[]): string[] {
  return [...Buffer.concat(received).toString("latin1").matchAll(/\r\nHost: ([^\r]*)/gi)].map((m) => m[1] as string);
}

test("a punycode host in the request line reaches the server by that name with an ASCII Host; an addon's Unicode host goes out as punycode; ~d matches both forms", { timeout: 10_000 }, async (t) => {
  const origin = await startRawOrigin(() => OK);
  const asked: string[] = [];
  const flows: HTTPFlow[] = [];
  const rename: Addon = {
    name: "rename",
    request(flow) {
      if (flow.request.path === "/renamed") flow.request.host = "bücher.test";
    },
    response: (flow) => void flows.push(flow),
  };
  const proxy = await startProxy({ addons: [toLocal(() => origin.port, asked), rename] });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  // As curl sends http://bücher.test:PORT/: the name in punycode, in the request line and the Host.
  for (const path of ["/", "/renamed"]) {
    client.send(`GET http://${PUNY}:8000${path} HTTP/1.1\r\nHost: ${PUNY}:8000\r\n\r\n`);
    assert.equal((await client.response()).status, 200);
  }
  // The server's address is the request's host as given (mitmproxy's too); its lookup goes by the punycode.
  assert.deepEqual(asked, [`${PUNY}:8000`, "bücher.test:8000"]);
  // The Host the addon's Unicode name makes is ASCII, as the name's lookup and any Host header must be.
  assert.deepEqual(hostFields(origin.received), [`${PUNY}:8000`, `${PUNY}:8000`]);
  const [plain, renamed] = flows as [HTTPFlow, HTTPFlow];
  const r = plain.request;
  assert.deepEqual([r.host, r.pretty_host, r.url, r.pretty_url], [PUNY, PUNY, `http://${PUNY}:8000/`, `http://${PUNY}:8000/`]);
  const summaries = await proxy.waitFinished(2);
  assert.equal(summaries[0]?.url, `http://${PUNY}:8000/`, "the flow list's and dump's URL");
  assert.deepEqual([renamed.request.host, renamed.request.pretty_host, renamed.request.url], ["bücher.test", PUNY, `http://${PUNY}:8000/renamed`]);
  for (const expr of ["~d bücher", `~d ${PUNY}`]) {
    assert.deepEqual(flows.map((f) => flowFilter(expr)?.(f)), [true, true], expr);
  }
});

test("an addon's Unicode host goes to an upstream proxy in punycode, in the request line and the Host", { timeout: 10_000 }, async (t) => {
  const upstream = await startRawOrigin(() => OK);
  const rename: Addon = { name: "rename", request: (flow) => void (flow.request.host = "bücher.test") };
  const proxy = await startProxy({ addons: [rename], options: { mode: `upstream:http://127.0.0.1:${upstream.port}` } });
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, upstream);
  client.send("GET http://app.test:8000/p HTTP/1.1\r\nHost: app.test:8000\r\n\r\n");
  assert.equal((await client.response()).status, 200);
  assert.match(Buffer.concat(upstream.received).toString("latin1"), new RegExp(`^GET http://${PUNY}:8000/p HTTP/1\\.1\r\nHost: ${PUNY}:8000\r\n\r\n$`));
});

test("a request-line host that is raw UTF-8 or not valid IDNA is a 400 naming the problem, as in mitmproxy; nothing reaches a server", { timeout: 10_000 }, async (t) => {
  const asked: string[] = [];
  const origin = await startRawOrigin(() => OK);
  const proxy = await startProxy({ addons: [toLocal(() => origin.port, asked)] });
  closeAfter(t, proxy, origin);
  const refusals: [string, RegExp][] = [
    ["GET http://bücher.test:8000/ HTTP/1.1", /the host "bücher\.test" in the request target is not ASCII: send it in its IDNA \(punycode\) form, xn--bcher-kva\.test/],
    ["GET http://xn--zz-zz.test/ HTTP/1.1", /the host "xn--zz-zz\.test" in the request target is not a valid internationalized \(IDNA\) name/],
    ["CONNECT xn--zz-zz.test:443 HTTP/1.1", /the host "xn--zz-zz\.test" in the request target is not a valid internationalized \(IDNA\) name/],
  ];
  for (const [line, reason] of refusals) {
    const client = await RawClient.connect(proxy.port);
    client.send(Buffer.from(`${line}\r\nHost: x\r\n\r\n`, "utf8"));
    const res = await client.response();
    assert.equal(res.status, 400, line);
    assert.match(res.body.toString(), reason);
    await client.whenClosed();
    await proxy.waitLog(new RegExp(`answered 400: ${reason.source}`));
  }
  // A CONNECT's raw UTF-8 host is refused by the HTTP parser itself, a 400 too.
  const client = await RawClient.connect(proxy.port);
  client.send(Buffer.from("CONNECT bücher.test:443 HTTP/1.1\r\n\r\n", "utf8"));
  assert.equal((await client.response()).status, 400);
  await client.whenClosed();
  assert.deepEqual(asked, []);
  assert.equal(origin.connections, 0);
});

test("HTTPS to an IDN: the leaf certificate names the punycode; a Unicode name an addon gives the client or server side goes out as punycode", { timeout: 15_000 }, async (t) => {
  const origin = await startTlsOrigin((req, res) => res.end(`origin saw ${req.headers.host}`));
  const asked: string[] = [];
  let unicodeNames = false;
  const names: Addon = {
    name: "unicode-names",
    tls_start_client(data) {
      if (unicodeNames) data.conn.sni = "bücher.test";
    },
    tls_start_server(data) {
      if (unicodeNames) data.conn.sni = "bücher.test";
    },
  };
  const proxy = await startProxy({ addons: [toLocal(() => origin.port, asked), names], options: { ssl_insecure: "true" } });
  closeAfter(t, proxy, origin);
  const target = `${PUNY}:${origin.port}`;
  // The client's own name, in punycode (SNI is ASCII), and none at all: the CONNECT's host names it.
  for (const servername of [PUNY, undefined]) {
    const res = await httpsViaProxy(proxy.port, { target, ...(servername ? { servername } : {}), headers: { connection: "close" } });
    assert.equal(res.status, 200);
    assert.equal(res.peer.subjectaltname, `DNS:${PUNY}`);
  }
  unicodeNames = true;
  const res = await httpsViaProxy(proxy.port, { target, servername: "other.test", certName: PUNY, headers: { connection: "close" } });
  assert.equal(res.status, 200, "the client checks the certificate against the punycode name");
  assert.equal(res.peer.subjectaltname, `DNS:${PUNY}`);
  assert.deepEqual(origin.servernames.slice(-1), [PUNY], "the SNI sent to the server");
  assert.deepEqual(asked, [target, target, target]);
});
