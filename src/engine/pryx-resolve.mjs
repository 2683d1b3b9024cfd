// Module resolve hook: maps the bare specifier "pryx" (and "pryx/...") to this checkout's API,
// so addon scripts outside the project resolve it without a node_modules of their own.
const API = new URL("../api.ts", import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === "pryx") return { url: API, shortCircuit: true, format: "module" };
  return next(specifier, context);
}
