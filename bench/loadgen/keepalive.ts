import type net from "node:net";
import type { JobResult, KeepAliveJob } from "../jobs.ts";
import { Samples, percentile } from "../stats.ts";
import { dial, requestBytes } from "./dial.ts";
import { ResponseReader } from "./response-reader.ts";

/**
 * `connections` keep-alive connections, each sending its next request as soon as the previous
 * response has fully arrived (no pipelining), so requests/s is what the proxy can turn around.
 * An abort ends the job early; its rate is then over the part of the window that ran.
 */
export function runKeepAlive(job: KeepAliveJob, signal?: AbortSignal): Promise<JobResult> {
  const started = performance.now();
  const countMode = job.stopAfter !== undefined;
  const measureFrom = countMode ? started : started + job.warmupMs;
  const stopAt = measureFrom + job.durationMs;
  const request = requestBytes(job.route, job.tls, job.path);
  const latencies = new Samples();
  const sockets = new Set<net.Socket>();
  let running = true;
  let completed = 0;
  let counted = 0;
  let errors = 0;
  let badStatus = 0;
  let firstError: string | undefined;
  let finishedAt = 0;

  const noteError = (err: unknown): void => {
    if (!running) return;
    errors++;
    firstError ??= err instanceof Error ? err.message : String(err);
  };

  return new Promise<JobResult>((resolve) => {
    const finish = (): void => {
      if (!running) return;
      running = false;
      finishedAt = performance.now();
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      const sorted = latencies.sorted();
      const cut = countMode || signal?.aborted === true;
      const seconds = cut ? Math.max(0.001, (finishedAt - measureFrom) / 1000) : job.durationMs / 1000;
      resolve({ count: counted, seconds, perSecond: counted / seconds, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), errors, firstError, badStatus });
    };
    const timer = setTimeout(finish, stopAt - started);
    if (signal?.aborted) setImmediate(finish);
    else signal?.addEventListener("abort", finish, { once: true });

    const pump = (socket: net.Socket): Promise<void> =>
      new Promise((done) => {
        const reader = new ResponseReader();
        let sentAt = 0;
        const send = (): void => {
          sentAt = performance.now();
          socket.write(request);
        };
        sockets.add(socket);
        socket.on("data", (chunk: Buffer) => {
          let n: number;
          try {
            n = reader.feed(chunk);
          } catch (err) {
            noteError(err);
            socket.destroy();
            return;
          }
          if (n === 0) return;
          const now = performance.now();
          completed++;
          // Only 2xx count: a proxy answering 502 at once must not look fast.
          if (reader.status < 200 || reader.status > 299) badStatus++;
          else if (now >= measureFrom && now < stopAt) {
            counted++;
            latencies.push(now - sentAt);
          }
          if (countMode && completed >= (job.stopAfter as number)) finish();
          if (!running) return;
          if (reader.close) socket.end();
          else send();
        });
        socket.on("error", noteError);
        socket.on("close", () => {
          sockets.delete(socket);
          if (!reader.idle) noteError(new Error("connection closed mid-response"));
          done();
        });
        send();
      });

    const loop = async (i: number): Promise<void> => {
      const servername = job.hosts[i % job.hosts.length] ?? "localhost";
      while (running) {
        try {
          const { socket } = await dial(job.route, job.tls, servername);
          if (!running) {
            socket.destroy();
            return;
          }
          await pump(socket);
        } catch (err) {
          noteError(err);
          // A refusing proxy must not turn this into a busy loop that steals its CPU.
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    for (let i = 0; i < job.connections; i++) void loop(i);
  });
}
