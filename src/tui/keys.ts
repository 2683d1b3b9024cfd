/**
 * Key names: one canonical spelling shared by keybindings.json, the router and the help screen.
 *
 * The spelling follows mitmproxy's keymap ("j", "G", "ctrl f", "shift tab", "enter", "page down"),
 * so a mitmproxy user can read and write bindings without learning a new notation.
 */
import type { Key } from "ink";

/** Named keys (not printable characters), in their canonical spelling. */
const NAMED = new Set([
  "enter",
  "esc",
  "tab",
  "space",
  "backspace",
  "delete",
  "up",
  "down",
  "left",
  "right",
  "home",
  "end",
  "pageup",
  "pagedown",
  "insert",
  ...Array.from({ length: 12 }, (_, i) => `f${i + 1}`),
]);

/** Spellings people write for the same key. */
const ALIASES: Record<string, string> = {
  return: "enter",
  escape: "esc",
  "page up": "pageup",
  "page down": "pagedown",
  pgup: "pageup",
  pgdn: "pagedown",
  pgdown: "pagedown",
  del: "delete",
  " ": "space",
};

const MODIFIERS = ["ctrl", "meta", "shift"] as const;
type Modifier = (typeof MODIFIERS)[number];
const MODIFIER_ALIASES: Record<string, Modifier> = { ctrl: "ctrl", control: "ctrl", meta: "meta", alt: "meta", shift: "shift" };

export class KeySpecError extends Error {}

/**
 * Parses a key as written in a keybinding ("ctrl f", "ctrl+f", "G", "page down", "shift tab")
 * into its canonical name. Throws KeySpecError naming the spec when it is not a key.
 */
export function parseKeySpec(spec: string): string {
  if (typeof spec !== "string" || spec.length === 0) throw new KeySpecError("empty key");
  // A lone printable character is the key itself, including " ", "+" and "-".
  if ([...spec].length === 1) {
    if (spec === " ") return "space";
    if (isControlChar(spec)) throw new KeySpecError(`key ${JSON.stringify(spec)} is a control character; write e.g. "ctrl a"`);
    return spec;
  }
  const lower = spec.trim().toLowerCase();
  const alias = ALIASES[lower];
  if (alias) return alias;
  if (NAMED.has(lower)) return lower;
  const parts = splitModifiers(spec.trim());
  if (!parts) throw new KeySpecError(`cannot parse key ${JSON.stringify(spec)}`);
  const { mods, base } = parts;
  let name: string;
  if ([...base].length === 1) name = base;
  else {
    const b = base.toLowerCase();
    const resolved = ALIASES[b] ?? (NAMED.has(b) ? b : undefined);
    if (!resolved) throw new KeySpecError(`unknown key name ${JSON.stringify(base)} in ${JSON.stringify(spec)}`);
    name = resolved;
  }
  if (mods.size === 0) return name;
  if (mods.has("ctrl") && [...name].length === 1) name = name.toLowerCase();
  return canonical(mods, name);
}

function splitModifiers(spec: string): { mods: Set<Modifier>; base: string } | undefined {
  const mods = new Set<Modifier>();
  let rest = spec;
  for (;;) {
    const m = /^([a-zA-Z]+)[ +-](.+)$/.exec(rest);
    if (!m) break;
    const mod = MODIFIER_ALIASES[m[1]!.toLowerCase()];
    if (!mod) break;
    mods.add(mod);
    rest = m[2]!.trimStart();
    if (rest.length === 0) return undefined;
  }
  if (mods.size === 0) return undefined;
  return { mods, base: rest };
}

function canonical(mods: ReadonlySet<Modifier>, name: string): string {
  const parts: string[] = [];
  for (const m of MODIFIERS) if (mods.has(m)) parts.push(m);
  parts.push(name);
  return parts.join(" ");
}

function isControlChar(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return c < 0x20 || c === 0x7f;
}

/** One key press as the router sees it: its canonical name, plus the text it would type. */
export interface KeyPress {
  /** Canonical name, e.g. "j", "G", "ctrl f", "enter", "shift tab". */
  name: string;
  /** The printable text the key types, or "" for a named or modified key. */
  text: string;
}

/**
 * Turns what Ink's useInput reports into key presses. Several characters arrive as one input when
 * the terminal delivers them in one read (key repeat while the main thread was busy, or a paste);
 * they are split so that each still runs its binding.
 */
export function keyPressesFromInk(input: string, key: Key, sequence = ""): KeyPress[] {
  const mods = new Set<Modifier>();
  if (key.ctrl) mods.add("ctrl");
  const special = RAW_ONLY[sequence] ?? specialName(key);
  if (special) {
    // Ink reports escape itself as meta, and arrows typed with Alt vary by terminal: bind ctrl and shift only.
    if (key.shift && special !== "enter") mods.add("shift");
    return [{ name: canonical(mods, special), text: "" }];
  }
  if (input.length === 0) return [];
  if (key.ctrl && [...input].length === 1) return [{ name: canonical(new Set(["ctrl"]), input.toLowerCase()), text: "" }];
  if (key.meta && [...input].length === 1) {
    return [{ name: canonical(new Set(["meta"]), input === " " ? "space" : input), text: "" }];
  }
  const out: KeyPress[] = [];
  for (const ch of input) out.push(keyPressFromChar(ch));
  return out;
}

/**
 * Keys Ink reads but reports with no flag and no input (function keys, Insert) or folds into
 * another (Delete into Backspace), by the sequence the terminal sent: xterm's and the Linux
 * console's, as tmux and SSH clients pass them on.
 */
const RAW_ONLY: Record<string, string> = {
  "\x1b[2~": "insert",
  "\x1b[3~": "delete",
  "\x1bOP": "f1",
  "\x1bOQ": "f2",
  "\x1bOR": "f3",
  "\x1bOS": "f4",
  "\x1b[11~": "f1",
  "\x1b[12~": "f2",
  "\x1b[13~": "f3",
  "\x1b[14~": "f4",
  "\x1b[[A": "f1",
  "\x1b[[B": "f2",
  "\x1b[[C": "f3",
  "\x1b[[D": "f4",
  "\x1b[[E": "f5",
  "\x1b[15~": "f5",
  "\x1b[17~": "f6",
  "\x1b[18~": "f7",
  "\x1b[19~": "f8",
  "\x1b[20~": "f9",
  "\x1b[21~": "f10",
  "\x1b[23~": "f11",
  "\x1b[24~": "f12",
};

function specialName(key: Key): string | undefined {
  if (key.escape) return "esc";
  if (key.return) return "enter";
  if (key.tab) return "tab";
  if (key.upArrow) return "up";
  if (key.downArrow) return "down";
  if (key.leftArrow) return "left";
  if (key.rightArrow) return "right";
  if (key.pageUp) return "pageup";
  if (key.pageDown) return "pagedown";
  if (key.home) return "home";
  if (key.end) return "end";
  // Terminals send DEL (0x7f) for the Backspace key, and Ink calls that "delete": both erase backwards.
  if (key.backspace || key.delete) return "backspace";
  return undefined;
}

/** A single character from a multi-character input. */
export function keyPressFromChar(ch: string): KeyPress {
  if (ch === " ") return { name: "space", text: " " };
  if (ch === "\r" || ch === "\n") return { name: "enter", text: "" };
  if (ch === "\t") return { name: "tab", text: "" };
  if (ch === "\x7f" || ch === "\b") return { name: "backspace", text: "" };
  if (ch === "\x1b") return { name: "esc", text: "" };
  const c = ch.codePointAt(0) ?? 0;
  if (c < 0x20) return { name: `ctrl ${String.fromCharCode(c + 96)}`, text: "" };
  return { name: ch, text: ch };
}

const DISPLAY: Record<string, string> = {
  enter: "⏎",
  space: "␣",
  left: "←",
  right: "→",
  up: "↑",
  down: "↓",
  pageup: "PgUp",
  pagedown: "PgDn",
  home: "Home",
  end: "End",
  esc: "Esc",
  tab: "Tab",
  backspace: "Bksp",
};

/** The short label the help screen shows for a key. */
export function displayKey(name: string, ascii = false): string {
  if (ascii) return name;
  const parts = name.split(" ");
  const base = parts.pop()!;
  const shown = DISPLAY[base] ?? base;
  return parts.length ? `${parts.join("-")}-${shown}` : shown;
}
