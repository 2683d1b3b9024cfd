/**
 * The C/OpenSSL generator for new-conns jobs (bench/loadgen/new-conns.c): built with gcc on
 * first use into a cache directory, rebuilt when the source is newer than the binary, and run
 * once per job as a child of the load-generator process. A Node TLS client handshake costs
 * about 1 ms of CPU, enough to cap every target near 1,000 conn/s on two cores; the C client
 * costs a fraction of that, so the figure is the target's.
 *
 * When it cannot be built (no gcc, no OpenSSL headers: `apt-get install -y gcc libssl-dev`)
 * the Node generator runs instead, and the result says which one ran.
 * PRYX_BENCH_NEW_CONNS=node forces the Node generator, for comparison.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { GeneratorInfo, JobResult, NewConnsJob } from "../jobs.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(HERE, "new-conns.c");
const ROOT = path.resolve(HERE, "../..");

export type Native = { ok: true; binary: string; describe: string } | { ok: false; why: string };

let prepared: Native | undefined;

function cacheDir(): string {
  const nm = path.join(ROOT, "node_modules");
  return fs.existsSync(nm) ? path.join(nm, ".cache", "pryx-bench") : path.join(os.tmpdir(), "pryx-bench-cache");
}

function build(): Native {
  if (process.env.PRYX_BENCH_NEW_CONNS === "node") return { ok: false, why: "PRYX_BENCH_NEW_CONNS=node" };
  const dir = cacheDir();
  const binary = path.join(dir, "new-conns");
  let srcTime: number;
  try {
    srcTime = fs.statSync(SOURCE).mtimeMs;
  } catch {
    return { ok: false, why: `${path.relative(ROOT, SOURCE)} is missing` };
  }
  const binTime = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : -1;
  const relBin = path.relative(ROOT, binary).startsWith("..") ? binary : path.relative(ROOT, binary);
  if (binTime >= srcTime) return { ok: true, binary, describe: `C/OpenSSL (${relBin})` };
  fs.mkdirSync(dir, { recursive: true });
  // Built under a private name and renamed, so a bench running alongside never runs half a file.
  const tmp = `${binary}.${process.pid}.tmp`;
  const gcc = spawnSync("gcc", ["-O2", "-Wall", "-o", tmp, SOURCE, "-lssl", "-lcrypto", "-lm"], { encoding: "utf8", timeout: 120_000 });
  if (gcc.error) {
    fs.rmSync(tmp, { force: true });
    const code = (gcc.error as NodeJS.ErrnoException).code;
    return { ok: false, why: code === "ENOENT" ? "gcc not found (apt-get install -y gcc libssl-dev)" : `gcc: ${gcc.error.message}` };
  }
  if (gcc.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const out = `${gcc.stderr}${gcc.stdout}`.trim();
    const hint = /openssl\/[a-z0-9]+\.h/.test(out) && /No such file/.test(out) ? "OpenSSL headers missing (apt-get install -y libssl-dev)" : (out.split("\n").find((l) => /error/.test(l)) ?? out.split("\n")[0] ?? "");
    return { ok: false, why: `gcc failed: ${hint}` };
  }
  fs.renameSync(tmp, binary);
  return { ok: true, binary, describe: `C/OpenSSL (${relBin}, built just now)` };
}

/** The generator for new-conns jobs, built if need be; decided once per process. */
export function prepareNative(): Native {
  prepared ??= build();
  return prepared;
}

/** What the C program prints: one JSON line. Percentiles are null when nothing was counted. */
interface NativeOutput {
  generator: string;
  openssl: string;
  /** RSA and EC certificate keys decoded the OpenSSL 1.1.1 way (see new-conns.c); false only if that could not be set up. */
  legacyKeys: boolean;
  count: number;
  visits: number;
  errors: number;
  badStatus: number;
  p50Ms: number | null;
  p99Ms: number | null;
  handshakeP50Ms: number | null;
  cpuUserMs: number;
  cpuSysMs: number;
  wallMs: number;
  firstError: string | null;
}

export function nativeArgs(job: NewConnsJob, caFile: string | undefined): string[] {
  const r = job.route;
  const args = ["--dial-port", String(r.dialPort), "--origin-port", String(r.originPort)];
  if (r.viaProxy) args.push("--via-proxy");
  if (r.connectByName) args.push("--connect-by-name");
  if (caFile) args.push("--ca", caFile);
  if (r.checkHostname) args.push("--check-hostname");
  if (job.withRequest) args.push("--request", job.path);
  args.push("--concurrency", String(job.concurrency), "--warmup-ms", String(job.warmupMs), "--duration-ms", String(job.durationMs), "--", ...job.hosts);
  return args;
}

/** Runs one new-conns job in the C generator and turns its line into a JobResult. */
export async function runNativeNewConns(binary: string, job: NewConnsJob): Promise<JobResult> {
  let dir: string | undefined;
  let caFile: string | undefined;
  if (job.route.caPem) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-bench-ca-"));
    caFile = path.join(dir, "ca.pem");
    fs.writeFileSync(caFile, job.route.caPem);
  }
  try {
    const out = await runChild(binary, nativeArgs(job, caFile), job.warmupMs + job.durationMs + 25_000);
    const seconds = job.durationMs / 1000;
    const generator: GeneratorInfo = { name: "c-openssl", cpuMs: out.cpuUserMs + out.cpuSysMs, visits: out.visits, detail: out.legacyKeys ? out.openssl : `${out.openssl}, provider key decoding` };
    return {
      count: out.count,
      seconds,
      perSecond: out.count / seconds,
      p50Ms: out.p50Ms ?? Number.NaN,
      p99Ms: out.p99Ms ?? Number.NaN,
      errors: out.errors,
      ...(out.firstError === null ? {} : { firstError: out.firstError }),
      badStatus: out.badStatus,
      generator,
    };
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(binary: string, args: string[], timeoutMs: number): Promise<NativeOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4096)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': stdout is complete, and the child has been reaped, so its CPU is
    // already in this process's children's times when the orchestrator reads them.
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`${path.basename(binary)} exited ${signal ?? code}: ${stderr.trim() || stdout.trim() || "no output"}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as NativeOutput);
      } catch (err) {
        reject(new Error(`${path.basename(binary)} printed an unreadable result: ${(err as Error).message}: ${line.slice(0, 200)}`));
      }
    });
  });
}
