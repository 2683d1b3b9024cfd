// Plain JS so the worker can start before TypeScript support is registered in its thread.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
// pryx's own modules without tsx's keepNames (see ts-loader.mjs).
register("../../ts-loader.mjs", import.meta.url);
await import("./worker.ts");
