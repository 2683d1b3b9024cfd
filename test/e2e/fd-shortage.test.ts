import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { RawClient } from "../helpers/raw-client.ts";
import { waitUntil } from "../helpers/wait.ts";
import { confdir, origin } from "../helpers/dump-e2e.ts";
import { startDump } from "../helpers/cli.ts";

// The count of pryx's open descriptors is read from /proc.
const linux = fs.existsSync("/proc/self/fd");

test("out of file descriptors, a request's server connection fails with a 502 that says so, the log says it once per burst, and pryx serves again once descriptors are free", { timeout: 30_000, skip: !linux && "needs /proc" }, async (t) => {
  const o = await origin(t);
  const LIMIT = 80;
  const p = await startDump([], { confdir, openFiles: LIMIT });
  t.after(async () => void (await p.stop("SIGKILL")));
  // Descriptors numbered below the limit: one inherited from whatever started the tests may sit above it.
  const open = (): number => fs.readdirSync(`/proc/${p.proc.pid}/fd`).filter((fd) => Number(fd) < LIMIT).length;
  const clients: RawClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const get = (path: string) => `GET http://127.0.0.1:${o.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`;

  // Idle client connections take pryx's descriptors until one is left.
  while (open() < LIMIT - 1) {
    const before = open();
    clients.push(await RawClient.connect(p.port));
    await waitUntil(() => open() > before || undefined, "pryx to accept the connection", 2000);
  }
  // The next takes the last: its request has none for the server's connection.
  const last = await RawClient.connect(p.port);
  clients.push(last);
  await waitUntil(() => open() >= LIMIT || undefined, "pryx to accept the last connection", 2000);
  const why = `too many open files (EMFILE): raise \`ulimit -n\` (now ${LIMIT})`;
  for (const path of ["/starved/1", "/starved/2"]) {
    last.send(get(path));
    const res = await last.response(undefined, 3000);
    assert.equal(res.status, 502);
    assert.equal(res.body.toString(), `pryx: cannot connect to 127.0.0.1:${o.port}: ${why}\n`);
  }
  // dump prints each failed flow with the reason.
  await p.waitStdout(new RegExp(`GET http://127\\.0\\.0\\.1:${o.port}/starved/2 << error: cannot connect to .*\\(EMFILE\\)`), 3000);
  // The warning, once; each failed connection's own line (the connection log's, at info) carries the reason too.
  const said = p.stderr().split("\n").filter((l) => l.startsWith("[warn]"));
  assert.deepEqual(said, [`[warn] 127.0.0.1:${/:(\d+)/.exec(said[0] ?? "")?.[1]}: connecting to 127.0.0.1:${o.port}: ${why}`], "once for the burst");

  // A connection pryx has no descriptor to accept with is closed at once (libuv accepts and closes
  // it), with no answer: there is no client socket to answer on. pryx goes on.
  const dropped = await RawClient.connect(p.port);
  clients.push(dropped);
  await dropped.whenClosed(3000);
  assert.equal(dropped.pending.length, 0);

  // Descriptors freed, the same listener serves again.
  for (const c of clients.splice(0, 5)) c.close();
  await waitUntil(() => open() <= LIMIT - 5 || undefined, "pryx to close the connections", 3000);
  const again = await RawClient.connect(p.port);
  clients.push(again);
  again.send(get("/again"));
  const res = await again.response(undefined, 3000);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "hello");
});
