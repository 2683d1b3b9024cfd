import type net from "node:net";

/** Reads from `socket` until `n` bytes arrived; a close before then rejects, naming what came. */
export function readBytes(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= n) {
        socket.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`closed after ${got} of ${n} bytes: ${Buffer.concat(chunks).toString("latin1")}`)));
  });
}
