import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { X509Certificate, createHash } from "node:crypto";
import { startProxy } from "../helpers/proxy.ts";
import { connectTunnel } from "../helpers/tls-origin.ts";

/** A stand-in `chromium` on PATH that writes its arguments and its pid, then waits to be closed. */
function fakeBrowser(dir: string): { argsFile: string } {
  const argsFile = path.join(dir, "args");
  const script = path.join(dir, "chromium");
  fs.writeFileSync(script, `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "${argsFile}.tmp"\necho $$ >> "${argsFile}.tmp"\nmv "${argsFile}.tmp" "${argsFile}"\nexec sleep 30\n`);
  fs.chmodSync(script, 0o755);
  return { argsFile };
}

async function waitFile(file: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return fs.readFileSync(file, "utf8");
}

/** The SPKI hash of the certificate pryx makes for a host, from a real handshake through a tunnel. */
async function leafSpki(proxyPort: number): Promise<string> {
  const raw = await connectTunnel(proxyPort, "browser.example.test:443");
  const socket = tls.connect({ socket: raw, servername: "browser.example.test", rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  const cert = new X509Certificate(socket.getPeerCertificate().raw);
  socket.destroy();
  return createHash("sha256").update(cert.publicKey.export({ type: "spki", format: "der" })).digest("base64");
}

test("browser.start (B) opens a browser on the proxy that trusts pryx's host key; it is closed, its profile removed, when pryx stops", { timeout: 20_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-fake-browser-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { argsFile } = fakeBrowser(dir);
  const oldPath = process.env["PATH"];
  process.env["PATH"] = `${dir}${path.delimiter}${oldPath ?? ""}`;
  t.after(() => {
    process.env["PATH"] = oldPath;
  });
  const proxy = await startProxy();
  let stopped = false;
  t.after(async () => {
    if (!stopped) await proxy.stop();
  });
  const said = await proxy.engine.handle({ op: "command", line: "browser.start" });
  assert.equal(said, `started chromium using the proxy at 127.0.0.1:${proxy.port}`);
  const lines = (await waitFile(argsFile)).trim().split("\n");
  const pid = Number(lines.pop());
  assert.ok(lines.includes(`--proxy-server=127.0.0.1:${proxy.port}`), lines.join(" "));
  assert.ok(lines.includes("--proxy-bypass-list=<-loopback>"), "localhost goes through the proxy too");
  assert.ok(lines.includes(`--ignore-certificate-errors-spki-list=${await leafSpki(proxy.port)}`), "the host certificates' key is trusted by its hash");
  const profile = lines.find((l) => l.startsWith("--user-data-dir="))!.slice("--user-data-dir=".length);
  assert.ok(fs.statSync(profile).isDirectory());

  await proxy.stop();
  stopped = true;
  const deadline = Date.now() + 5000;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(), false, "the browser was closed with pryx");
  assert.equal(fs.existsSync(profile), false, "its profile was removed");
});

test("browser.start with no Chromium-family browser installed says so and what to install", { timeout: 10_000 }, async (t) => {
  const oldPath = process.env["PATH"];
  process.env["PATH"] = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-empty-path-"));
  t.after(() => {
    fs.rmSync(process.env["PATH"] as string, { recursive: true, force: true });
    process.env["PATH"] = oldPath;
  });
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  await assert.rejects(proxy.engine.handle({ op: "command", line: "browser.start" }), /no Chrome, Chromium or Edge found on PATH .*apt-get install chromium/);
});

test("a browser that exits at once (no display over SSH) is reported in the event log with what it said", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-failing-browser-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "chromium"), `#!/bin/sh\necho "[1:1:ERROR:ozone_platform_x11.cc(240)] Missing X server or \\$DISPLAY" >&2\nexit 1\n`);
  fs.chmodSync(path.join(dir, "chromium"), 0o755);
  const oldPath = process.env["PATH"];
  process.env["PATH"] = `${dir}${path.delimiter}${oldPath ?? ""}`;
  t.after(() => {
    process.env["PATH"] = oldPath;
  });
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  await proxy.engine.handle({ op: "command", line: "browser.start" });
  const entry = await proxy.waitLog(/browser chromium exited/);
  assert.equal(entry.level, "error");
  assert.match(entry.msg, /exited with code 1: .*Missing X server or \$DISPLAY/);
});

test("as root the browser gets --no-sandbox, which Chromium needs to start as root; as anyone else it keeps its sandbox", async () => {
  const { browserArgs } = await import("../../src/engine/builtins/browser.ts");
  assert.ok(browserArgs("127.0.0.1:8080", "/tmp/p", undefined, true).includes("--no-sandbox"));
  assert.ok(!browserArgs("127.0.0.1:8080", "/tmp/p", undefined, false).includes("--no-sandbox"));
});
