// Module resolve hook for addon scripts:
// - maps the bare specifier "pryx" to this checkout's API, so a script anywhere on disk
//   can `import ... from "pryx"` without a node_modules of its own;
// - loads TypeScript scripts as ES modules even outside a `"type": "module"` package
//   (tsx would treat them as CommonJS there, and an ESM-only loader cannot run that).
const API = new URL("../api.ts", import.meta.url).href;
const TS = /\.(?:m?ts|tsx)$/;

export async function resolve(specifier, context, next) {
  if (specifier === "pryx") return { url: API, shortCircuit: true, format: "module" };
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith("file:") && !resolved.url.includes("/node_modules/") && TS.test(new URL(resolved.url).pathname) && resolved.format !== "module") {
    return { ...resolved, format: "module" };
  }
  return resolved;
}
