import { parentPort, workerData } from "node:worker_threads";
import type { EngineEvent, UiMessage } from "../protocol.ts";
import type { EngineInit } from "../engine-client.ts";
import { Engine } from "./engine.ts";
import { sendOutputToLog, sendOutputToStderr } from "./output-to-log.ts";

/** The worker's entry: one Engine, wired to the main thread by typed messages only. */
const port = parentPort;
if (!port) throw new Error("worker.ts must run in a worker thread");

const post = (ev: EngineEvent, transfer?: ArrayBuffer[]): void => port.postMessage(ev, transfer);
const init = workerData as EngineInit;
const engine = new Engine(init, post);
if (init.captureOutput) sendOutputToLog(engine.log, { stdout: process.stdout, stderr: process.stderr, console });
else if (init.printToStderr) sendOutputToStderr({ stdout: process.stdout, stderr: process.stderr, console });

port.on("message", (msg: UiMessage) => {
  switch (msg.t) {
    case "request":
      engine.handle(msg.req).then(
        (value) => post({ t: "reply", id: msg.id, ok: true, value }),
        (err: unknown) => post({ t: "reply", id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
      break;
    case "shutdown":
      void engine.stop().finally(() => {
        post({ t: "stopped" });
        port.close();
        // An addon's process.exitCode (a CI script failing the run from done) is pryx's exit status.
        process.exit(typeof process.exitCode === "number" ? process.exitCode : engine.failedStatus);
      });
      break;
  }
});

process.on("uncaughtException", (err) => {
  // A bug in one connection must not take the proxy down: log it and keep serving.
  engine.log.error(`internal error: ${err.stack ?? err.message}`);
});
process.on("unhandledRejection", (err) => {
  engine.log.error(`internal error (unhandled rejection): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
});

engine.start().then(
  (info) => post({ t: "ready", info }),
  (err: unknown) => {
    // What was logged on the way (a script that failed to load) explains the failure: it goes first.
    engine.flush();
    post({ t: "fatal", error: err instanceof Error ? err.message : String(err) });
    setImmediate(() => process.exit(1));
  },
);
