import type net from "node:net";
import type { FirstContactJob, JobResult, NewConnsJob, Route } from "../jobs.ts";
import { Samples, percentile } from "../stats.ts";
import { dial, requestBytes } from "./dial.ts";
import { prepareNative, runNativeNewConns } from "./native.ts";
import { ResponseReader } from "./response-reader.ts";

interface Exchange {
  status: number;
  handshakeMs: number;
  totalMs: number;
}

/** One client visit: TCP, CONNECT, TLS, then one request unless `request` is absent, then close. */
async function visit(route: Route, servername: string, request: Buffer | undefined): Promise<Exchange> {
  const t0 = performance.now();
  const { socket, readyAt } = await dial(route, true, servername);
  try {
    const status = request ? await oneResponse(socket, request) : 200;
    return { status, handshakeMs: readyAt - t0, totalMs: performance.now() - t0 };
  } finally {
    socket.end();
    // end() leaves the close to the peer; a silent peer must not keep the socket forever.
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}

function oneResponse(socket: net.Socket, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader();
    const timer = setTimeout(() => fail(new Error("no response within 10 s")), 10_000);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("close", onClose);
    };
    function fail(err: Error): void {
      cleanup();
      reject(err);
    }
    const onClose = (): void => fail(new Error("connection closed before the response completed"));
    const onData = (chunk: Buffer): void => {
      try {
        if (reader.feed(chunk) === 0) return;
      } catch (err) {
        fail(err as Error);
        return;
      }
      cleanup();
      // Errors after the response (e.g. a reset on close) are not this visit's failure.
      socket.on("error", () => undefined);
      resolve(reader.status);
    };
    socket.on("data", onData);
    socket.on("error", fail);
    socket.on("close", onClose);
    socket.write(request);
  });
}

/**
 * New connections come from the C/OpenSSL generator (bench/loadgen/native.ts) when it could be
 * built: a Node TLS client handshake costs 1-1.5 ms of CPU, which capped every target, the
 * origin included, near 1,000 conn/s. The Node generator below is the fallback, and the
 * yardstick the C one was checked against.
 */
export async function runNewConns(job: NewConnsJob): Promise<JobResult> {
  const native = prepareNative();
  if (!native.ok) return runNewConnsNode(job, native.why);
  try {
    return await runNativeNewConns(native.binary, job);
  } catch (err) {
    return runNewConnsNode(job, `the C generator failed (${(err as Error).message})`);
  }
}

export function runNewConnsNode(job: NewConnsJob, why?: string): Promise<JobResult> {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const measureFrom = started + job.warmupMs;
  const stopAt = measureFrom + job.durationMs;
  const request = job.withRequest ? requestBytes(job.route, true, job.path) : undefined;
  const latencies = new Samples();
  let next = 0;
  let counted = 0;
  let errors = 0;
  let badStatus = 0;
  let visits = 0;
  let firstError: string | undefined;

  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const servername = job.hosts[next++ % job.hosts.length] as string;
      try {
        const ex = await visit(job.route, servername, request);
        visits++;
        const now = performance.now();
        if (ex.status < 200 || ex.status > 299) badStatus++;
        else if (now >= measureFrom && now < stopAt) {
          counted++;
          latencies.push(ex.totalMs);
        }
      } catch (err) {
        errors++;
        visits++;
        firstError ??= (err as Error).message;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  return Promise.all(Array.from({ length: job.concurrency }, worker)).then(() => {
    const sorted = latencies.sorted();
    const seconds = job.durationMs / 1000;
    const cpu = process.cpuUsage(cpu0);
    const generator = { name: "node" as const, cpuMs: (cpu.user + cpu.system) / 1000, visits, ...(why ? { detail: why } : {}) };
    return { count: counted, seconds, perSecond: counted / seconds, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), errors, firstError, badStatus, generator };
  });
}

/** Sequential on purpose: this is the latency a user feels on a new site, not a throughput. */
export async function runFirstContact(job: FirstContactJob): Promise<JobResult> {
  const started = performance.now();
  const request = requestBytes(job.route, true, job.path);
  const totals = new Samples();
  const handshakes = new Samples();
  let errors = 0;
  let badStatus = 0;
  let firstError: string | undefined;
  for (const host of job.hosts) {
    if (performance.now() - started > job.maxMs) break;
    try {
      const ex = await visit(job.route, host, request);
      if (ex.status < 200 || ex.status > 299) {
        badStatus++;
        continue;
      }
      totals.push(ex.totalMs);
      handshakes.push(ex.handshakeMs);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = totals.sorted();
  return {
    count: totals.length,
    seconds,
    perSecond: totals.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors,
    firstError,
    badStatus,
    handshakeP50Ms: percentile(handshakes.sorted(), 0.5),
  };
}
