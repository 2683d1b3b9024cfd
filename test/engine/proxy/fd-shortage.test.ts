import { test, mock } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Log } from "../../../src/engine/log.ts";
import { FdShortage, fdShortageCode, fdShortageText, readOpenFileLimit } from "../../../src/engine/proxy/fd-shortage.ts";
import { describeConnectError } from "../../../src/engine/proxy/upstream.ts";
import type { LogEntry } from "../../../src/protocol.ts";

test("running out of descriptors is told as such, with the limit to raise", () => {
  const emfile = Object.assign(new Error("connect EMFILE 10.0.0.1:80 - Local (undefined:undefined)"), { code: "EMFILE" });
  assert.equal(fdShortageCode(emfile), "EMFILE");
  assert.equal(fdShortageCode(Object.assign(new Error("x"), { code: "ENFILE" })), "ENFILE");
  assert.equal(fdShortageCode(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), undefined);
  assert.equal(fdShortageText("EMFILE", 1024), "too many open files (EMFILE): raise `ulimit -n` (now 1024)");
  assert.match(fdShortageText("ENFILE", 1024), /^too many open files in the system \(ENFILE\)/);
  assert.match(describeConnectError(emfile, "10.0.0.1", 80, false), /^cannot connect to 10\.0\.0\.1:80: too many open files \(EMFILE\): raise `ulimit -n` \(now (\d+|unknown)\)$/);
});

test("the open-file limit is read from the limits file; unlimited or unreadable is unknown", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-limits-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "limits");
  fs.writeFileSync(file, "Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63432                63432                processes \nMax open files            1024                 524288               files     \n");
  assert.equal(readOpenFileLimit(file), 1024);
  fs.writeFileSync(file, "Max open files            unlimited            unlimited            files     \n");
  assert.equal(readOpenFileLimit(file), undefined);
  assert.equal(readOpenFileLimit(path.join(dir, "none")), undefined);
});

test("a burst of failures is one warning, then a count once they stop; the next burst warns again", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const lines: LogEntry[] = [];
    const log = new Log();
    log.setSink((e) => lines.push(e));
    const shortage = new FdShortage(log);
    for (let i = 0; i < 50; i++) {
      shortage.report("EMFILE", `127.0.0.1:${5000 + i}: connecting to example.com:80`);
      mock.timers.tick(1000);
    }
    assert.deepEqual(lines.map((l) => [l.level, l.msg.replace(/\(now .*\)/, "(now N)")]), [["warn", "127.0.0.1:5000: connecting to example.com:80: too many open files (EMFILE): raise `ulimit -n` (now N)"]]);
    mock.timers.tick(5000);
    assert.deepEqual(lines.slice(1).map((l) => [l.level, l.msg]), [["info", "file descriptors ran short for 50 connections in all; none since 5 s"]]);
    shortage.report("ENFILE", "listener 127.0.0.1:8080: accepting a connection");
    assert.equal(lines.length, 3);
    assert.match(lines[2]?.msg ?? "", /^listener 127\.0\.0\.1:8080: accepting a connection: too many open files in the system \(ENFILE\)/);
  } finally {
    mock.timers.reset();
  }
});
