/**
 * What Tab does to a line being edited, given what may complete the word at the cursor: the `:`
 * prompt and the options screen's in-place editor both complete by it, so that an option's value
 * completes the same in either (one that fits is filled in, several are cycled through).
 */
import * as le from "./line-edit.ts";
import { commonPrefix, expandHome, lastPathPart } from "./path-complete.ts";

/** What Tab may put in place of the word at [start, end), which reads `typed` up to the cursor. */
export interface Completions {
  start: number;
  end: number;
  candidates: string[];
  typed: string;
  /** File paths, which complete to their common prefix first and list by their last part. */
  paths: boolean;
  /** What the bar lists each candidate as, when not by itself or its last path part (a filter operator's help). */
  labels?: string[];
  /**
   * Each candidate is a whole value (an option's, or an entry of a list option's), which nothing
   * follows: one filled in at the line's end gets no space after it, as a word does.
   */
  wholeValue?: boolean;
}

/**
 * Completion candidates being cycled with Tab, the names they are listed by (a path's last part),
 * the current one's index, and the line they apply to.
 */
export interface CompletionCycle {
  readonly candidates: readonly string[];
  readonly labels: readonly string[];
  readonly index: number;
  readonly start: number;
  readonly applied: le.LineState;
}

/** How a candidate is written into the line: quoted as a command's argument, or as it is. */
export type QuoteCandidate = (candidate: string) => string;

/** Candidates listed at most, before how many there are in all. */
const LISTED_CANDIDATES = 30;

/** Tab (dir 1) or shift-Tab (-1) again on the line a cycle left: the next candidate, or undefined when the line is no longer that one. */
export function cycleCompletion(line: le.LineState, cycle: CompletionCycle | undefined, dir: 1 | -1, quote: QuoteCandidate): { line: le.LineState; cycle: CompletionCycle } | undefined {
  if (!cycle || cycle.applied !== line) return undefined;
  const index = (cycle.index + dir + cycle.candidates.length) % cycle.candidates.length;
  const next = le.replaceRange(line, cycle.start, line.cursor, quote(cycle.candidates[index]!));
  return { line: next, cycle: { ...cycle, index, applied: next } };
}

/**
 * A first Tab on `line`: the one candidate filled in (a space after it at the line's end, not after
 * a whole value nor a directory, so that the next Tab goes on inside it); paths as far as they all agree; else the
 * first (or, for shift-Tab, last) of several, which the next Tab cycles from. `hint` says what was
 * found: the candidates listed, the one taken's label, or that there is none.
 */
export function firstCompletion(line: le.LineState, found: Completions, dir: 1 | -1, quote: QuoteCandidate): { line: le.LineState; cycle: CompletionCycle | undefined; hint: string | undefined } {
  const { start, end, candidates, typed, paths, labels: described, wholeValue } = found;
  if (candidates.length === 0) return { line, cycle: undefined, hint: "no completions" };
  if (candidates.length === 1) {
    const only = candidates[0]!;
    const atEnd = end >= line.value.length && !wholeValue && !(paths && only.endsWith("/"));
    return { line: le.replaceRange(line, start, end, quote(only) + (atEnd ? " " : "")), cycle: undefined, hint: described?.[0] };
  }
  const labels = described ?? (paths ? candidates.map(lastPathPart) : candidates);
  const hint = labels.slice(0, LISTED_CANDIDATES).join("  ") + (candidates.length > LISTED_CANDIDATES ? `  … (${candidates.length})` : "");
  // Paths first complete as far as all the matches agree, as a shell does; the next Tab cycles.
  const common = paths ? commonPrefix(candidates) : "";
  if (common.length > expandHome(typed).length) return { line: le.replaceRange(line, start, end, quote(common)), cycle: undefined, hint };
  const index = dir === 1 ? 0 : candidates.length - 1;
  const applied = le.replaceRange(line, start, end, quote(candidates[index]!));
  return { line: applied, cycle: { candidates, labels, index, start, applied }, hint };
}

/**
 * Completions found in the text of a prompt's word `word` (unquoted, up to the cursor), made
 * completions of the whole word: the prompt quotes a candidate as one argument, so each carries
 * the part of the word before what it completes (`a.ts,` before a list's next path).
 */
export function asWholeWord(word: { start: number; end: number; value: string }, found: Completions): Completions {
  const head = word.value.slice(0, found.start);
  const whole: Completions = { start: word.start, end: word.end, typed: head + found.typed, candidates: found.candidates.map((c) => head + c), paths: found.paths };
  if (found.labels) whole.labels = found.labels;
  return whole;
}
