// Node 20's test runner takes no globs: find the test files here and hand them over.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/)
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["test"];
const files = [];
const walk = (p) => {
  if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
  else if (/\.test\.tsx?$/.test(p)) files.push(p);
};
for (const r of roots) walk(r);
if (files.length === 0) {
  console.error(`no test files under ${roots.join(", ")}`);
  process.exit(1);
}
// A file is a test too, held to the timeout: the slowest (dump's end-to-end files, ~90 s alone) take twice
// that beside another on two busy cores. A hang still ends the run.
const args = ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=240000", ...files];
const r = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(r.status ?? 1);
