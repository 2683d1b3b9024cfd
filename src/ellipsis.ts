/**
 * The one place a text cut short gets its ellipsis, in the console's rows and in what the engine
 * sends it. The spaces the cut left next to the ellipsis go: "cannot replay …" reads as a word
 * missing after a gap, "cannot replay…" as the text going on.
 */

/** `head`, the start of a longer text, then the ellipsis. */
export function cutEnd(head: string, ellipsis = "…"): string {
  return head.trimEnd() + ellipsis;
}

/** The ellipsis, then `tail`, the end of a longer text. */
export function cutStart(tail: string, ellipsis = "…"): string {
  return ellipsis + tail.trimStart();
}
