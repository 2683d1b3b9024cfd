import os from "node:os";

/**
 * Expands a leading `~` or `~/` (as a shell would for the user's own home). A quoted `'~/x'`,
 * `--set scripts=~/x` or a path typed at the console's prompt reaches pryx unexpanded, and
 * mitmproxy expands it in every path it is given.
 */
export function expandHome(word: string, home = os.homedir()): string {
  if (word !== "~" && !word.startsWith("~/")) return word;
  // Concatenated rather than joined: a trailing "/" says "inside", which join would drop.
  return `${home.replace(/\/+$/, "")}/${word.slice(2)}`;
}
