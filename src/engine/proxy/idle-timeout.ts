import type net from "node:net";

/**
 * mitmproxy's tcp_timeout for a relay between two sockets: ends it after `seconds` with no
 * byte either way. A byte one way is a read on one socket and a write on the other, so each
 * socket's own idle timer runs out only when neither side has sent anything. While `held()`
 * (a message waiting in its hooks or on the intercept filter) nothing is idle, as mitmproxy's
 * watchdog is disarmed during hooks: the timers start again instead. 0 seconds: never.
 */
export function endWhenIdle(a: net.Socket, b: net.Socket, seconds: number, held: () => boolean, end: (err: Error) => void): void {
  if (!(seconds > 0)) return;
  const arm = (): void => {
    a.setTimeout(seconds * 1000);
    b.setTimeout(seconds * 1000);
  };
  const idle = (): void => {
    if (held()) arm();
    else end(new Error(`no data either way for ${seconds} s: closed (tcp_timeout)`));
  };
  a.on("timeout", idle);
  b.on("timeout", idle);
  arm();
}
