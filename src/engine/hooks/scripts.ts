import fs from "node:fs";
import { transformSync } from "esbuild";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AddonManager } from "./addon-manager.ts";
import { HOOK_NAMES, type Addon } from "./hooks.ts";
import type { Log } from "../log.ts";

export class ScriptError extends Error {}

/**
 * `-s` scripts: each is imported as an ES module (TypeScript through tsx), its default
 * export (an object, class instance, class, or an array of them) added to the addon chain,
 * and the file watched, so an edit reloads it with `done` / `load` / `configure` around it.
 */
export class ScriptLoader {
  private readonly loaded = new Map<string, { names: string[]; watcher: fs.FSWatcher | undefined }>();
  private generation = 0;
  private running = false;

  constructor(
    private readonly addons: AddonManager,
    private readonly log: Log,
  ) {}

  /**
   * Loads every script; a broken one is logged and skipped, so the proxy still runs.
   * Returns the paths of those that failed.
   */
  async loadAll(paths: readonly string[], watch: boolean): Promise<string[]> {
    const failed: string[] = [];
    for (const p of paths) {
      const full = path.resolve(p);
      // Loaded twice, every hook ran twice (two reports, two counts); mitmproxy refuses it too.
      if (this.loaded.has(full)) {
        this.log.error(`duplicate script ${full}: a script is loaded once (-s names it twice)`);
        failed.push(full);
        continue;
      }
      try {
        await this.load(full);
      } catch (err) {
        this.log.error((err as Error).message);
        failed.push(full);
      }
      if (watch) this.watch(full);
    }
    return failed;
  }

  markRunning(): void {
    this.running = true;
  }

  /**
   * `scripts` set while running, as mitmproxy's: a script no longer named is unloaded (its
   * `done` runs), a new one loaded (its `running` too) and watched; the others stay as they are.
   */
  async setScripts(paths: readonly string[]): Promise<void> {
    const wanted = [...new Set(paths.map((p) => path.resolve(p)))];
    for (const [full, entry] of [...this.loaded]) {
      if (wanted.includes(full)) continue;
      entry.watcher?.close();
      await this.unload(full);
      this.loaded.delete(full);
      this.log.info(`unloaded script ${full}`);
    }
    await this.loadAll(wanted.filter((full) => !this.loaded.has(full)), true);
  }

  async load(full: string): Promise<string[]> {
    if (!fs.existsSync(full)) throw new ScriptError(`script not found: ${full}`);
    const notLoadable = unloadableKind(full);
    if (notLoadable) throw new ScriptError(`failed to load script ${full}: ${notLoadable}`);
    let mod: Record<string, unknown>;
    try {
      // A query string makes the loader import the edited file anew instead of its cached module.
      mod = (await import(`${pathToFileURL(full).href}?v=${++this.generation}`)) as Record<string, unknown>;
    } catch (err) {
      throw new ScriptError(`failed to load script ${full}: ${describeLoadError(err, full)}`);
    }
    const exported = esModuleDefault(mod.default) ?? moduleLevelAddons(mod);
    if (exported === undefined)
      throw new ScriptError(`script ${full} has no addon: export default an addon object, class instance or array of them, or export hook functions (export function request(flow) {...}) or an addons array, as a mitmproxy script defines them`);
    const list = (Array.isArray(exported) ? exported : [exported]).map((a) => instantiate(a, full));
    // Named by the file's name, as the logs show it; by its whole path when another script
    // already has that name (`-s api/index.ts -s auth/index.ts`), as mitmproxy names scripts.
    const taken = new Set(this.addons.names);
    const nameOf = (label: string, addon: Addon, i: number): string => (list.length > 1 ? `${label}:${addon.name ?? i}` : label);
    const base = list.every((a, i) => !taken.has(nameOf(path.basename(full), a, i))) ? path.basename(full) : full;
    const names: string[] = [];
    for (const [i, addon] of list.entries()) {
      const name = nameOf(base, addon, i);
      await this.addons.add(addon, name);
      if (this.running) await this.addons.invokeOne(name, "running");
      names.push(name);
    }
    const prev = this.loaded.get(full);
    this.loaded.set(full, { names, watcher: prev?.watcher });
    this.log.info(`loaded script ${full}`);
    return names;
  }

  private async unload(full: string): Promise<void> {
    const entry = this.loaded.get(full);
    if (!entry) return;
    for (const n of entry.names) await this.addons.remove(n);
    entry.names = [];
  }

  private watch(full: string): void {
    let timer: NodeJS.Timeout | undefined;
    let busy = Promise.resolve();
    const reload = (): void => {
      busy = busy.then(async () => {
        await this.unload(full);
        try {
          await this.load(full);
          this.log.info(`reloaded script ${full}`);
        } catch (err) {
          this.log.error((err as Error).message);
        }
      });
    };
    try {
      // Watch the directory: editors replace files by rename, which ends a watch on the file itself.
      const watcher = fs.watch(path.dirname(full), (_event, file) => {
        if (file !== path.basename(full)) return;
        clearTimeout(timer);
        timer = setTimeout(reload, 100);
      });
      watcher.unref();
      const entry = this.loaded.get(full) ?? { names: [], watcher: undefined };
      entry.watcher = watcher;
      this.loaded.set(full, entry);
    } catch (err) {
      this.log.warn(`cannot watch ${full} for changes: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    for (const [full, e] of this.loaded) {
      e.watcher?.close();
      await this.unload(full);
    }
    this.loaded.clear();
  }
}

/**
 * A script without a default export, written as mitmproxy's are: its `addons` array, and the
 * module itself when it exports hook functions (`export function request(flow)`); undefined when
 * it has neither.
 */
function moduleLevelAddons(mod: Record<string, unknown>): unknown[] | undefined {
  const hooks = Object.fromEntries(HOOK_NAMES.filter((h) => typeof mod[h] === "function").map((h) => [h, mod[h]]));
  const list = [...(Array.isArray(mod.addons) ? mod.addons : []), ...(Object.keys(hooks).length ? [hooks] : [])];
  return list.length ? list : undefined;
}

function instantiate(a: unknown, file: string): Addon {
  if (typeof a === "function") {
    try {
      return new (a as new () => Addon)();
    } catch (err) {
      throw new ScriptError(`script ${file}: cannot construct its default export: ${(err as Error).message}`);
    }
  }
  if (a === null || typeof a !== "object") throw new ScriptError(`script ${file}: the default export must be an addon object, class or array, not ${typeof a}`);
  return a as Addon;
}

/** What Node can import as a module, TypeScript through tsx. */
const SCRIPT_EXTENSIONS = [".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"];

/**
 * Why a file cannot be an addon, from its name; undefined when it can. A mitmproxy user's first
 * try is often their Python script, which Node's own "Unknown file extension" leaves unexplained.
 */
function unloadableKind(file: string): string | undefined {
  const ext = path.extname(file).toLowerCase();
  if (SCRIPT_EXTENSIONS.includes(ext)) return undefined;
  const kinds = `pryx addons are TypeScript or JavaScript modules (${SCRIPT_EXTENSIONS.join(", ")})`;
  if (ext === ".py")
    return `${kinds}, not Python: port the script, keeping its hook names (request, response…) and mitmproxy's flow attributes, as the recipes in pryx's addons/ directory show`;
  return `${kinds}; rename it if it is one`;
}

/** The message plus the line in the script where it went wrong, when the error says. */
function describeLoadError(err: unknown, file: string): string {
  const e = err instanceof Error ? err : new Error(String(err));
  // esbuild (through tsx) reports syntax errors as "FILE:LINE:COL: ERROR: what".
  const syntax = /([^\s]+:\d+:\d+): ERROR: (.*)/.exec(e instanceof SyntaxError ? `${e.message}\n${syntaxErrorAt(file)}` : e.message);
  if (syntax) return `syntax error: ${syntax[2]} (at ${syntax[1]})`;
  const first = e.message.split("\n")[0] ?? e.message;
  const base = path.basename(file);
  const lines = `${e.message}\n${e.stack ?? ""}`.split("\n");
  const at = lines.find((l) => l.includes(base) && /:\d+(:\d+)?/.test(l) && l !== first);
  const loc = at ? /([^\s(]*:\d+(?::\d+)?)\)?\s*$/.exec(at.trim())?.[1] ?? at.trim() : undefined;
  return loc ? `${first} (at ${loc.replace(/^file:\/\//, "").replace(/\?v=\d+/, "")})` : first;
}

/**
 * Where a JavaScript script's syntax error is: Node 20's SyntaxError from an ES module has no
 * line in its message or stack, so the file goes through esbuild, which says "FILE:LINE:COL:
 * ERROR: what" (as a TypeScript script's error already does). "" when esbuild finds none.
 */
function syntaxErrorAt(file: string): string {
  try {
    transformSync(fs.readFileSync(file, "utf8"), { loader: "js", format: "esm", sourcefile: file, logLevel: "silent" });
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

/**
 * A `.js` script with `export default` outside an ES module package is CommonJS to Node: tsx
 * compiles it so, and `import()` then gives its `module.exports`, which holds the addon under
 * `default` (with `__esModule`). The addon, not that wrapper, which has no hooks.
 */
function esModuleDefault(exported: unknown): unknown {
  if (exported === null || typeof exported !== "object" || !("default" in exported)) return exported;
  const wrapper = (exported as { __esModule?: unknown }).__esModule === true || Object.keys(exported).every((k) => k === "default");
  return wrapper ? (exported as { default: unknown }).default : exported;
}
