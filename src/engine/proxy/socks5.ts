import type net from "node:net";
import { canonicalIp } from "./original-destination.ts";

/** SOCKS5 (RFC 1928) handshake, parsed from bytes without touching sockets. */
export type Socks5Parse<T> = { kind: "incomplete" } | { kind: "error"; reply: Buffer | undefined; message: string } | ({ kind: "ok"; consumed: number } & T);

export const NO_AUTH = 0x00;
export const USER_PASS = 0x02;
const NO_ACCEPTABLE = 0xff;

/** Reply codes (RFC 1928 section 6). */
export const REPLY = { succeeded: 0, failure: 1, notAllowed: 2, networkUnreachable: 3, hostUnreachable: 4, refused: 5, commandNotSupported: 7, addressNotSupported: 8 } as const;

export function parseGreeting(buf: Buffer): Socks5Parse<{ methods: number[] }> {
  if (buf.length < 2) return { kind: "incomplete" };
  if (buf[0] !== 5) return { kind: "error", reply: undefined, message: `not a SOCKS5 client (version byte ${buf[0]})` };
  const n = buf[1] as number;
  if (buf.length < 2 + n) return { kind: "incomplete" };
  return { kind: "ok", consumed: 2 + n, methods: [...buf.subarray(2, 2 + n)] };
}

export function methodReply(method: number | undefined): Buffer {
  return Buffer.from([5, method ?? NO_ACCEPTABLE]);
}

/** RFC 1929 username/password sub-negotiation. */
export function parseUserPass(buf: Buffer): Socks5Parse<{ user: string; pass: string }> {
  if (buf.length < 2) return { kind: "incomplete" };
  const ulen = buf[1] as number;
  if (buf.length < 3 + ulen) return { kind: "incomplete" };
  const plen = buf[2 + ulen] as number;
  if (buf.length < 3 + ulen + plen) return { kind: "incomplete" };
  return { kind: "ok", consumed: 3 + ulen + plen, user: buf.subarray(2, 2 + ulen).toString("utf8"), pass: buf.subarray(3 + ulen, 3 + ulen + plen).toString("utf8") };
}

export function parseRequest(buf: Buffer): Socks5Parse<{ host: string; port: number }> {
  if (buf.length < 5) return { kind: "incomplete" };
  if (buf[0] !== 5) return { kind: "error", reply: undefined, message: `bad SOCKS5 request version ${buf[0]}` };
  if (buf[1] !== 1) return { kind: "error", reply: reply(REPLY.commandNotSupported), message: `SOCKS5 command ${buf[1]} is not supported (only CONNECT)` };
  const atyp = buf[3];
  let host: string;
  let at: number;
  if (atyp === 1) {
    if (buf.length < 10) return { kind: "incomplete" };
    host = [...buf.subarray(4, 8)].join(".");
    at = 8;
  } else if (atyp === 3) {
    const len = buf[4] as number;
    if (buf.length < 5 + len + 2) return { kind: "incomplete" };
    host = buf.subarray(5, 5 + len).toString("latin1");
    at = 5 + len;
  } else if (atyp === 4) {
    if (buf.length < 22) return { kind: "incomplete" };
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(buf.readUInt16BE(4 + i).toString(16));
    // RFC 5952's spelling (::1), as mitmproxy's ipaddress gives it: what ignore_hosts and the flow's URL see.
    host = canonicalIp(parts.join(":"));
    at = 20;
  } else return { kind: "error", reply: reply(REPLY.addressNotSupported), message: `SOCKS5 address type ${atyp} is not supported` };
  return { kind: "ok", consumed: at + 2, host, port: buf.readUInt16BE(at) };
}

export function reply(code: number): Buffer {
  return Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}

/** Readies the target before the CONNECT is answered; an error makes the reply a failure. */
export type Prepare<T> = (host: string, port: number) => Promise<T | { error: string }>;
/** Whether a username and password are accepted (proxyauth, then the socks5_auth hook). */
export type Authenticate = (user: string, pass: string) => Promise<boolean>;

/**
 * Why a SOCKS5 connection ended before its tunnel: the client broke the protocol or failed
 * authentication ("handshake"), or `prepare` could not ready the target ("target"), a failure
 * whoever readied it has reported.
 */
export interface Socks5Failure {
  error: string;
  stage: "handshake" | "target";
}

/**
 * Runs the handshake on `socket` and resolves with the requested target and any bytes the
 * client sent after it, or with an error when the handshake failed (the socket is then closed).
 * With `authenticate`, the client must send a username and password it accepts.
 * `prepare` lets a pass-through target be connected first, so a server that is down is a
 * failure reply the client sees at once (as with a CONNECT's 502), not a success and a close.
 */
export function socks5Handshake<T extends object>(socket: net.Socket, authenticate: Authenticate | undefined, prepare: Prepare<T>): Promise<{ host: string; port: number; rest: Buffer; ready: T } | Socks5Failure> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let stage: "greeting" | "auth" | "request" = "greeting";
    /** While an answer is awaited (authentication, the target): bytes wait in `buf`. */
    let waiting = false;
    const fail = (message: string, out?: Buffer, stage: Socks5Failure["stage"] = "handshake"): void => {
      socket.off("data", onData);
      if (out) socket.end(out);
      else socket.destroy();
      resolve({ error: message, stage });
    };
    const step = (): void => {
      while (!waiting) {
        if (stage === "greeting") {
          const g = parseGreeting(buf);
          if (g.kind === "incomplete") return;
          if (g.kind === "error") return fail(g.message);
          buf = buf.subarray(g.consumed);
          const want = authenticate ? USER_PASS : NO_AUTH;
          if (!g.methods.includes(want)) return fail(authenticate ? "SOCKS5 client offered no username/password authentication" : "SOCKS5 client offered no acceptable method", methodReply(undefined));
          socket.write(methodReply(want));
          stage = authenticate ? "auth" : "request";
        } else if (stage === "auth" && authenticate) {
          const a = parseUserPass(buf);
          if (a.kind === "incomplete") return;
          if (a.kind === "error") return fail(a.message);
          buf = buf.subarray(a.consumed);
          waiting = true;
          void authenticate(a.user, a.pass).then((ok) => {
            if (!ok) return fail(`SOCKS5 authentication failed for user ${JSON.stringify(a.user)}`, Buffer.from([1, 1]));
            socket.write(Buffer.from([1, 0]));
            stage = "request";
            waiting = false;
            step();
          });
        } else {
          const r = parseRequest(buf);
          if (r.kind === "incomplete") return;
          if (r.kind === "error") return fail(r.message, r.reply);
          socket.off("data", onData);
          socket.pause();
          waiting = true;
          const rest = buf.subarray(r.consumed);
          void prepare(r.host, r.port).then((ready) => {
            if ("error" in ready) return fail(ready.error, reply(/refused/.test(ready.error) ? REPLY.refused : REPLY.hostUnreachable), "target");
            socket.write(reply(REPLY.succeeded));
            resolve({ host: r.host, port: r.port, rest, ready });
          });
        }
      }
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      step();
    };
    socket.on("data", onData);
    socket.resume();
  });
}
