import type { ContentView, Line, LineSink, Segment } from "./types.ts";
import { MAX_LINE_BYTES, decodeLenient, pushTextLines, visible } from "./text.ts";

/**
 * One declaration per line with rules indented by nesting, which is what makes minified CSS readable.
 * Whitespace outside strings is collapsed; strings, comments and url(...) contents pass through unchanged.
 */

const INDENT = "  ";
const DECLARATION = /^(--[^\s:]+|-?[A-Za-z_][-\w]*)\s*:\s*([\s\S]*)$/;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c;
}

function pushAt(sink: LineSink, depth: number, segs: Segment[]): void {
  const line: Line = depth > 0 ? [{ text: INDENT.repeat(depth) }, ...segs] : segs;
  sink.push(line);
}

export const cssView: ContentView = {
  title: "CSS",
  render(body, _ctx, sink) {
    const n = body.length;
    let depth = 0;
    let parens = 0;
    let stmt = "";
    // Whitespace is collapsed lazily: one space is added only if more text follows.
    let spacePending = false;
    let runStart = -1;
    let pos = 0;
    const col = (): number => depth * INDENT.length;

    const append = (text: string): void => {
      if (spacePending) stmt += " ";
      spacePending = false;
      stmt += text;
      // Input that is not really CSS may never reach a ";" or "{"; it is shown in bounded pieces instead.
      if (stmt.length >= MAX_LINE_BYTES) emitStatement("");
    };
    const endRun = (end: number): void => {
      if (runStart >= 0) append(decodeLenient(body.subarray(runStart, end)));
      runStart = -1;
    };
    const emitStatement = (terminator: string): void => {
      const s = stmt.trim();
      stmt = "";
      spacePending = false;
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
        endRun(pos);
        const close = body.indexOf(0x2f, pos + 2);
        let end = n;
        for (let i = close; i >= 0; i = body.indexOf(0x2f, i + 1)) {
          if (body[i - 1] === 0x2a && i - 1 >= pos + 2) {
            end = i + 1;
            break;
          }
        }
        pushTextLines(body, pos, end, sink, INDENT.repeat(depth), "dim", true);
        pos = end;
        continue;
      }
      if (c === 0x22 || c === 0x27) {
        endRun(pos);
        let i = pos + 1;
        // An unescaped newline ends a CSS string (a "bad string"), so one stray quote cannot swallow the file.
        const limit = Math.min(n, pos + MAX_LINE_BYTES);
        while (i < limit && body[i] !== c && body[i] !== 0x0a) i += body[i] === 0x5c ? 2 : 1;
        const end = Math.min(i + 1, n);
        append(decodeLenient(body.subarray(pos, end)));
        pos = end;
        continue;
      }
      if (isWs(c)) {
        endRun(pos);
        while (pos < n && isWs(body[pos]!)) pos++;
        spacePending = stmt !== "";
        continue;
      }
      if (c === 0x28) parens++;
      else if (c === 0x29) parens = Math.max(0, parens - 1);
      else if (parens === 0 && (c === 0x7b || c === 0x3b || c === 0x7d)) {
        endRun(pos);
        pos++;
        if (c === 0x7b) {
          const selector = stmt.trim();
          stmt = "";
          pushAt(sink, depth, [{ text: visible(selector, col()), style: "heading" }, { text: selector ? " {" : "{", style: "punct" }]);
          depth++;
        } else if (c === 0x3b) emitStatement(";");
        else {
          emitStatement("");
          depth = Math.max(0, depth - 1);
          pushAt(sink, depth, [{ text: "}", style: "punct" }]);
        }
        continue;
      }
      if (runStart < 0) runStart = pos;
      else if (pos - runStart >= MAX_LINE_BYTES && (c & 0xc0) !== 0x80) {
        endRun(pos);
        runStart = pos;
      }
      pos++;
    }
    if (!sink.truncated) {
      endRun(n);
      emitStatement("");
    }
  },
};
