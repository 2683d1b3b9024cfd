import { test } from "node:test";
import assert from "node:assert/strict";
import { startDump } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { rawExchange, startRawOrigin } from "../helpers/origin.ts";
import { formatLog } from "../../src/dump.ts";

const ESC = "\x1b";
const OSC52 = `${ESC}]52;c;cm0gLXJmIH4K\x07`;

test("dump never hands a peer's escape sequences to the terminal: a server's reason phrase (even at --flow-detail 1), header names and values, Location; mitmdump escapes them too", { timeout: 30_000 }, async (t) => {
  const origin = await startRawOrigin(() => `HTTP/1.1 302 Found${OSC52}\r\nX-Evil: a${OSC52}${ESC}[2Jb\r\nLocation: http://x/${ESC}]0;TITLE\x07\r\nContent-Length: 2\r\n\r\nok`);
  t.after(() => origin.close());
  for (const detail of ["1", "2"]) {
    const p = await startDump(["--flow-detail", detail], { confdir: tempDir("pryx-dump-esc-") });
    t.after(async () => void (await p.stop("SIGKILL")));
    await rawExchange(p.port, `GET http://127.0.0.1:${origin.port}/esc HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: close\r\n\r\n`);
    await p.waitStdout(/<< 302 Found/);
    assert.ok(!p.stdout().includes(ESC), `no raw ESC at --flow-detail ${detail}:\n${JSON.stringify(p.stdout())}`);
    assert.match(p.stdout(), /<< 302 Found\\x1b\]52;c;cm0gLXJmIH4K\\x07/);
    if (detail === "2") {
      assert.match(p.stdout(), /X-Evil: a\\x1b\]52;c;cm0gLXJmIH4K\\x07\\x1b\[2Jb/);
      assert.match(p.stdout(), /Location: http:\/\/x\/\\x1b\]0;TITLE\\x07/);
    }
  }
});

test("a log line quoting what a peer sent (a client's SNI in a TLS warning) is printed with its control characters escaped", () => {
  const line = formatLog({ ts: 0, level: "warn", msg: `client TLS handshake failed for sni${ESC}]0;T\x07x.test: …` });
  assert.equal(line, "[warn] client TLS handshake failed for sni\\x1b]0;T\\x07x.test: …");
});

test("a log message's own line breaks (an addon's error, then where) print as indented continuation lines, not as \\x0a", () => {
  const line = formatLog({ ts: 0, level: "error", msg: `Addon error in a.ts (done): boom\nat Object.done (/x/a.ts:1:32)\n[info] forged${ESC}[2J` });
  assert.equal(line, "[error] Addon error in a.ts (done): boom\n    at Object.done (/x/a.ts:1:32)\n    [info] forged\\x1b[2J");
});
