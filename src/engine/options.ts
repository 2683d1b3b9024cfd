import path from "node:path";
import { joinList, splitList } from "./list-text.ts";
import type { OptionInfo, OptionType } from "../protocol.ts";
import { expandHome } from "../home-path.ts";
import { mapPath, type PathForm } from "../path-form.ts";

export class OptionError extends Error {}

/** A value parsed from text; validate throws OptionError with a message naming what is expected. */
export interface OptionSpec<T = unknown> {
  name: string;
  type: OptionType;
  default: T;
  help: string;
  choices?: readonly string[];
  /** Extra check after parsing (a filter that must compile, a port range). Throws with a reason. */
  validate?: (value: T) => void;
  /**
   * The value is a file path (or a list of them): a leading `~` is the user's home, and a
   * relative path in a config file is the file's directory's. A form other than `true` says
   * what may come before the path (see PathForm).
   */
  paths?: false | PathForm;
  /** Another option that may not be set (non-empty) together with this one, as mitmproxy refuses allow_hosts with ignore_hosts. */
  exclusiveWith?: string;
}

export type OptionValue = boolean | number | string | string[] | undefined;

/** An option as the user typed it: one text, or the texts of a flag given several times. */
export type OptionText = string | string[];

interface Entry {
  spec: OptionSpec<OptionValue>;
  value: OptionValue;
}

const EXPECTS: Record<OptionType, string> = {
  bool: "true or false (or toggle)",
  int: "an integer",
  "optional int": "an integer (empty for none)",
  str: "a string",
  "optional str": "a string (empty for none)",
  "str[]": "a comma-separated list (a comma inside (), [], {} or quotes, or written \\,, stays in its entry; a text the option takes whole is one entry)",
  filter: "a filter expression (empty for none)",
  choice: "one of the choices",
};

/**
 * The one typed registry of options: CLI flags, `--set`, the console's options editor and
 * addons' `loader.add_option` all go through it. Changes are reported to the listener with
 * the names that changed, which the addon manager turns into `configure(updated)`.
 */
export class Options {
  private readonly entries = new Map<string, Entry>();
  /** Rules over several options (`addRule`), by the names they read: one registered again replaces the last. */
  private readonly rules = new Map<string, { names: readonly string[]; why: (get: (name: string) => OptionValue) => string | undefined }>();
  private readonly listeners = new Set<(updated: Set<string>) => void>();
  /** Values given for options not registered yet (mitmproxy's deferred options): an addon's `load` adds them. */
  private readonly deferred = new Map<string, OptionText>();
  /** Where a deferred value came from (a config file), for the error if no addon takes it. */
  private readonly deferredFrom = new Map<string, string>();
  /** Bumped by every change of any value: what is derived from options on a hot path is kept until it moves. */
  private _generation = 0;
  /** Values the command line and config files gave at start-up, differing from the defaults. */
  private readonly started = new Map<string, OptionValue>();

  get generation(): number {
    return this._generation;
  }

  add(spec: OptionSpec<OptionValue>): void {
    this._generation++;
    const existing = this.entries.get(spec.name);
    if (existing) {
      // An addon reloaded by the script watcher re-registers its options, perhaps edited: the new
      // spec replaces the old (mitmproxy's "Over-riding existing option"). The user's value stays
      // while the new type takes it; a value never set follows the new default.
      const untouched = JSON.stringify(existing.value) === JSON.stringify(existing.spec.default);
      existing.spec = spec;
      if (untouched || typeMismatch(spec, existing.value) !== undefined) existing.value = spec.default;
      return;
    }
    const entry: Entry = { spec, value: spec.default };
    this.entries.set(spec.name, entry);
    const other = spec.exclusiveWith;
    if (other) {
      const set = (v: OptionValue): boolean => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== "" && v !== false);
      const pair = [spec.name, other].sort();
      this.addRule(pair, (get) => (set(get(spec.name)) && set(get(other)) ? `the ${pair.join(" and ")} options are mutually exclusive (as in mitmproxy): set one` : undefined));
    }
    this.takeDeferred(entry);
  }

  /**
   * A deferred value becomes the new option's value without a change event: the addon's first
   * `configure` (all options) reports it. A bad value stays deferred for `rejectDeferred`, so
   * the error comes once, at start-up, rather than from inside the addon's `load`.
   */
  private takeDeferred(entry: Entry): void {
    let text = this.deferred.get(entry.spec.name);
    if (text === undefined) return;
    // From a config file before the addon that holds it loaded (hardump is a built-in's): a relative path is the file's.
    const from = this.deferredFrom.get(entry.spec.name);
    if (entry.spec.paths && from !== undefined) text = pathsRelativeTo(path.dirname(path.resolve(from)), text, entry.spec.paths);
    try {
      entry.value = this.parse(entry, text);
      this.deferred.delete(entry.spec.name);
    } catch (err) {
      if (!(err instanceof OptionError)) throw err;
    }
  }

  /**
   * Like `update`, but a value for an option nobody has registered yet is kept until an addon
   * adds it (`-s my.ts --set my_tag=x`), as mitmproxy does with `--set` before scripts load.
   */
  updateDeferring(values: Record<string, OptionText>, from?: string): Set<string> {
    const now: Record<string, OptionText> = {};
    for (const [name, text] of Object.entries(values)) {
      if (this.entries.has(name)) now[name] = text;
      else {
        this.deferred.set(name, text);
        if (from === undefined) this.deferredFrom.delete(name);
        else this.deferredFrom.set(name, from);
      }
    }
    return withOrigin(from, () => this.update(now));
  }

  /** Once every addon has loaded: a deferred value still waiting is an unknown option or a bad value. */
  rejectDeferred(): void {
    const rest = [...this.deferred];
    this.deferred.clear();
    const from = new Map(this.deferredFrom);
    this.deferredFrom.clear();
    // One by one, so an error names the file the value came from.
    for (const [name, text] of rest) withOrigin(from.get(name), () => this.update({ [name]: text }));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Whether the option holds a file path (or paths). */
  isPathOption(name: string): boolean {
    const form = this.entries.get(name)?.spec.paths;
    return form !== undefined && form !== false;
  }

  /** How the option's paths are written (see OptionSpec.paths). */
  pathForm(name: string): OptionSpec<OptionValue>["paths"] {
    return this.entries.get(name)?.spec.paths;
  }

  /** Whether the option holds its default value. */
  isDefault(name: string): boolean {
    const e = this.entries.get(name);
    return e !== undefined && JSON.stringify(e.value) === JSON.stringify(e.spec.default);
  }

  get<T extends OptionValue = OptionValue>(name: string): T {
    const e = this.entries.get(name);
    if (!e) throw new OptionError(this.unknown(name));
    return e.value as T;
  }

  onChange(listener: (updated: Set<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Parses `text` for option `name` and sets it. Throws OptionError naming the option and the expected type. */
  setText(name: string, text: string): void {
    this.update({ [name]: text });
  }

  /**
   * Sets several options from text at once (one configure for all), all or none. A list value
   * comes from a repeatable flag: its items are taken whole for a list option (a regex may hold
   * a comma), and the last one wins for any other.
   */
  update(values: Record<string, OptionText>): Set<string> {
    const parsed = new Map<string, OptionValue>();
    for (const [name, text] of Object.entries(values)) {
      const e = this.entries.get(name);
      if (!e) throw new OptionError(this.unknown(name));
      parsed.set(name, this.parse(e, text));
    }
    return this.apply(parsed);
  }

  /**
   * Sets typed values directly (from code, not user text: an addon's `ctx.options.name = v`),
   * all or none. A value of the wrong type is refused as mitmproxy refuses it: taken, it would
   * fail later wherever the option is read, far from the addon that set it.
   */
  setValues(values: Record<string, OptionValue>): Set<string> {
    const parsed = new Map<string, OptionValue>();
    for (const [name, v] of Object.entries(values)) {
      const e = this.entries.get(name);
      if (!e) throw new OptionError(this.unknown(name));
      const wrong = typeMismatch(e.spec, v);
      if (wrong !== undefined) throw expectation(e.spec, wrong, "");
      try {
        e.spec.validate?.(v);
      } catch (err) {
        throw new OptionError(`option ${name}: ${(err as Error).message}`);
      }
      parsed.set(name, v);
    }
    return this.apply(parsed);
  }

  /**
   * A rule over several options, checked against the values they are about to have whenever one
   * of `names` is set: `why` says what is wrong with them, or undefined. (One option's own value
   * is its spec's `validate`; two that exclude each other, its `exclusiveWith`, made a rule here.)
   */
  addRule(names: readonly string[], why: (get: (name: string) => OptionValue) => string | undefined): void {
    this.rules.set([...names].sort().join(" "), { names, why });
  }

  private checkRules(parsed: Map<string, OptionValue>): void {
    // An option a rule names that is not registered (yet) has no value to conflict with.
    const get = (name: string): OptionValue => (parsed.has(name) ? (parsed.get(name) as OptionValue) : this.entries.get(name)?.value);
    for (const rule of this.rules.values()) {
      if (!rule.names.some((n) => parsed.has(n))) continue;
      const why = rule.why(get);
      if (why) throw new OptionError(why);
    }
  }

  private apply(parsed: Map<string, OptionValue>): Set<string> {
    this.checkRules(parsed);
    const updated = new Set<string>();
    for (const [name, v] of parsed) {
      const e = this.entries.get(name) as Entry;
      if (JSON.stringify(e.value) !== JSON.stringify(v)) {
        e.value = v;
        updated.add(name);
      }
    }
    if (updated.size) {
      this._generation++;
      for (const l of this.listeners) l(updated);
    }
    return updated;
  }

  /**
   * Sets the named options back to their defaults. With no names, every option goes back to how
   * pryx started: the defaults, but what the command line and config.yaml gave (`markStarted`)
   * stays, so resetting all options neither moves the listener (`-p`) nor unloads the scripts (`-s`).
   */
  reset(names: readonly string[] = []): Set<string> {
    const values: Record<string, OptionValue> = {};
    for (const n of names.length ? names : this.names()) {
      const e = this.entries.get(n);
      if (!e) throw new OptionError(this.unknown(n));
      const started = this.started.get(n);
      // A script reloaded since may have given its option another type: then its default.
      values[n] = names.length === 0 && this.started.has(n) && typeMismatch(e.spec, started) === undefined ? started : e.spec.default;
    }
    return this.setValues(values);
  }

  /** Takes the named options' values now as those pryx started with, which `reset()` keeps. */
  markStarted(names: Iterable<string>): void {
    for (const n of names) {
      const e = this.entries.get(n);
      if (e && !this.isDefault(n)) this.started.set(n, e.value);
    }
  }

  /** The options that `reset()` sets to their start-up values rather than to their defaults. */
  startedNames(): string[] {
    return [...this.started.keys()].filter((n) => this.entries.has(n)).sort();
  }

  /**
   * The values as a plain-looking object (`view.block_host`), for addons: mitmproxy's
   * `ctx.options`. Writes set typed values (and fire configure) only when `writable`.
   */
  view(writable: boolean): Record<string, OptionValue> {
    const cached = this.views.get(writable);
    if (cached) return cached;
    // mitmproxy's `ctx.options.update(name=value, ...)`: several at once, one configure.
    const update = (values: Record<string, OptionValue>): Set<string> => this.setValues(values);
    const view = new Proxy({} as Record<string, OptionValue>, {
      get: (_t, name) => (typeof name === "string" && this.has(name) ? this.get(name) : writable && name === "update" && !this.has(name) ? update : undefined),
      has: (_t, name) => typeof name === "string" && this.has(name),
      set: (_t, name, value) => {
        if (!writable || typeof name !== "string") return false;
        this.setValues({ [name]: value as OptionValue });
        return true;
      },
      ownKeys: () => this.names(),
      getOwnPropertyDescriptor: (_t, name) =>
        typeof name === "string" && this.has(name) ? { value: this.get(name), enumerable: true, configurable: true, writable } : undefined,
    });
    this.views.set(writable, view);
    return view;
  }

  private readonly views = new Map<boolean, Record<string, OptionValue>>();

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** `name = value`, what setting an option answers (see `assignmentText`). */
  assignment(name: string): string {
    return assignmentText(name, this.info(name).value);
  }

  info(name: string): OptionInfo {
    const e = this.entries.get(name);
    if (!e) throw new OptionError(this.unknown(name));
    return {
      name,
      type: e.spec.type,
      value: render(e.value),
      default: render(e.spec.default),
      help: e.spec.help,
      choices: e.spec.choices ? [...e.spec.choices] : undefined,
      ...(Array.isArray(e.value) ? { items: [...e.value] } : {}),
      ...(e.spec.paths ? { paths: e.spec.paths } : {}),
    };
  }

  all(): OptionInfo[] {
    return this.names().map((n) => this.info(n));
  }

  /** Options whose names are near `name` (a typo, a part of one), at most three. */
  near(name: string): string[] {
    return this.names()
      .filter((n) => n.includes(name) || name.includes(n) || editDistance(n, name) <= 2)
      .slice(0, 3);
  }

  private unknown(name: string): string {
    const near = this.near(name);
    return `unknown option "${name}"${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}`;
  }

  private parse(e: Entry, given: OptionText): OptionValue {
    const { spec } = e;
    if (Array.isArray(given) && spec.type === "str[]") return this.checked(spec, given.map((s) => s.trim()).filter(Boolean), joinList(given));
    const raw = Array.isArray(given) ? (given.at(-1) ?? "") : given;
    const text = raw.trim();
    const fail = (why = ""): never => {
      throw expectation(spec, JSON.stringify(raw), why);
    };
    let v: OptionValue;
    switch (spec.type) {
      case "bool": {
        if (text.toLowerCase() === "toggle") v = !e.value;
        else v = boolText(text) ?? fail();
        break;
      }
      case "int":
        if (!/^-?\d+$/.test(text)) fail();
        v = Number(text);
        break;
      case "optional int":
        if (text !== "" && !/^-?\d+$/.test(text)) fail();
        v = text === "" ? undefined : Number(text);
        break;
      case "str":
        v = raw;
        break;
      case "optional str":
      case "filter":
        v = text === "" ? undefined : raw;
        break;
      case "str[]":
        v = splitList(text);
        // A comma of a value (`en-US,en;q=0.9` in a header rule) split one entry in pieces the
        // option refuses: when the whole text passes as one entry, it is one. Not when a later
        // piece is an entry of its own: that is a list with a bad entry, which is named, where
        // taking it whole made three header rules one rule with a strange value.
        if (v.length > 1 && !passes(spec, v) && !v.slice(1).some((piece) => passes(spec, [piece])) && passes(spec, [text])) v = [text];
        break;
      case "choice":
        if (!spec.choices?.includes(text)) fail();
        v = text;
        break;
    }
    return this.checked(spec, v, raw);
  }

  /** Runs the option's own check on a parsed value; the error names the option and the text given. */
  private checked(spec: OptionSpec<OptionValue>, v: OptionValue, raw: string): OptionValue {
    // The path's own `~`: `+~/x.pryx` appends to a file in the home directory, not in a directory named ~.
    const home = (entry: string): string => mapPath(entry, spec.paths, expandHome);
    if (spec.paths) v = typeof v === "string" ? home(v) : Array.isArray(v) ? v.map(home) : v;
    try {
      spec.validate?.(v);
    } catch (err) {
      // A list parsed; one of its entries is refused, and the error names it: how lists are written is beside the point.
      const why = (err as Error).message;
      if (spec.type === "str[]") throw new OptionError(`option ${spec.name}: ${why}`);
      // Any text is a string: a string's refusal is about what it says ("expects a string" misled), and names what was typed.
      // A number out of range is as much a number as any: what it says is its range, not "expects an integer".
      if (spec.type === "str" || spec.type === "optional str" || spec.type === "int" || spec.type === "optional int") throw new OptionError(`option ${spec.name}: ${why}${why.includes(raw) ? "" : ` (given ${JSON.stringify(raw)})`}`);
      throw expectation(spec, JSON.stringify(raw), (err as Error).message);
    }
    return v;
  }
}

function passes(spec: OptionSpec<OptionValue>, v: OptionValue): boolean {
  try {
    spec.validate?.(v);
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn`; an OptionError it throws is prefixed with where the values came from. */
function withOrigin<T>(from: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (from === undefined || !(err instanceof OptionError)) throw err;
    throw new OptionError(`${from}: ${err.message}`);
  }
}

/** A boolean as options (and commands' flags) take it: true/1/yes/on (or nothing), false/0/no/off. */
export function boolText(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (["true", "1", "yes", "on", ""].includes(t)) return true;
  if (["false", "0", "no", "off"].includes(t)) return false;
  return undefined;
}

function fitsType(spec: OptionSpec<OptionValue>, v: unknown): boolean {
  switch (spec.type) {
    case "bool":
      return typeof v === "boolean";
    case "int":
      return Number.isInteger(v);
    case "optional int":
      return v === undefined || Number.isInteger(v);
    case "str":
      return typeof v === "string";
    case "optional str":
    case "filter":
      return v === undefined || typeof v === "string";
    case "str[]":
      return Array.isArray(v) && v.every((s) => typeof s === "string");
    case "choice":
      return typeof v === "string" && (spec.choices ?? []).includes(v);
  }
}

/** Why a value set from code does not fit the option's type (the value and its type), or undefined when it does. */
function typeMismatch(spec: OptionSpec<OptionValue>, v: unknown): string | undefined {
  if (fitsType(spec, v)) return undefined;
  const shown = typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(", ")}]` : String(v);
  return `${shown} (${v === null ? "null" : Array.isArray(v) ? "array" : typeof v})`;
}

/** "option NAME expects TYPE, got TEXT: WHY": the one shape of every option error; `got` as shown. */
function expectation(spec: OptionSpec<OptionValue>, got: string, why: string): OptionError {
  return new OptionError(`option ${spec.name} expects ${EXPECTS[spec.type]}${spec.choices ? ` (${spec.choices.join(", ")})` : ""}, got ${got}${why ? `: ${why}` : ""}`);
}

function render(v: OptionValue): string {
  if (v === undefined) return "";
  if (Array.isArray(v)) return joinList(v);
  return String(v);
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

/** Path option text with each relative path taken from `dir` (as mitmproxy takes config.yaml's from its directory). */
export function pathsRelativeTo(dir: string, text: OptionText, form: OptionSpec<OptionValue>["paths"] = true): OptionText {
  const resolve = (p: string): string => (p === "" || p.startsWith("~") || path.isAbsolute(p) ? p : path.resolve(dir, p));
  const entry = (e: string): string => mapPath(e, form, resolve);
  return Array.isArray(text) ? text.map(entry) : entry(text);
}

/** `name = value`, what setting an option answers; an empty value as the prompt writes it (`''`), not a line that seems cut off. */
export function assignmentText(name: string, value: string): string {
  return `${name} = ${value === "" ? "''" : value}`;
}
