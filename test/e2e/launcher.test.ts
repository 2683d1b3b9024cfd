import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, REPO } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";

/**
 * An addon that reports, from the engine's thread, the malloc tunables the process got and how
 * much of a freshly written 64 MiB buffer came as transparent huge pages, then stops pryx.
 */
const PROBE = `
import fs from "node:fs";
import { ctx } from "pryx";
const before = hugeKiB();
const buf = Buffer.allocUnsafeSlow(64 * 1024 * 1024).fill(1);
console.log("TUNABLES=" + (process.env.GLIBC_TUNABLES ?? "") + " HUGE_KIB=" + (hugeKiB() - before) + " " + buf.length);
function hugeKiB() {
  try {
    return Number(/AnonHugePages:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/smaps_rollup", "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
export default { running() { ctx.master.shutdown(); } };
`;

function probe(dir: string, tunables: string | undefined): Promise<{ tunables: string; hugeKiB: number; out: string }> {
  const addon = path.join(dir, "probe.mjs");
  if (!fs.existsSync(addon)) fs.writeFileSync(addon, PROBE);
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
  return new Promise((resolve, reject) =>
    // The file itself, as npx and a global install run it: its first line is for sh.
    execFile(BIN, ["dump", "-n", "-s", addon, "--confdir", path.join(dir, `conf-${tunables ?? "unset"}`)], { cwd: REPO, env, timeout: 30_000 }, (err, out, stderr) => {
      const m = /TUNABLES=(\S*) HUGE_KIB=(-?\d+)/.exec(out);
      if (!m) return reject(new Error(`no probe line (${err?.message ?? "exit 0"}):\n${out}\n${stderr}`));
      resolve({ tunables: m[1] as string, hugeKiB: Number(m[2]), out });
    }),
  );
}

/** Whether this machine gives huge pages to memory that asks for them (madvise), as Linux does by default. */
function hugePagesOnRequest(): boolean {
  try {
    return /\[(always|madvise)\]/.test(fs.readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"));
  } catch {
    return false;
  }
}

test("run as a program, pryx has malloc ask for transparent huge pages, keeping the user's other tunables and their own choice", { timeout: 90_000 }, async (t) => {
  const dir = tempDir("pryx-launcher-");
  // Each with its own confdir: three at once would race to make one CA.
  const [plain, withOther, off] = await Promise.all([probe(dir, undefined), probe(dir, "glibc.malloc.arena_max=2"), probe(dir, "glibc.malloc.hugetlb=0")]);
  assert.equal(plain.tunables, "glibc.malloc.hugetlb=1");
  assert.equal(withOther.tunables, "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  assert.equal(off.tunables, "glibc.malloc.hugetlb=0", "a user's own hugetlb setting stands");
  if (process.platform !== "linux" || !hugePagesOnRequest() || !glibcHasHugetlb()) return t.diagnostic("no transparent huge pages on request here: their effect is not checked");
  assert.ok(plain.hugeKiB >= 32 * 1024, `a 64 MiB buffer written by the engine came as huge pages: ${plain.out}`);
  assert.ok(off.hugeKiB < 32 * 1024, `without the tunable, it did not: ${off.out}`);
});

/** glibc 2.35 brought the hugetlb tunable. */
function glibcHasHugetlb(): boolean {
  const version = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const [major = 0, minor = 0] = (version ?? "0.0").split(".").map(Number);
  return major > 2 || (major === 2 && minor >= 35);
}
