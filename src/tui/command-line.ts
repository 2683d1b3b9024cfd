/**
 * The console's reading of the command language: words separated by spaces, '…' or "…" quoting with
 * backslash before the quote character. The engine parses the lines it runs itself; the UI only needs
 * this to run console.* commands, to replace @focus, and to find the word being completed.
 */

import { deleteToStart, line, type LineState } from "./line-edit.ts";

export class CommandSyntaxError extends Error {}

export interface Token {
  /** The word with its quotes removed. */
  value: string;
  /** Offsets of the word in the line, quotes included. */
  start: number;
  end: number;
  quoted: boolean;
}

/**
 * Splits a command line into words. With `partial`, an unterminated quote is accepted (the line is
 * still being typed); otherwise it is a CommandSyntaxError.
 */
export function tokenize(line: string, partial = false): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) break;
    const start = i;
    let value = "";
    let quoted = false;
    while (i < n && !isSpace(line[i]!)) {
      const ch = line[i]!;
      if (ch === "'" || ch === '"') {
        quoted = true;
        const q = ch;
        // The quote itself is what the message points at: a word like `intercept'` starts columns before it.
        const opened = i;
        i++;
        let closed = false;
        while (i < n) {
          const c = line[i]!;
          if (c === "\\" && (line[i + 1] === q || line[i + 1] === "\\")) {
            value += line[i + 1];
            i += 2;
            continue;
          }
          if (c === q) {
            closed = true;
            i++;
            break;
          }
          value += c;
          i++;
        }
        if (!closed && !partial) throw new CommandSyntaxError(`unterminated ${q} quote at column ${opened + 1}: add the closing ${q}`);
        continue;
      }
      value += ch;
      i++;
    }
    out.push({ value, start, end: i, quoted });
  }
  return out;
}

function isSpace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r";
}

/** Quotes a word so that tokenize() (and the engine) read it back unchanged; bare when it needs no quotes. */
export function quoteArg(s: string): string {
  if (s.length > 0 && !/[\s'"\\]/.test(s)) return s;
  return quoteAlways(s);
}

/** Always quoted, preferring the quote character that needs no escaping. */
export function quoteAlways(s: string): string {
  if (!s.includes("'")) return `'${s}'`;
  if (!s.includes('"')) return `"${s}"`;
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function joinArgs(args: readonly string[]): string {
  return args.map(quoteArg).join(" ");
}

/**
 * Replaces every unquoted `@focus` argument with the given flow id, leaving the rest of the line as
 * typed. The command's own name stays: a line typed as `@focus request.url` is an unknown command
 * "@focus", which says what went wrong, where a flow's id in its place did not.
 */
export function replaceFocus(line: string, id: string | undefined): string {
  const toks = tokenize(line, true).filter((t, i) => i > 0 && !t.quoted && t.value === "@focus");
  if (toks.length === 0) return line;
  if (id === undefined) throw new CommandSyntaxError("no flow is in focus");
  let out = line;
  for (let k = toks.length - 1; k >= 0; k--) {
    const t = toks[k]!;
    out = out.slice(0, t.start) + id + out.slice(t.end);
  }
  return out;
}

/** The word the cursor is in or right after (empty at a fresh word), and its index among the words. */
export function wordAt(line: string, cursor: number): { index: number; start: number; end: number; value: string } {
  const toks = tokenize(line.slice(0, cursor), true);
  const last = toks[toks.length - 1];
  if (!last || last.end < cursor) {
    return { index: toks.length, start: cursor, end: cursor, value: "" };
  }
  const full = tokenize(line, true).find((t) => t.start === last.start);
  return { index: toks.length - 1, start: last.start, end: full?.end ?? cursor, value: last.value };
}

/**
 * The quote the cursor is inside when that quote is closed later in the line, else undefined. Only
 * then is a typed quote character certainly text: closing the quote there would leave the one
 * after the cursor unterminated.
 */
function closedQuoteAt(line: string, cursor: number): string | undefined {
  const quote = openQuoteBefore(line, cursor)?.quote;
  if (quote === undefined) return undefined;
  return closingQuote(line, cursor, quote) === undefined ? undefined : quote;
}

/** Where the quote open at `cursor` closes, escapes read as the parser reads them; undefined if it does not. */
function closingQuote(line: string, cursor: number, quote: string): number | undefined {
  for (let i = cursor; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && (line[i + 1] === quote || line[i + 1] === "\\")) i++;
    else if (c === quote) return i;
  }
  return undefined;
}

/** The quote still open at the cursor and where it opened, or undefined. */
function openQuoteBefore(line: string, cursor: number): { quote: string; at: number } | undefined {
  let open: { quote: string; at: number } | undefined;
  for (let i = 0; i < cursor; i++) {
    const c = line[i]!;
    if (open === undefined) {
      if (c === "'" || c === '"') open = { quote: c, at: i };
    } else if (c === "\\" && (line[i + 1] === open.quote || line[i + 1] === "\\") && i + 1 < cursor) i++;
    else if (c === open.quote) open = undefined;
  }
  return open;
}

/**
 * What to insert for text typed at the cursor of a command line: inside a quoted argument the
 * prompt opened (as `;` opens `flow.comment @focus ''`), the quote character and backslash are
 * escaped, so `it's fine` is a comment and not a quoting error; everywhere else the text as typed.
 */
export function typedText(line: string, cursor: number, text: string): string {
  const q = closedQuoteAt(line, cursor);
  if (q === undefined) return text;
  let out = "";
  for (const ch of text) out += ch === q || ch === "\\" ? `\\${ch}` : ch;
  return out;
}

/**
 * The parameter that argument `index` (0: the first after the command name) fills in a signature
 * such as "save.file flows path" or "set option [value]", without its brackets or the `*` of a
 * parameter taking the rest of the line; undefined past the last one.
 */
export function signatureParam(signature: string, index: number): string | undefined {
  const params = signature.trim().split(/\s+/).slice(1);
  const last = params[params.length - 1];
  const p = params[index] ?? (last?.startsWith("*") ? last : undefined);
  return p?.replace(/^\[|\]$/g, "").replace(/^\*/, "");
}

/**
 * ctrl-u on the command line: inside a quoted argument (the `f` prompt opens on
 * `set view_filter '…'` with the cursor before the closing quote), it clears the argument up to
 * the cursor, or, at its start, what is left of it, and keeps the command and both quotes, so
 * ctrl-u then typing replaces a filter (readline's whole-line kill left a lone quote, and what was
 * typed next landed outside it). Outside quotes it deletes to the start of the line.
 */
export function deleteToArgumentStart(s: LineState): LineState {
  const open = openQuoteBefore(s.value, s.cursor);
  if (open === undefined) return deleteToStart(s);
  const from = open.at + 1;
  if (from < s.cursor) return line(s.value.slice(0, from) + s.value.slice(s.cursor), from);
  const close = closingQuote(s.value, s.cursor, open.quote);
  return line(s.value.slice(0, from) + (close === undefined ? "" : s.value.slice(close)), from);
}
