import type { ContentView, Line, LineSink, Segment } from "./types.ts";
import { MAX_LINE_BYTES, decodeLenient, pushTextLines, visible } from "./text.ts";

/**
 * One declaration per line with rules indented by nesting, which is what makes minified CSS readable.
 * Whitespace outside strings is collapsed; strings, comments and url(...) contents pass through unchanged.
 */

const INDENT = "  ";
// A module-local copy: the loader may turn imported bindings into getters, too slow for a per-byte loop.
const LINE_LIMIT = MAX_LINE_BYTES;
const DECLARATION = /^(--[^\s:]+|-?[A-Za-z_][-\w]*)\s*:\s*([\s\S]*)$/;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c;
}

function pushAt(sink: LineSink, depth: number, segs: Segment[]): void {
  const line: Line = depth > 0 ? [{ text: INDENT.repeat(depth) }, ...segs] : segs;
  sink.push(line);
}

// Strings and comments are matched first so that whitespace inside a string survives and a comment
// (already shown on its own line) is dropped from the statement it interrupted.
const COLLAPSE = /("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)|\/\*[\s\S]*?(?:\*\/|$)|\s+/g;

export const cssView: ContentView = {
  title: "CSS",
  render(body, _ctx, sink) {
    const n = body.length;
    let depth = 0;
    let parens = 0;
    /** Where the statement being read starts, -1 before its first non-space byte. */
    let stmtStart = -1;
    let pos = 0;
    const col = (): number => depth * INDENT.length;

    // Decoding once per statement rather than per token keeps the scan loop cheap.
    const takeStatement = (end: number): string => {
      if (stmtStart < 0) return "";
      const raw = decodeLenient(body.subarray(stmtStart, end));
      stmtStart = -1;
      return raw.replace(COLLAPSE, (m, str: string | undefined) => str ?? " ").trim();
    };
    const emitStatement = (end: number, terminator: string): void => {
      const s = takeStatement(end);
      if (!s) return;
      const term: Segment[] = terminator ? [{ text: terminator, style: "punct" }] : [];
      const m = depth > 0 ? DECLARATION.exec(s) : null;
      if (m) {
        pushAt(sink, depth, [
          { text: visible(m[1]!), style: "key" },
          { text: ": ", style: "punct" },
          { text: visible(m[2]!, col() + m[1]!.length + 2) },
          ...term,
        ]);
      } else pushAt(sink, depth, [{ text: visible(s, col()) }, ...term]);
    };

    while (pos < n && !sink.truncated) {
      const c = body[pos]!;
      if (c === 0x2f && body[pos + 1] === 0x2a) {
        let end = n;
        for (let i = body.indexOf(0x2f, pos + 3); i >= 0; i = body.indexOf(0x2f, i + 1)) {
          if (body[i - 1] === 0x2a) {
            end = i + 1;
            break;
          }
        }
        pushTextLines(body, pos, end, sink, INDENT.repeat(depth), "dim", true);
        pos = end;
        continue;
      }
      if (isWs(c)) {
        pos++;
        continue;
      }
      if (stmtStart < 0) stmtStart = pos;
      else if (pos - stmtStart >= LINE_LIMIT && (c & 0xc0) !== 0x80) {
        // Input that is not really CSS may never reach a ";" or "{"; it is shown in bounded pieces instead.
        emitStatement(pos, "");
        stmtStart = pos;
      }
      if (c === 0x22 || c === 0x27) {
        let i = pos + 1;
        // An unescaped newline ends a CSS string (a "bad string"), so one stray quote cannot swallow the file.
        const limit = Math.min(n, pos + LINE_LIMIT);
        while (i < limit && body[i] !== c && body[i] !== 0x0a) i += body[i] === 0x5c ? 2 : 1;
        pos = Math.min(i + 1, n);
        continue;
      }
      if (c === 0x28) parens++;
      else if (c === 0x29) parens = Math.max(0, parens - 1);
      else if (parens === 0 && (c === 0x7b || c === 0x3b || c === 0x7d)) {
        if (stmtStart === pos) stmtStart = -1;
        if (c === 0x7b) {
          const selector = takeStatement(pos);
          pushAt(sink, depth, [{ text: visible(selector, col()), style: "heading" }, { text: selector ? " {" : "{", style: "punct" }]);
          depth++;
        } else if (c === 0x3b) emitStatement(pos, ";");
        else {
          emitStatement(pos, "");
          depth = Math.max(0, depth - 1);
          pushAt(sink, depth, [{ text: "}", style: "punct" }]);
        }
        pos++;
        continue;
      }
      pos++;
    }
    if (!sink.truncated) emitStatement(n, "");
  },
};
