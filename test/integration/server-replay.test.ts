import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import { tempDir } from "../helpers/temp-dir.ts";

test("server_replay answers recorded requests from a capture without asking the server; extras follow server_replay_extra", { timeout: 20_000 }, async (t) => {
  let served = 0;
  const origin = await startHttpOrigin((req, res) => {
    served++;
    res.setHeader("content-type", "text/plain");
    res.end(`live answer ${served} for ${req.url}`);
  });
  // Record two requests to one URL and one to another with -w.
  const dir = tempDir("pryx-server-replay-");
  const capture = path.join(dir, "capture.pryx");
  const recorder = await startProxy({ options: { save_stream_file: capture } });
  const base = `http://127.0.0.1:${origin.port}`;
  await viaProxy(recorder.port, `${base}/a?x=1&t=111`);
  await viaProxy(recorder.port, `${base}/a?x=1&t=222`);
  await viaProxy(recorder.port, `${base}/b`, { method: "POST", body: "one" });
  await recorder.stop();
  assert.equal(fs.readFileSync(capture, "utf8").trim().split("\n").length, 3);
  assert.equal(served, 3);

  const proxy = await startProxy({ options: { server_replay: capture, server_replay_ignore_params: "t", server_replay_extra: "404" } });
  closeAfter(t, proxy, origin);
  const first = await viaProxy(proxy.port, `${base}/a?x=1&t=999`);
  const second = await viaProxy(proxy.port, `${base}/a?x=1&t=000`);
  assert.equal(first.body.toString(), "live answer 1 for /a?x=1&t=111", "recorded responses serve in order, t ignored");
  assert.equal(second.body.toString(), "live answer 2 for /a?x=1&t=222");
  assert.equal((await viaProxy(proxy.port, `${base}/a?x=1&t=3`)).status, 404, "used up: an extra, answered 404");
  assert.equal((await viaProxy(proxy.port, `${base}/b`, { method: "POST", body: "one" })).body.toString(), "live answer 3 for /b");
  assert.equal((await viaProxy(proxy.port, `${base}/b`, { method: "POST", body: "two" })).status, 404, "another body does not match");
  assert.equal(served, 3, "the server was never asked");
  const flows = await proxy.waitFinished(5);
  assert.equal(flows.filter((f) => f.replay === "response").length, 3, "replayed responses are marked as replays");
});

test("server_replay and client_replay name a capture that does not exist, up front", { timeout: 10_000 }, async (t) => {
  const proxy = await startProxy();
  closeAfter(t, proxy);
  for (const name of ["server_replay", "client_replay"]) {
    assert.throws(() => proxy.engine.options.setText(name, "/nonexistent/capture.pryx"), new RegExp(`option ${name}: no such file: /nonexistent/capture\\.pryx`));
  }
});

test("replay.server.add makes a flow of this session, its response edited, answer the same request from now on; count, stop and errors", { timeout: 20_000 }, async (t) => {
  let served = 0;
  const origin = await startHttpOrigin((req, res) => {
    served++;
    res.end(`live ${served}`);
  });
  const proxy = await startProxy();
  closeAfter(t, proxy, origin);
  const run = (line: string) => proxy.engine.handle({ op: "command", line });
  const url = `http://127.0.0.1:${origin.port}/api/user`;

  assert.equal((await viaProxy(proxy.port, url)).body.toString(), "live 1");
  const [flow] = await proxy.waitFinished(1);
  await run(`flow.set ${flow!.id} status_code 299`);
  assert.match(String(await run(`replay.server.add ${flow!.id}`)), /1 response added, 1 in all/);
  assert.equal(await run("replay.server.count"), "1");
  // A matching option changed: the response added by command is keyed anew, not dropped.
  await proxy.engine.handle({ op: "setOption", name: "server_replay_ignore_content", value: "true" });
  assert.equal(await run("replay.server.count"), "1");

  const mocked = await viaProxy(proxy.port, url);
  assert.equal(mocked.status, 299, "the edited response answers");
  assert.equal(mocked.body.toString(), "live 1");
  assert.equal(served, 1, "the server was not asked");
  assert.equal(await run("replay.server.count"), "0", "used once, as without server_replay_reuse");
  assert.equal((await viaProxy(proxy.port, url)).body.toString(), "live 2", "used up: the server answers again");

  await run(`replay.server ${flow!.id}`);
  await run("replay.server.stop");
  assert.equal((await viaProxy(proxy.port, url)).body.toString(), "live 3", "stopped: requests go to the server");
  await assert.rejects(run("replay.server '~u /nothing-matches'"), /^Error: no flow matches \(to replay a flow file: replay\.server\.file PATH\)$/);
  await assert.rejects(run("replay.server.file /no/such.pryx"), /^Error: no such file: \/no\/such\.pryx$/);
});

test("server_replay_refresh (on, as in mitmproxy): a replayed response's Date, Expires, Last-Modified and cookie expiry move forward by its age", { timeout: 20_000 }, async (t) => {
  const recordedAt = Date.parse("Mon, 01 Jan 2024 00:00:00 GMT");
  const origin = await startHttpOrigin((_req, res) => {
    res.sendDate = false;
    res.setHeader("Date", new Date(recordedAt).toUTCString());
    res.setHeader("Expires", new Date(recordedAt + 3600_000).toUTCString());
    res.setHeader("Set-Cookie", [`a=1; Expires=${new Date(recordedAt + 86_400_000).toUTCString()}; Path=/`, "b=2"]);
    res.end("old");
  });
  const dir = tempDir("pryx-replay-refresh-");
  const capture = path.join(dir, "capture.pryx");
  const recorder = await startProxy({ options: { save_stream_file: capture } });
  await viaProxy(recorder.port, `http://127.0.0.1:${origin.port}/x`);
  await recorder.stop();
  // As if recorded at the Date it carries, so the age is known exactly.
  const line = JSON.parse(fs.readFileSync(capture, "utf8").trim()) as { response: { timestamp_start: number } };
  line.response.timestamp_start = recordedAt / 1000;
  fs.writeFileSync(capture, `${JSON.stringify(line)}\n`);

  const fresh = await startProxy({ options: { server_replay: capture, server_replay_reuse: "true" } });
  const kept = await startProxy({ options: { server_replay: capture, server_replay_refresh: "false" } });
  closeAfter(t, fresh, kept, origin);
  const before = Date.now();
  const r = await viaProxy(fresh.port, `http://127.0.0.1:${origin.port}/x`);
  const after = Date.now();
  const date = Date.parse(String(r.headers["date"]));
  assert.ok(date >= before - 2000 && date <= after + 1000, `Date moved to now: ${r.headers["date"]}`);
  const age = date - recordedAt;
  assert.ok(Math.abs(Date.parse(String(r.headers["expires"])) - (recordedAt + 3600_000 + age)) <= 1000, "Expires moved by the same age");
  const cookies = r.headers["set-cookie"] ?? [];
  assert.equal(cookies.length, 2);
  const expiry = Date.parse(/Expires=([^;]+)/.exec(cookies[0] ?? "")?.[1] ?? "");
  assert.ok(Math.abs(expiry - (recordedAt + 86_400_000 + age)) <= 1000, cookies[0]);
  assert.equal(cookies[1], "b=2", "a cookie without Expires is left alone, in its place");

  const unchanged = await viaProxy(kept.port, `http://127.0.0.1:${origin.port}/x`);
  assert.equal(unchanged.headers["date"], new Date(recordedAt).toUTCString(), "server_replay_refresh=false keeps the recorded Date");
});


/** An origin answering "live N PATH" (N counts its requests), and a capture of `requests` made through pryx with -w. */
async function recorded(requests: [path: string, opts?: Parameters<typeof viaProxy>[2]][]): Promise<{ origin: Awaited<ReturnType<typeof startHttpOrigin>>; base: string; capture: string; served: () => number }> {
  let served = 0;
  const origin = await startHttpOrigin((req, res) => res.end(`live ${++served} ${req.url}`));
  const capture = path.join(tempDir("pryx-server-replay-rec-"), "capture.pryx");
  const recorder = await startProxy({ options: { save_stream_file: capture } });
  const base = `http://127.0.0.1:${origin.port}`;
  for (const [p, opts] of requests) await viaProxy(recorder.port, `${base}${p}`, opts);
  await recorder.stop();
  return { origin, base, capture, served: () => served };
}

test("mitmproxy's deprecated server_replay_nopop and server_replay_kill_extra still work, with a warning naming what replaces them", { timeout: 20_000 }, async (t) => {
  const { origin, base, capture, served } = await recorded([["/a"]]);

  const proxy = await startProxy({ options: { server_replay: capture, server_replay_nopop: "true", server_replay_kill_extra: "true" } });
  closeAfter(t, proxy, origin);
  for (let i = 0; i < 3; i++) assert.equal((await viaProxy(proxy.port, `${base}/a`)).body.toString(), "live 1 /a", "reused, as with server_replay_reuse");
  await assert.rejects(viaProxy(proxy.port, `${base}/other`), "an extra is killed, as with server_replay_extra=kill");
  assert.equal(served(), 1);
  await proxy.waitLog(/server_replay_nopop is deprecated: use server_replay_reuse/);
  await proxy.waitLog(/server_replay_kill_extra is deprecated: use server_replay_extra=kill/);
  // The flow's error only says "Connection killed."; the log says why, as mitmproxy's does.
  await proxy.waitLog(new RegExp(`server_playback: killed non-replay request ${base}/other$`));
});

test("server_replay_ignore_payload_params: a urlencoded or multipart POST matches its recording whatever the named fields hold", { timeout: 20_000 }, async (t) => {
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const multipart = (token: string): string =>
    `--XyZ\r\ncontent-disposition: form-data; name="user"\r\n\r\nann\r\n--XyZ\r\ncontent-disposition: form-data; name="csrf"\r\n\r\n${token}\r\n--XyZ--\r\n`;
  const mp = { "content-type": "multipart/form-data; boundary=XyZ" };
  const { origin, base, capture, served } = await recorded([
    ["/form", { method: "POST", body: "user=ann&csrf=1111", headers: form }],
    ["/upload", { method: "POST", body: multipart("1111"), headers: mp }],
  ]);

  const proxy = await startProxy({ options: { server_replay: capture, server_replay_ignore_payload_params: "csrf", server_replay_extra: "404" } });
  closeAfter(t, proxy, origin);
  assert.equal((await viaProxy(proxy.port, `${base}/form`, { method: "POST", body: "user=ann&csrf=2222", headers: form })).body.toString(), "live 1 /form");
  assert.equal((await viaProxy(proxy.port, `${base}/upload`, { method: "POST", body: multipart("2222"), headers: mp })).body.toString(), "live 2 /upload");
  assert.equal((await viaProxy(proxy.port, `${base}/form`, { method: "POST", body: "user=bob&csrf=1111", headers: form })).status, 404, "another user does not match");
  assert.equal(served(), 2);
});
