import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startTlsOrigin, tlsViaProxy } from "../helpers/tls-origin.ts";
import { deadPort, waitUntil } from "../helpers/wait.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PRYX = path.join(ROOT, "bin/pryx.mjs");
const CURL = "/usr/bin/curl";

function tmpdir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-https-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(file: string, args: string[], timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("pryx ca creates the CA and prints its paths and the trust commands", { timeout: 30_000 }, async (t) => {
  const confdir = path.join(tmpdir(t), "conf");
  const { code, stdout, stderr } = await run(process.execPath, [PRYX, "ca", "--confdir", confdir]);
  assert.equal(code, 0, stderr);
  const pem = path.join(confdir, "pryx-ca-cert.pem");
  assert.ok(fs.existsSync(pem), "the CA was created on first use");
  assert.equal(fs.statSync(path.join(confdir, "pryx-ca.pem")).mode & 0o777, 0o600, "the key is private");
  assert.ok(stdout.includes(pem), "names the certificate's path");
  assert.ok(stdout.includes(path.join(confdir, "pryx-ca.pem")), "names the key's path");
  assert.ok(stdout.includes(`curl --cacert ${pem} -x http://127.0.0.1:8080 https://example.com/`), "the curl example goes through pryx at its default address");
  assert.ok(stdout.includes(`NODE_EXTRA_CA_CERTS=${pem}`));
  assert.match(stdout, /update-ca-certificates/);
  assert.match(stdout, /security add-trusted-cert/);
  assert.match(stdout, /certutil/);
  assert.ok(stdout.includes(new X509Certificate(fs.readFileSync(pem)).fingerprint256), "shows the fingerprint of the file it names");
});

test("pryx ca names the address pryx will listen on and the onboarding host: config.yaml's, or -p and --listen-host", { timeout: 30_000 }, async (t) => {
  const confdir = path.join(tmpdir(t), "conf");
  fs.mkdirSync(confdir, { recursive: true });
  fs.writeFileSync(path.join(confdir, "config.yaml"), "listen_port: 9999\nonboarding_host: certs.test\n");
  const pem = path.join(confdir, "pryx-ca-cert.pem");
  const fromConfig = await run(process.execPath, [PRYX, "ca", "--confdir", confdir]);
  assert.equal(fromConfig.code, 0, fromConfig.stderr);
  assert.ok(fromConfig.stdout.includes(`curl --cacert ${pem} -x http://127.0.0.1:9999 https://example.com/`), fromConfig.stdout);
  assert.ok(fromConfig.stdout.includes("open http://certs.test/ in Safari"));
  const fromFlags = await run(process.execPath, [PRYX, "ca", "--confdir", confdir, "-p", "7777", "--listen-host", "::1"]);
  assert.equal(fromFlags.code, 0, fromFlags.stderr);
  assert.ok(fromFlags.stdout.includes(`-x http://[::1]:7777 https://example.com/`), fromFlags.stdout);
  // --set, as the proxy takes it (a command line copied from a pryx run).
  const fromSet = await run(process.execPath, [PRYX, "ca", "--set", `confdir=${confdir}`, "--set", "listen_port=7070"]);
  assert.equal(fromSet.code, 0, fromSet.stderr);
  assert.ok(fromSet.stdout.includes(`curl --cacert ${pem} -x http://127.0.0.1:7070 https://example.com/`), fromSet.stdout);
});

test(
  "pryx dump -k intercepts curl's HTTPS request and prints an https:// flow line",
  { timeout: 30_000, skip: fs.existsSync(CURL) ? false : "no /usr/bin/curl" },
  async (t) => {
    const origin = await startTlsOrigin((_req, res) => res.end("hello through pryx dump"), "both");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-https-"));
    const confdir = path.join(dir, "conf");
    const port = await deadPort();
    const child = spawn(process.execPath, [PRYX, "dump", "-p", String(port), "--confdir", confdir, "-k"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    t.after(async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await origin.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    // The CA line is the last thing dump says at start-up: by then it listens.
    await waitUntil(() => /pryx: created a new CA .*\n/.test(stderr) || child.exitCode !== null, "pryx dump to start", 20_000, 50);
    assert.equal(child.exitCode, null, `pryx dump exited: ${stderr}`);
    const pem = path.join(confdir, "pryx-ca-cert.pem");
    assert.ok(stderr.includes(pem), `says where the CA is: ${stderr}`);
    const curl = await run(CURL, ["-sS", "-w", "\n%{http_version}", "--cacert", pem, "-x", `http://127.0.0.1:${port}`, `https://localhost:${origin.port}/via-dump`], 10_000);
    assert.equal(curl.code, 0, curl.stderr);
    const [body, version] = curl.stdout.split("\n");
    assert.equal(body, "hello through pryx dump");
    await waitUntil(() => stdout.includes("/via-dump"), "the dump line", 5000, 50);
    // As mitmdump, the line names HTTP/2 on both sides (what curl and the origin negotiate when they can) and leaves HTTP/1.1 out.
    const [named, answered] = version === "2" ? [" HTTP/2.0", "HTTP/2.0 "] : ["", ""];
    assert.match(stdout, new RegExp(`GET https://localhost:${origin.port}/via-dump${named} << ${answered}200`));
  },
);

test("the run that creates the CA says so, on stderr; later runs only name it", { timeout: 30_000 }, async (t) => {
  const confdir = path.join(tmpdir(t), "conf");
  const pem = path.join(confdir, "pryx-ca-cert.pem");
  const first = await run(process.execPath, [PRYX, "dump", "-n", "--confdir", confdir]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.stderr.includes(`pryx: created a new CA in ${confdir} — trust ${pem} (see \`pryx ca\`)\n`), first.stderr);
  const port = await deadPort();
  const second = spawn(process.execPath, [PRYX, "dump", "-p", String(port), "--confdir", confdir], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  second.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => second.once("exit", () => r()));
  t.after(async () => {
    if (second.exitCode === null) second.kill("SIGTERM");
    await exited;
  });
  await waitUntil(() => /CA certificate: .*\n/.test(stderr) || second.exitCode !== null, "the second run to start", 20_000, 50);
  assert.ok(stderr.includes(`pryx: CA certificate: ${pem}`), stderr);
  assert.doesNotMatch(stderr, /created a new CA/);
});

test("a quoted ~ in --confdir is the home directory for pryx ca as for dump", { timeout: 30_000 }, async (t) => {
  const home = tmpdir(t);
  const env = { ...process.env, HOME: home };
  for (const [args, dir] of [[["ca", "--confdir", "~/ca-conf"], "ca-conf"], [["dump", "-n", "--confdir", "~/dump-conf"], "dump-conf"]] as const) {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [PRYX, ...args], { cwd: ROOT, env, timeout: 20_000 }, (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr })),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(home, dir, "pryx-ca-cert.pem")), `${args.join(" ")}: the CA is under $HOME/${dir}`);
    assert.ok(!fs.existsSync(path.join(ROOT, "~")), "no directory named ~ in the working directory");
  }
});

test("run as a program, pryx sends a TLS client no session tickets (config/openssl.cnf); under plain `node` it sends OpenSSL's two", { timeout: 40_000 }, async (t) => {
  const origin = await startTlsOrigin((_req, res) => res.end("ticketless"));
  const confdir = path.join(tmpdir(t), "conf");
  t.after(() => origin.close());
  const ticketsVia = async (file: string, args: string[]): Promise<number> => {
    const port = await deadPort();
    const child = spawn(file, [...args, "dump", "--flow-detail", "0", "-k", "-p", String(port), "--confdir", confdir], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      await waitUntil(() => /CA (certificate: |in ).*\n/.test(stderr) || child.exitCode !== null, "pryx dump to start", 20_000, 50);
      assert.equal(child.exitCode, null, `pryx dump exited: ${stderr}`);
      const s = await tlsViaProxy(port, { target: `127.0.0.1:${origin.port}`, servername: "tickets.test", ca: [fs.readFileSync(path.join(confdir, "pryx-ca-cert.pem"), "utf8")] });
      let tickets = 0;
      s.on("session", () => tickets++);
      s.write("GET / HTTP/1.1\r\nHost: tickets.test\r\nConnection: close\r\n\r\n");
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      assert.match(Buffer.concat(chunks).toString("latin1"), /^HTTP\/1\.1 200[\s\S]*ticketless$/);
      return tickets;
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  };
  assert.equal(await ticketsVia(PRYX, []), 0, "bin/pryx.mjs started Node with its OpenSSL settings");
  assert.equal(await ticketsVia(process.execPath, [PRYX]), 2, "without them, OpenSSL's default of two tickets");
});

test("key_size (mitmproxy's) sets the RSA size of a CA made on first run, from config.yaml too; an existing CA is kept; below 2048 is refused", { timeout: 60_000 }, async (t) => {
  const confdir = path.join(tmpdir(t), "conf");
  fs.mkdirSync(confdir, { recursive: true });
  fs.writeFileSync(path.join(confdir, "config.yaml"), "key_size: 3072\n");
  const made = await run(process.execPath, [PRYX, "ca", "--confdir", confdir]);
  assert.equal(made.code, 0, made.stderr);
  const bits = () => new X509Certificate(fs.readFileSync(path.join(confdir, "pryx-ca-cert.pem"))).publicKey.asymmetricKeyDetails?.modulusLength;
  assert.equal(bits(), 3072);
  const kept = await run(process.execPath, [PRYX, "dump", "-n", "--confdir", confdir, "--set", "key_size=4096"]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(bits(), 3072, "the CA already made is kept");
  const small = await run(process.execPath, [PRYX, "dump", "-n", "--confdir", confdir, "--set", "key_size=1024"]);
  assert.equal(small.code, 2);
  assert.match(small.stderr, /option key_size: must be from 2048/);
});
