/**
 * Reads V8 .cpuprofile files (node --cpu-prof) and ranks functions by self and total time, so a
 * missed console target comes with where the main thread spent it. tsx runs src/ with each module
 * on one line, so positions in src/ are mapped back to source lines by transforming the file again
 * the way tsx does, with the esbuild that tsx brings (the bare column is shown without it). Also a command:
 *   node --import tsx bench/console/profile.ts FILE.cpuprofile [--filter src/tui] [--top 25]
 */
import fs from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  /** file:line, relative to the repository when inside it. */
  where: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  wallMs: number;
  functions: HotFunction[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const IDLE = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

type Transform = (code: string, opts: Record<string, unknown>) => { map: string };
let transform: Transform | undefined;
try {
  const esbuild = (await import("esbuild")) as unknown as { transformSync: Transform };
  transform = esbuild.transformSync;
} catch {
  // Without it, src/ frames show their column on tsx's one-line module.
}

const maps = new Map<string, { map: SourceMap; lines: string[] } | null>();

/** The 1-based source line of a position in tsx's output for `file`, if the function is found there. */
function sourceLine(file: string, line: number, column: number, name: string): number | undefined {
  if (!transform) return undefined;
  let m = maps.get(file);
  if (m === undefined) {
    try {
      const code = fs.readFileSync(file, "utf8");
      // tsx's options: whitespace minified, names kept, an ESM module for this node.
      const out = transform(code, { loader: file.endsWith("x") ? "tsx" : "ts", format: "esm", target: `node${process.versions.node}`, sourcemap: true, minifyWhitespace: true, keepNames: true, sourcefile: file, jsx: "automatic" });
      m = { map: new SourceMap(JSON.parse(out.map)), lines: code.split("\n") };
    } catch {
      m = null;
    }
    maps.set(file, m);
  }
  if (!m) return undefined;
  const e = m.map.findEntry(line, column) as { originalLine?: number };
  if (typeof e?.originalLine !== "number") return undefined;
  // A named function must be named on its line (or the one before, for decorators and comments).
  const bare = name.replace(/\d+$/, "").split(".").pop() ?? "";
  if (bare && !/^\(|anonymous/.test(name) && !m.lines.slice(Math.max(0, e.originalLine - 1), e.originalLine + 1).some((l) => l.includes(bare))) return undefined;
  return e.originalLine + 1;
}

function where(cf: CallFrame): string {
  let u = cf.url;
  if (u.startsWith("file://")) u = fileURLToPath(u);
  if (!u) return "(native)";
  if (u.startsWith(ROOT + path.sep)) {
    const rel = path.relative(ROOT, u);
    if (rel.startsWith(`src${path.sep}`) && /\.tsx?$/.test(rel)) {
      const line = sourceLine(u, cf.lineNumber, cf.columnNumber, cf.functionName);
      return line === undefined ? `${rel}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : `${rel}:${line}`;
    }
    u = rel;
  }
  return `${u}:${cf.lineNumber + 1}`;
}

/** Self and total (inclusive, counted once per sample however deep the recursion) time per function. */
export function summarize(file: string): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode): string => `${n.callFrame.functionName || "(anonymous)"}\u0000${where(n.callFrame)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    const name = node.callFrame.functionName;
    if (name === "(idle)" || name === "(program)") continue;
    busy += dt;
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (IDLE.has(n.callFrame.functionName)) continue;
      const kk = key(n);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + dt);
    }
  }
  const functions = [...new Set([...self.keys(), ...total.keys()])].map((k) => {
    const [name, w] = k.split("\u0000") as [string, string];
    return { name, where: w, selfMs: self.get(k) ?? 0, totalMs: total.get(k) ?? self.get(k) ?? 0 };
  });
  return { file, busyMs: busy, wallMs: (p.endTime - p.startTime) / 1000, functions };
}

/** The main thread's profile (thread id 0) among those in `dir`: the newest, or that of process `pid`. */
export function mainThreadProfile(dir: string, pid?: number): string | undefined {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f) && (pid === undefined || f.includes(`.${pid}.0.`)))
    .map((f) => path.join(dir, f));
  return files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}

/** Where a function lives, coarsely: an npm package, a directory of src/, node itself, or V8. */
function area(where: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (pkg) return pkg[1]!;
  const src = /^(src\/[^/:]+)(?:\/|\.)/.exec(where);
  if (src) return src[1]!.replace(/\.tsx?$/, "");
  if (where.startsWith("node:")) return "node";
  return where === "(native)" ? "native" : where.split(":")[0]!;
}

/** Self time by area, largest first, as shares of the busy time. */
export function byArea(s: ProfileSummary): { area: string; ms: number; share: number }[] {
  const sums = new Map<string, number>();
  for (const f of s.functions) {
    if (f.selfMs <= 0) continue;
    const a = f.name === "(garbage collector)" ? "GC" : area(f.where);
    sums.set(a, (sums.get(a) ?? 0) + f.selfMs);
  }
  return [...sums].map(([a, ms]) => ({ area: a, ms, share: ms / s.busyMs })).sort((a, b) => b.ms - a.ms);
}

export function formatSummary(s: ProfileSummary, filter: string | undefined, top: number): string[] {
  const pick = (fs: HotFunction[]): HotFunction[] => (filter ? fs.filter((f) => f.where.includes(filter)) : fs);
  const ms = (v: number): string => v.toFixed(0).padStart(7);
  const line = (f: HotFunction): string => `${ms(f.selfMs)} ${ms(f.totalMs)}  ${f.name}  ${f.where}`;
  const areas = byArea(s)
    .filter((a) => a.share >= 0.01)
    .map((a) => `${a.area} ${(a.share * 100).toFixed(0)}%`)
    .join(", ");
  return [
    `${path.basename(s.file)}: ${s.busyMs.toFixed(0)} ms busy of ${s.wallMs.toFixed(0)} ms`,
    `  self time by area: ${areas}`,
    `  by self time${filter ? ` (${filter})` : ""}:   self ms / total ms`,
    ...pick([...s.functions].sort((a, b) => b.selfMs - a.selfMs)).slice(0, top).map((f) => `  ${line(f)}`),
    `  by total time${filter ? ` (${filter})` : ""}:`,
    ...pick([...s.functions].sort((a, b) => b.totalMs - a.totalMs)).slice(0, top).map((f) => `  ${line(f)}`),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const filter = opt("--filter");
  const top = Number(opt("--top") ?? 25);
  for (const f of args) {
    const file = fs.statSync(f).isDirectory() ? mainThreadProfile(f) : f;
    if (file) process.stdout.write(`${formatSummary(summarize(file), filter, top).join("\n")}\n`);
  }
}
