#!/usr/bin/env node
// Registers TypeScript support, then runs the CLI from source (no build step needed).
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
