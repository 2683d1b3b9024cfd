#!/usr/bin/env node
// Registers TypeScript support, then runs the CLI from source (no build step needed).
// React's development build checks every render; the console wants the production one.
process.env.NODE_ENV ??= "production";
const { register } = await import("tsx/esm/api");
const { register: registerHooks } = await import("node:module");

register();
// pryx's own modules without tsx's keepNames (see src/ts-loader.mjs).
registerHooks("../src/ts-loader.mjs", import.meta.url);
await import("../src/cli.ts");
