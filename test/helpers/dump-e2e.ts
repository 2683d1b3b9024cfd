/** What the pryx dump end-to-end test files share: an origin, a dump under test, a GET through it. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startDump, type Pryx } from "./cli.ts";
import { startHttpOrigin, viaProxy, type Origin } from "./origin.ts";

export const CURL = "/usr/bin/curl";
// PRYX_TEST_NO_CURL=1 exercises the node:http fallback on a machine that has curl.
export const hasCurl = fs.existsSync(CURL) && !process.env["PRYX_TEST_NO_CURL"];

// One confdir for the file: the first run creates the CA, the rest reuse it.
export const confdir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-conf-"));
process.on("exit", () => fs.rmSync(confdir, { recursive: true, force: true }));

/** A scratch directory for addon scripts, outside the project and any package.json. */
export function scratch(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-e2e-scripts-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** GET through the proxy with curl when installed (what users do), else node:http. */
export async function get(proxyPort: number, url: string): Promise<{ status: number; body: string; headers: string }> {
  if (!hasCurl) {
    const r = await viaProxy(proxyPort, url);
    const lines: string[] = [];
    for (let i = 0; i < r.rawHeaders.length; i += 2) lines.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`);
    return { status: r.status, body: r.body.toString(), headers: lines.join("\r\n") };
  }
  const { stdout } = await promisify(execFile)(CURL, ["-sS", "--noproxy", "", "-x", `http://127.0.0.1:${proxyPort}`, "-D", "-", url], { encoding: "utf8" });
  const split = stdout.indexOf("\r\n\r\n");
  const headers = stdout.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body: stdout.slice(split + 4) };
}

export async function origin(t: { after(fn: () => Promise<void>): void }): Promise<Origin> {
  const o = await startHttpOrigin((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (req.method === "POST") res.writeHead(201, { "Content-Type": "text/plain" }).end("x".repeat(1536));
      else res.end("hello");
    });
  });
  t.after(() => o.close());
  return o;
}

export async function dump(t: { after(fn: () => Promise<void>): void }, args: string[], env?: NodeJS.ProcessEnv): Promise<Pryx> {
  const p = await startDump(args, { confdir, env });
  t.after(async () => void (await p.stop("SIGKILL")));
  return p;
}

export const DURATION = String.raw`(\d+ms|\d+\.\d\ds)`;
