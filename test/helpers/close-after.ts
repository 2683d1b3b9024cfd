import type { TestContext } from "node:test";

/** Something a test opened: a proxy (stop), an origin or client (close), an agent (destroy). */
export type Closable = { stop(): unknown } | { close(): unknown } | { destroy(): unknown };

/** Closes what a test opened when it ends, in the order given, awaiting each. */
export function closeAfter(t: TestContext, ...things: Closable[]): void {
  t.after(async () => {
    for (const x of things) await ("stop" in x ? x.stop() : "close" in x ? x.close() : x.destroy());
  });
}
