// Plain JS so the worker can start before TypeScript support is registered in its thread.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
// Lets an addon anywhere on disk `import ... from "pryx"`.
register("./pryx-resolve.mjs", import.meta.url);
await import("./worker.ts");
