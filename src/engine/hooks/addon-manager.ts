import { fileURLToPath } from "node:url";
import { isHookName, type Addon, type HookArgs, type HookName } from "./hooks.ts";
import { Loader } from "./loader.ts";
import type { Options } from "../options.ts";
import type { CommandRegistry } from "../commands.ts";
import type { Log } from "../log.ts";

/** pryx's own source directory, as stack frames name it. */
const PRYX_SOURCE = fileURLToPath(new URL("../../", import.meta.url));

type HookFn = (...args: unknown[]) => unknown;

interface Handler {
  addonName: string;
  self: object;
  fn: HookFn;
}

interface Registered {
  name: string;
  addon: Addon;
  loader: Loader;
  /** Kept after every other addon, scripts loaded later included (see `add`). */
  last: boolean;
}

/** Throwing this from a hook stops the remaining addons from seeing the event (mitmproxy's AddonHalt). */
export class AddonHalt extends Error {}

/**
 * The chain of addons. `trigger` calls each addon's method for a hook in order, awaits it
 * when it returns a promise, and isolates failures: a throwing addon is logged with its
 * name and the rest of the chain, and the flow, go on.
 */
export class AddonManager {
  private readonly chain: Registered[] = [];
  private handlers = new Map<HookName, Handler[]>();

  constructor(
    private readonly options: Options,
    private readonly commands: CommandRegistry,
    private readonly log: Log,
  ) {}

  get names(): string[] {
    return this.chain.map((r) => r.name);
  }

  /**
   * An addon by the name it was loaded under (a script's file name), else by its own, as
   * mitmproxy's `addons.get` finds one: its `name`, or its class's name in lower case (a class
   * Tagger is "tagger"), nested addons included.
   */
  get(name: string): Addon | undefined {
    const loaded = this.chain.find((r) => r.name === name)?.addon;
    if (loaded) return loaded;
    for (const r of this.chain) {
      for (const a of flatten(r.addon)) {
        const own = typeof a.name === "string" && a.name ? a.name : undefined;
        const ctor = (a as object).constructor;
        const className = ctor && ctor !== Object ? ctor.name : undefined;
        if (own === name || (own === undefined && (className?.toLowerCase() === name || className === name))) return a;
      }
    }
    return undefined;
  }

  /** Adds addons (with their nested ones), runs `load`, then `configure` with every option. */
  /**
   * `last` keeps the addon after every other one, those added later included: mitmproxy's
   * rules, intercept and save run after the scripts, so they see (and save) what a script did.
   */
  async add(addon: Addon, name = addonName(addon), opts: { last?: boolean } = {}): Promise<void> {
    if (this.chain.some((r) => r.name === name)) throw new Error(`an addon named ${name} is already loaded`);
    const loader = new Loader(this.options, this.commands, name);
    const reg: Registered = { name, addon, loader, last: opts.last === true };
    const firstLast = this.chain.findIndex((r) => r.last);
    if (reg.last || firstLast === -1) this.chain.push(reg);
    else this.chain.splice(firstLast, 0, reg);
    this.rebuild();
    for (const a of flatten(addon)) await this.call(name, a, "load", [loader]);
    const all = new Set(this.options.names());
    for (const a of flatten(addon)) await this.call(name, a, "configure", [all]);
  }

  async invokeOne<N extends HookName>(name: string, hook: N, ...args: HookArgs[N]): Promise<void> {
    const reg = this.chain.find((r) => r.name === name);
    if (!reg) return;
    for (const a of flatten(reg.addon)) await this.call(name, a, hook, args);
  }

  /** Runs `done` on the addon and removes it with its commands. */
  async remove(name: string): Promise<void> {
    const at = this.chain.findIndex((r) => r.name === name);
    if (at === -1) return;
    const reg = this.chain[at] as Registered;
    for (const a of flatten(reg.addon)) await this.call(name, a, "done", []);
    this.chain.splice(at, 1);
    for (const c of reg.loader.commandNames) this.commands.remove(c);
    this.rebuild();
  }

  /**
   * Whether any addon has work for `hook` now. An addon may say it has none with a `handles(hook)`
   * method (pryx's; the intercept addon without a filter), so a relay can write a chunk straight
   * through instead of passing it down the hook chain.
   */
  wants(hook: HookName): boolean {
    const list = this.handlers.get(hook);
    if (!list) return false;
    for (const h of list) {
      const handles = (h.self as { handles?: (hook: HookName) => boolean }).handles;
      if (typeof handles !== "function" || handles.call(h.self, hook)) return true;
    }
    return false;
  }

  /** Calls the hook on every addon in order. Resolves when all (sync or async) have run. */
  async trigger<N extends HookName>(hook: N, ...args: HookArgs[N]): Promise<void> {
    await this.run(hook, args, undefined);
  }

  /** As trigger, and says which addons' handlers failed (each is reported as well): for configure, whose failure refuses a value. */
  async triggerCollecting<N extends HookName>(hook: N, ...args: HookArgs[N]): Promise<{ addon: string; error: Error }[]> {
    const failed: { addon: string; error: Error }[] = [];
    await this.run(hook, args, failed);
    return failed;
  }

  /** Every handler of `hook` in order; `failed` (when given) gets the ones that threw. Per request and message: no allocation of its own. */
  private async run(hook: HookName, args: unknown[], failed: { addon: string; error: Error }[] | undefined): Promise<void> {
    const list = this.handlers.get(hook);
    if (!list) return;
    for (const h of list) {
      try {
        const res = h.fn.apply(h.self, args);
        if (res !== null && typeof res === "object" && typeof (res as Promise<unknown>).then === "function") await res;
      } catch (err) {
        if (err instanceof AddonHalt) return;
        this.reportError(h.addonName, hook, err);
        failed?.push({ addon: h.addonName, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
  }

  private async call(addonName: string, self: Addon, hook: string, args: unknown[]): Promise<void> {
    const fn = (self as Record<string, unknown>)[hook];
    if (typeof fn !== "function") return;
    try {
      await (fn as HookFn).apply(self, args);
    } catch (err) {
      this.reportError(addonName, hook, err);
    }
  }

  private reportError(addonName: string, hook: string, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    // Where in the addon it failed: the first frame outside pryx's own code (a built-in's error, or a
    // value pryx refused, is said by its message; pryx's file and line are no use to its user).
    const where = (e.stack ?? "").split("\n").find((l) => /^\s+at /.test(l) && !l.includes(PRYX_SOURCE) && !/\(node:|at node:|\(<anonymous>\)/.test(l));
    this.log.error(`Addon error in ${addonName} (${hook}): ${e.message}${where ? `\n${where.trim()}` : ""}`);
  }

  private rebuild(): void {
    const map = new Map<HookName, Handler[]>();
    for (const reg of this.chain) {
      for (const a of flatten(reg.addon)) {
        for (const key of methodNames(a)) {
          if (!isHookName(key)) continue;
          const fn = (a as Record<string, unknown>)[key];
          if (typeof fn !== "function") continue;
          let list = map.get(key);
          if (!list) map.set(key, (list = []));
          list.push({ addonName: reg.name, self: a, fn: fn as HookFn });
        }
      }
    }
    this.handlers = map;
  }
}

function flatten(addon: Addon): Addon[] {
  const out: Addon[] = [addon];
  for (const child of addon.addons ?? []) out.push(...flatten(child));
  return out;
}

/** Own and inherited method names, so class instances work as addons. */
function methodNames(obj: object): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) names.add(k);
  }
  return names;
}

export function addonName(addon: Addon): string {
  if (addon.name && typeof addon.name === "string") return addon.name;
  const ctor = (addon as object).constructor;
  return ctor && ctor !== Object ? ctor.name : "addon";
}
