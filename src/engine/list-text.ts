/**
 * The text form of a list option (`--set ignore_hosts=…`, `:set`, the options editor): entries
 * separated by commas. Most list options hold regexes, whose own commas (`\d{1,3}`, `[,;]`,
 * `(a|b,c)`) must not split them, so a comma inside (), {} or a [] class belongs to its entry,
 * as does one in a quoted filter regex (`"a,b"`) or one written `\,`. `joinList` writes entries back so that `splitList` gives them again
 * (all but an entry with an unclosed `(` or `{`, which no valid regex or usual path has).
 */

/** Calls `onComma` with the index of each comma that separates entries. */
function scan(text: string, onComma: (index: number) => void): void {
  let depth = 0;
  let inClass = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (quote) quote = c === quote ? undefined : quote;
    else if (inClass) inClass = c !== "]";
    else if (c === '"' || c === "'") quote = c;
    else if (c === "[") inClass = true;
    else if (c === "(" || c === "{") depth++;
    else if ((c === ")" || c === "}") && depth > 0) depth--;
    else if (c === "," && depth === 0) onComma(i);
  }
}

export function splitList(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  const take = (end: number): void => {
    const entry = text.slice(start, end).replaceAll("\\,", ",").trim();
    if (entry) out.push(entry);
    start = end + 1;
  };
  scan(text, take);
  take(text.length);
  return out;
}

/** Where the entry holding `cursor` starts and ends in `text`, between the commas that separate entries. */
export function entryAt(text: string, cursor: number): { start: number; end: number } {
  let start = 0;
  let end = text.length;
  scan(text, (i) => {
    if (i < cursor) start = i + 1;
    else end = Math.min(end, i);
  });
  return { start, end };
}

export function joinList(entries: readonly string[]): string {
  return entries
    .map((entry) => {
      const commas: number[] = [];
      scan(entry, (i) => commas.push(i));
      let escaped = entry;
      for (const i of commas.reverse()) escaped = `${escaped.slice(0, i)}\\${escaped.slice(i)}`;
      return escaped;
    })
    .join(",");
}
