import fs from "node:fs";
import { escapedToBytes } from "../../escapes.ts";
import { compileFilter, type Filter, type FilterableFlow } from "../filter/index.ts";
import type { Flow } from "../flow/flow.ts";
import type { OptionValue } from "../options.ts";
import type { Loader } from "../hooks/loader.ts";
import type { Log } from "../log.ts";
import { expandHome } from "../../home-path.ts";

/**
 * mitmproxy's option rules: `[/flow-filter]/subject/replacement`, where the first character is
 * the separator (any character, so a URL can use `|`), the filter is optional (every flow), and
 * a replacement starting with `@` is read from that file each time it is used.
 */
export interface Spec {
  readonly text: string;
  readonly filter: Filter | undefined;
  readonly subject: string;
  readonly replacement: string;
}

/** `filterRequired` is block_list's form, `/filter/value`: the subject is the value and there is no replacement. */
export function parseSpec(text: string, filterRequired = false): Spec {
  const sep = text[0];
  if (!sep) throw new Error("an empty rule");
  // A letter or digit is never meant as the separator: most often a comma of the value split the list there.
  if (/[\p{L}\p{N}]/u.test(sep)) throw new Error(`rule ${JSON.stringify(text)}: a rule begins with the character that separates its parts, as in ${filterRequired ? "/filter/value" : "/filter/subject/replacement"} (if a comma of a value cut it from the rest, write it \\,)`);
  const parts = text.slice(1).split(sep);
  let filterText: string | undefined;
  let subject: string;
  let replacement = "";
  if (filterRequired) {
    if (parts.length !== 2) throw new Error(`rule ${JSON.stringify(text)}: expected ${sep}filter${sep}value`);
    [filterText, subject] = parts as [string, string];
  } else if (parts.length === 2) {
    [subject, replacement] = parts as [string, string];
  } else if (parts.length > 2) {
    // The replacement is the rest, separators and all (a path or a header value may hold one).
    [filterText, subject] = parts as [string, string];
    replacement = parts.slice(2).join(sep);
  } else throw new Error(`rule ${JSON.stringify(text)}: expected [${sep}filter]${sep}subject${sep}replacement`);
  let filter: Filter | undefined;
  if (filterText !== undefined && filterText !== "") {
    try {
      filter = compileFilter(filterText);
    } catch (err) {
      throw new Error(`rule ${JSON.stringify(text)}: bad filter: ${(err as Error).message}`);
    }
  }
  return { text, filter, subject, replacement };
}

function specMatches(spec: Spec, flow: Flow): boolean {
  return !spec.filter || spec.filter(flow as unknown as FilterableFlow);
}

/** The file an `@file` replacement names, `~` expanded (mitmproxy expands it); undefined for a literal replacement. */
function replacementFile(spec: Spec): string | undefined {
  return spec.replacement.startsWith("@") ? expandHome(spec.replacement.slice(1)) : undefined;
}

/** The replacement, read from its file when it starts with `@` (read at each use, as mitmproxy does). */
function replacementOf(spec: Spec): Buffer {
  const file = replacementFile(spec);
  return file !== undefined ? fs.readFileSync(file) : Buffer.from(escapedToBytes(spec.replacement), "latin1");
}

/**
 * A rule's `@file` must be readable when the rule is set, as mitmproxy refuses "Invalid file path":
 * a misspelt path was found only at the first request it matched, on every one of them.
 */
export function checkReplacementFile(spec: Spec): void {
  const file = replacementFile(spec);
  if (file === undefined) return;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new Error(`rule ${JSON.stringify(spec.text)}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
}

/** Python's named groups, as mitmproxy users write them, in JS's spelling. */
function jsPattern(python: string): string {
  return python.replace(/\(\?P<(\w+)>/g, "(?<$1>").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
}

const compiled = new WeakMap<Spec, Map<string, RegExp>>();

/**
 * A rule's subject as a regex, compiled once per rule and flags (rules run on every request).
 * `bytes` matches a body as mitmproxy's bytes regexes do: the typed pattern as its UTF-8 bytes,
 * against the body as a byte string. Checked when the rule is set, so a bad one names the rule.
 */
export function subjectRegex(spec: Spec, flags = "s", bytes = false): RegExp {
  let byFlags = compiled.get(spec);
  if (!byFlags) compiled.set(spec, (byFlags = new Map()));
  const key = `${flags}${bytes ? "|bytes" : ""}`;
  let re = byFlags.get(key);
  if (!re) {
    const source = bytes ? Buffer.from(spec.subject, "utf8").toString("latin1") : spec.subject;
    try {
      re = new RegExp(jsPattern(source), flags);
    } catch (err) {
      throw new Error(`rule ${JSON.stringify(spec.text)}: bad regex: ${(err as Error).message}`);
    }
    byFlags.set(key, re);
  }
  return re;
}

/** An option's validate: every rule parses (and `extra` accepts it), so a bad rule is an OptionError naming it. */
function validRules(filterRequired: boolean, extra: (spec: Spec) => void = () => undefined): (v: OptionValue) => void {
  return (v) => {
    for (const text of v as string[]) extra(parseSpec(text, filterRequired));
  };
}

/** The option's rules, parsed once per change of the option. */
class Rules {
  private cached: { texts: readonly string[]; specs: Spec[] } | undefined;

  constructor(private readonly filterRequired = false) {}

  of(texts: readonly string[]): Spec[] {
    if (this.cached?.texts !== texts) this.cached = { texts, specs: texts.map((t) => parseSpec(t, this.filterRequired)) };
    return this.cached.specs;
  }
}

/** mitmproxy's replacement syntax (\1, \g<name>) in JS's ($1, $<name>); `$` is escaped first. */
export function jsReplacement(python: string): string {
  return python.replace(/\$/g, "$$$$").replace(/\\g<(\w+)>/g, "$$<$1>").replace(/\\(\d)/g, "$$$1");
}

/**
 * What the rule options' addons share (block_list, map_remote, map_local, modify_body,
 * modify_headers): one `str[]` option of rules named after the addon, checked when set and
 * parsed once per change, and the rules whose filter a flow matches.
 */
export abstract class RuleAddon {
  private options: Readonly<Record<string, OptionValue>> = {};
  private readonly rules: Rules;

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly form: { filterRequired?: boolean; check?: (spec: Spec) => void; log?: Log } = {},
  ) {
    this.rules = new Rules(form.filterRequired);
  }

  load(loader: Loader): void {
    loader.add_option(this.name, "str[]", [], this.help, undefined, { validate: validRules(this.form.filterRequired ?? false, this.form.check) });
    this.options = loader.options;
  }

  /** The rules whose filter the flow matches, in order; each filter is judged when its rule's turn comes. */
  protected *matching(flow: Flow): Generator<Spec> {
    for (const s of this.rules.of(this.options[this.name] as string[])) if (specMatches(s, flow)) yield s;
  }

  /** Says what went wrong with one rule on this flow; the other rules still apply. */
  protected warn(s: Spec, what: string): void {
    this.form.log?.warn(`${this.name}: ${s.text}: ${what}`);
  }

  /** A rule's replacement; an `@file` that cannot be read is logged and the rule skipped. */
  protected replacement(s: Spec): Buffer | undefined {
    try {
      return replacementOf(s);
    } catch (err) {
      this.form.log?.warn(`${this.name}: could not read the replacement file of ${s.text}: ${(err as Error).message}`);
      return undefined;
    }
  }
}
