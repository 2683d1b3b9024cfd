/**
 * The contract between the orchestrator and the load-generator process: plain data only,
 * because it crosses a process boundary over IPC.
 */

/** Where the load generator's sockets go and how each request is framed for that hop. */
export interface Route {
  /** Port on 127.0.0.1 the generator dials: the proxy's, or the origin's when direct. */
  dialPort: number;
  /** The origin port, named in absolute-form targets, CONNECT lines and Host headers. */
  originPort: number;
  viaProxy: boolean;
  /**
   * CONNECT to the SNI name instead of 127.0.0.1. http-mitm-proxy picks its leaf certificate by
   * the CONNECT host and ignores SNI, so only this gives it one certificate per name.
   */
  connectByName: boolean;
  /** PEM the TLS client trusts: the proxy's CA, or the origin's self-signed cert when direct. */
  caPem?: string;
  /** The origin's own cert names no *.test host, so direct runs verify the chain but not the name. */
  checkHostname: boolean;
}

export interface KeepAliveJob {
  kind: "keepalive";
  route: Route;
  tls: boolean;
  path: string;
  connections: number;
  warmupMs: number;
  /** Measured window; in count mode, the safety limit. */
  durationMs: number;
  /** Count mode: stop once this many responses have completed, measuring from the start. */
  stopAfter?: number;
  /** SNI names, one per connection round-robin (TLS only). */
  hosts: string[];
}

/** A new CONNECT + TLS handshake per connection (and one request, if asked), `concurrency` at a time. */
export interface NewConnsJob {
  kind: "new-conns";
  route: Route;
  path: string;
  /** Also send one request per connection, so deferred upstream connections are paid for too. */
  withRequest: boolean;
  concurrency: number;
  hosts: string[];
  warmupMs: number;
  durationMs: number;
}

/** One connection at a time, each to a name the proxy has not seen. */
export interface FirstContactJob {
  kind: "first-contact";
  route: Route;
  path: string;
  hosts: string[];
  /** Stop early when a slow peer would blow the time budget. */
  maxMs: number;
}

export type Job = KeepAliveJob | NewConnsJob | FirstContactJob;

export interface JobResult {
  /** Completed responses (or connections) inside the measured window. */
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  /** Responses whose status was not 2xx: a proxy that answers 502 fast must not look fast. */
  badStatus: number;
  /** first-contact only: p50 of CONNECT + TLS handshake, without the request. */
  handshakeP50Ms?: number;
  /** new-conns only: which generator made the connections, and what they cost it. */
  generator?: GeneratorInfo;
}

/**
 * The new-conns generator: the C/OpenSSL one when it could be built (bench/loadgen/native.ts),
 * else the Node one. Its CPU is over the whole job, warm-up included, as are its visits.
 */
export interface GeneratorInfo {
  name: "c-openssl" | "node";
  cpuMs: number;
  /** Visits finished: answered (any status) or failed. */
  visits: number;
  /** The OpenSSL version, or why the C generator did not run. */
  detail?: string;
}

/** A job, or the end of a running keep-alive job before its time (the console's flood stops with its key presses). */
export type LoadgenRequest = { id: number; job: Job } | { id: number; cancel: true };
export type LoadgenReply = { type: "ready"; newConnsGenerator: string } | { type: "result"; id: number; result: JobResult } | { type: "error"; id: number; error: string };
