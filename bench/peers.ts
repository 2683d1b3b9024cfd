/**
 * The targets the load is pointed at: the origin itself (the ceiling), pryx, and the two peers.
 * Each proxy gets a free port and a throwaway config/CA directory, and is stopped after its runs.
 */
import fs from "node:fs";
import path from "node:path";
import type { Route } from "./jobs.ts";
import { type Child, freePort, spawnChild, stopChild, tempDir, waitForPem, waitForPort } from "./procs.ts";
import type { Origin } from "./services.ts";

export const TARGETS = ["direct", "pryx", "mitmdump", "http-mitm-proxy"] as const;
export type TargetName = (typeof TARGETS)[number];

export const MITMDUMP = "/usr/bin/mitmdump";

export interface Target {
  name: TargetName;
  http: Route;
  https: Route;
  /** The process whose memory is read; absent for direct. */
  pid?: number;
  stop(): Promise<void>;
}

/** Why a target cannot run here, or undefined when it can. */
export function unavailable(name: TargetName): string | undefined {
  if (name === "mitmdump" && !fs.existsSync(MITMDUMP)) return `${MITMDUMP} not found (Debian package mitmproxy)`;
  return undefined;
}

export async function startTarget(name: TargetName, origin: Origin, root: string): Promise<Target> {
  if (name === "direct") {
    return {
      name,
      http: { dialPort: origin.httpPort, originPort: origin.httpPort, viaProxy: false, connectByName: false, checkHostname: true },
      https: { dialPort: origin.httpsPort, originPort: origin.httpsPort, viaProxy: false, connectByName: false, caPem: origin.certPem, checkHostname: false },
      stop: async () => undefined,
    };
  }
  const port = await freePort();
  const dir = tempDir(name);
  const { child, caFile, startMs } = launch(name, port, dir, root);
  await waitForPort(child, port, startMs);
  const caPem = await waitForPem(caFile, child, startMs);
  return {
    name,
    http: { dialPort: port, originPort: origin.httpPort, viaProxy: true, connectByName: false, checkHostname: true },
    https: { dialPort: port, originPort: origin.httpsPort, viaProxy: true, connectByName: name === "http-mitm-proxy", caPem, checkHostname: true },
    pid: child.proc.pid,
    stop: () => stopChild(child),
  };
}

function launch(name: Exclude<TargetName, "direct">, port: number, dir: string, root: string): { child: Child; caFile: string; startMs: number } {
  switch (name) {
    case "pryx":
      return {
        // -q: no flow lines printed, but every flow is still recorded and every hook still runs.
        child: spawnChild("pryx", path.join(root, "bin/pryx.mjs"), ["dump", "-p", String(port), "--listen-host", "127.0.0.1", "--confdir", dir, "-q", "-k"], { cwd: root }),
        caFile: path.join(dir, "pryx-ca-cert.pem"),
        startMs: 30_000,
      };
    case "mitmdump":
      return {
        child: spawnChild(
          "mitmdump",
          MITMDUMP,
          ["-q", "--listen-host", "127.0.0.1", "-p", String(port), "--set", "connection_strategy=lazy", "--set", `confdir=${dir}`, "--ssl-insecure"],
          { cwd: dir },
        ),
        caFile: path.join(dir, "mitmproxy-ca-cert.pem"),
        startMs: 30_000,
      };
    case "http-mitm-proxy":
      return {
        child: spawnChild("http-mitm-proxy", process.execPath, [path.join(root, "bench/peers/http-mitm-proxy.mjs"), String(port), dir], { cwd: root }),
        caFile: path.join(dir, "certs", "ca.pem"),
        // Its CA is a pure-JS RSA key generation at start-up.
        startMs: 60_000,
      };
  }
}
