import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin } from "../helpers/origin.ts";
import { RawClient } from "../helpers/raw-client.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import { closeAfter } from "../helpers/close-after.ts";

const MB10 = 10 * 1024 * 1024;
const sha = (b: Uint8Array): string => crypto.createHash("sha256").update(b).digest("hex");
const upload = crypto.randomBytes(MB10);
const download = crypto.randomBytes(MB10);

/** Hashes what it receives, answers with the hash in a header and `download` as the body. */
function hashingOrigin(chunkedReply: boolean): Promise<import("../helpers/origin.ts").Origin> {
  return startHttpOrigin((req, res) => {
    const h = crypto.createHash("sha256");
    let n = 0;
    req.on("data", (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    req.on("end", () => {
      res.setHeader("X-Got-Sha256", h.digest("hex"));
      res.setHeader("X-Got-Length", String(n));
      res.setHeader("X-Got-TE", req.headers["transfer-encoding"] ?? "");
      if (!chunkedReply) res.setHeader("Content-Length", download.length);
      // Written in slices so a chunked reply really has many chunks.
      for (let i = 0; i < download.length; i += 1 << 20) res.write(download.subarray(i, i + (1 << 20)));
      res.end();
    });
  });
}

/** Sends `body` through the proxy in 1 MiB writes; chunked when no length is given. */
function postThrough(proxyPort: number, url: string, body: Buffer, withLength: boolean): Promise<{ res: http.IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: new URL(url).host };
    if (withLength) headers["content-length"] = String(body.length);
    const req = http.request({ host: "127.0.0.1", port: proxyPort, method: "POST", path: url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    for (let i = 0; i < body.length; i += 1 << 20) req.write(body.subarray(i, i + (1 << 20)));
    req.end();
  });
}

for (const mode of ["buffered", "streamed"] as const) {
  test(`10 MB bodies both ways keep their sha256 (${mode}, Content-Length)`, { timeout: 30_000 }, async (t) => {
    const origin = await hashingOrigin(false);
    const streamer: Addon = {
      name: "streamer",
      requestheaders: (f) => void (f.request.stream = mode === "streamed"),
      responseheaders: (f) => void (f.response && (f.response.stream = mode === "streamed")),
    };
    const proxy = await startProxy({ addons: [streamer] });
    closeAfter(t, proxy, origin);
    const { res, body } = await postThrough(proxy.port, `http://127.0.0.1:${origin.port}/up`, upload, true);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["x-got-length"], String(MB10));
    assert.equal(res.headers["x-got-sha256"], sha(upload));
    assert.equal(res.headers["x-got-te"], "", "a Content-Length body stays one");
    assert.equal(res.headers["content-length"], String(MB10));
    assert.equal(body.length, MB10);
    assert.equal(sha(body), sha(download));
    const [flow] = await proxy.waitFinished(1);
    assert.equal(flow?.error, undefined);
    if (mode === "buffered") {
      assert.equal(flow?.reqSize, MB10);
      assert.equal(flow?.respSize, MB10);
    }
  });

  test(`10 MB chunked bodies both ways keep their sha256 and framing (${mode})`, { timeout: 30_000 }, async (t) => {
    const origin = await hashingOrigin(true);
    const proxy = await startProxy({
      addons: [{
        name: "streamer",
        requestheaders: (f) => void (f.request.stream = mode === "streamed"),
        responseheaders: (f) => void (f.response && (f.response.stream = mode === "streamed")),
      }],
    });
    closeAfter(t, proxy, origin);
    const { res, body } = await postThrough(proxy.port, `http://127.0.0.1:${origin.port}/up`, upload, false);
    assert.equal(res.headers["x-got-te"], "chunked");
    assert.equal(res.headers["x-got-sha256"], sha(upload));
    assert.equal(res.headers["transfer-encoding"], "chunked");
    assert.equal(res.headers["content-length"], undefined);
    assert.equal(sha(body), sha(download));
  });
}

test("chunked trailers reach the client", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => {
    res.writeHead(200, { Trailer: "X-Checksum" });
    res.write("part1,");
    res.addTrailers({ "X-Checksum": "abc123" });
    res.end("part2");
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const trailers = await new Promise<NodeJS.Dict<string>>((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: proxy.port, path: `http://127.0.0.1:${origin.port}/`, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        assert.equal(body, "part1,part2");
        resolve(res.trailers);
      });
    });
    req.on("error", reject);
  });
  assert.equal(trailers["x-checksum"], "abc123");
});

/** An origin that answers by path: framing cases that have no body. */
function framingOrigin(): ReturnType<typeof startHttpOrigin> {
  return startHttpOrigin((req, res) => {
    if (req.url === "/204") return void res.writeHead(204, { "X-Kind": "no content" }).end();
    if (req.url === "/304") return void res.writeHead(304, { ETag: '"v1"' }).end();
    // For HEAD node sends the head only, with the length a GET would have.
    res.writeHead(200, { "Content-Length": "1000", "Content-Type": "text/plain" });
    res.end(req.method === "HEAD" ? undefined : "x".repeat(1000));
  });
}

test("HEAD, 204 and 304 forward no body, and the connection goes on", { timeout: 10_000 }, async (t) => {
  const origin = await framingOrigin();
  const proxy = await startProxy();
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  const base = `http://127.0.0.1:${origin.port}`;
  const host = `Host: 127.0.0.1:${origin.port}`;

  client.send(`HEAD ${base}/head HTTP/1.1\r\n${host}\r\n\r\n`);
  const head = await client.response(0);
  assert.equal(head.status, 200);
  assert.match(head.head, /\r\nContent-Length: 1000\r\n/);

  client.send(`GET ${base}/204 HTTP/1.1\r\n${host}\r\n\r\n`);
  const noContent = await client.response(0);
  assert.equal(noContent.status, 204);
  assert.match(noContent.head, /\r\nX-Kind: no content\r\n/);
  assert.doesNotMatch(noContent.head, /content-length|transfer-encoding/i, "nothing is added to a 204");

  client.send(`GET ${base}/304 HTTP/1.1\r\n${host}\r\nIf-None-Match: "v1"\r\n\r\n`);
  const notModified = await client.response(0);
  assert.equal(notModified.status, 304);
  assert.doesNotMatch(notModified.head, /content-length|transfer-encoding/i);

  // Had any body bytes come after those heads, this response would not parse.
  client.send(`GET ${base}/after HTTP/1.1\r\n${host}\r\n\r\n`);
  const after = await client.response();
  assert.equal(after.status, 200);
  assert.equal(after.body.toString(), "x".repeat(1000));
  assert.equal(client.pending.length, 0);
  assert.equal(client.closed, false);
});

test("Expect: 100-continue: the client gets 100 Continue before it sends its body", { timeout: 10_000 }, async (t) => {
  let got = "";
  const origin = await startHttpOrigin((req, res) => {
    req.on("data", (d: Buffer) => (got += d.toString()));
    req.on("end", () => res.end(`got ${got}`));
  });
  const proxy = await startProxy();
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  client.send(`POST http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
  assert.equal(await client.head(), "HTTP/1.1 100 Continue\r\n\r\n");
  client.send("hello");
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "got hello");
});

const CURL = "/usr/bin/curl";
test("Expect: 100-continue with curl --data-binary", { timeout: 20_000, skip: !fs.existsSync(CURL) && "curl is not installed" }, async (t) => {
  const origin = await hashingOrigin(false);
  const proxy = await startProxy();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-expect-"));
  t.after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await proxy.stop();
    await origin.close();
  });
  const file = path.join(dir, "body.bin");
  const body = upload.subarray(0, 2 * 1024 * 1024);
  fs.writeFileSync(file, body);
  const started = Date.now();
  // Without a 100 Continue curl would wait the full 15 s before sending the body.
  const { stdout, stderr } = await promisify(execFile)(
    CURL,
    ["-sS", "-v", "--noproxy", "", "-x", `http://127.0.0.1:${proxy.port}`, "-H", "Expect: 100-continue", "--expect100-timeout", "15", "--data-binary", `@${file}`, "-D", "-", "-o", "/dev/null", `http://127.0.0.1:${origin.port}/up`],
    { encoding: "utf8" },
  );
  assert.ok(Date.now() - started < 10_000, "curl did not wait out its expect timeout");
  assert.match(stderr, /< HTTP\/1\.1 100 Continue/);
  assert.match(stdout, /^HTTP\/1\.1 200 OK/m);
  assert.match(stdout, new RegExp(`X-Got-Sha256: ${sha(body)}`, "i"));
});

test("1xx interim responses (103 Early Hints) reach the client before the final one", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => {
    res.writeEarlyHints({ link: "</style.css>; rel=preload; as=style" });
    res.end("final");
  });
  const proxy = await startProxy();
  const client = await RawClient.connect(proxy.port);
  closeAfter(t, client, proxy, origin);
  client.send(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  const interim = await client.head();
  assert.match(interim, /^HTTP\/1\.1 103 Early Hints\r\n/);
  assert.match(interim, /\r\nLink: <\/style\.css>; rel=preload; as=style\r\n/i);
  const final = await client.response();
  assert.equal(final.status, 200);
  assert.equal(final.body.toString(), "final");
  const [flow] = await proxy.waitFinished(1);
  assert.equal(flow?.status, 200, "the flow records the final response, not the interim one");
});
