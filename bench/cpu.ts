/**
 * Where the CPU went while a scenario ran. The cores are shared with whatever else runs on the
 * machine (tests, builds), and a figure taken while another process held a core is not
 * comparable with one taken on a quiet machine; and a saturated load generator, not the
 * target, would be what set the pace.
 */
import fs from "node:fs";

/** Linux reports both files in USER_HZ, which is 100 on every common configuration. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  at: number;
  busyTicks: number;
  ticks: Map<number, number>;
  /** Pids whose ticks include their reaped children's. */
  withChildren: Set<number>;
}

export interface CpuUse {
  /** Cores' worth of CPU used by everything outside the given processes. */
  foreign: number;
  /** Cores' worth used by each given process: 1.0 on a single-threaded one means it was the bottleneck. */
  byPid: Map<number, number>;
}

function machineBusyTicks(): number {
  const [cpu] = fs.readFileSync("/proc/stat", "utf8").split("\n", 1);
  const f = (cpu ?? "").trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

/**
 * utime + stime of the whole process, every thread included; with `children`, plus those of
 * its children that have exited and been reaped (cutime + cstime).
 */
function processTicks(pid: number, children: boolean): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces or parentheses; fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  } catch {
    return 0;
  }
}

/**
 * `withChildren`: pids that run a child per job and reap it before answering (the load
 * generator and its C program), so that the child's CPU is theirs, not "other processes'".
 */
export function cpuSnapshot(pids: number[], withChildren: number[] = []): CpuSnapshot {
  const wc = new Set(withChildren);
  return { at: performance.now(), busyTicks: machineBusyTicks(), ticks: new Map(pids.map((p) => [p, processTicks(p, wc.has(p))])), withChildren: wc };
}

export function cpuSince(before: CpuSnapshot): CpuUse {
  const after = cpuSnapshot([...before.ticks.keys()], [...before.withChildren]);
  const seconds = Math.max(1e-3, (after.at - before.at) / 1000);
  const byPid = new Map<number, number>();
  let own = 0;
  for (const [pid, t0] of before.ticks) {
    const used = (after.ticks.get(pid) ?? t0) - t0;
    own += used;
    byPid.set(pid, used / TICKS_PER_SECOND / seconds);
  }
  return { foreign: Math.max(0, (after.busyTicks - before.busyTicks - own) / TICKS_PER_SECOND / seconds), byPid };
}
