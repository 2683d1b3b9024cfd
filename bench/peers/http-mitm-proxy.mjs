// The http-mitm-proxy 1.1.0 peer: a pass-through MITM proxy that records nothing, with keep-alive
// agents on the upstream side, as the benchmark requirement describes it.
// Usage: node bench/peers/http-mitm-proxy.mjs PORT CA_DIR
import http from "node:http";
import https from "node:https";
import { createRequire } from "node:module";

const { Proxy } = createRequire(import.meta.url)("http-mitm-proxy");

const [port, sslCaDir] = [Number(process.argv[2]), process.argv[3]];
if (!port || !sslCaDir) {
  console.error("usage: http-mitm-proxy.mjs PORT CA_DIR");
  process.exit(2);
}

// It logs every new per-host HTTPS server and every reset; console I/O would be measured too.
console.debug = () => {};

const proxy = new Proxy();
proxy.listen(
  {
    port,
    host: "127.0.0.1",
    sslCaDir,
    keepAlive: true,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 100 }),
    httpsAgent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
  },
  (err) => {
    if (err) {
      console.error(`http-mitm-proxy failed to start: ${err.message}`);
      process.exit(1);
    }
    console.error(`http-mitm-proxy listening on 127.0.0.1:${port}`);
  },
);

const stop = () => {
  proxy.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
