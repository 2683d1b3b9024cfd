#!/usr/bin/env node
// Registers TypeScript support, then runs the CLI from source (no build step needed).
// React's development build checks every render; the console wants the production one.
process.env.NODE_ENV ??= "production";
const { register } = await import("tsx/esm/api");

register();
await import("../src/cli.ts");
