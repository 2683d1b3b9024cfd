/** Polls `check` until it returns something other than undefined/false, or fails naming `what`. */
export async function waitUntil<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A port on 127.0.0.1 with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const net = await import("node:net");
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as import("node:net").AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
